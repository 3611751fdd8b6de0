/*
 * svmsg_wait.c - waiting for a System V message, which has neither a timed
 * receive nor a descriptor to poll.
 *
 * Direct mode (the default).  The receiver blocks in msgrcv on its own
 * message type, with a watcher (watch.c) armed: when the peer dies or the
 * deadline passes, the watcher thread puts a TAG_WAKE onto the receiver's
 * type and msgrcv returns.  Cost: two uncontended mutex round trips per
 * blocking receive.  A timeout of 0 is one msgrcv(IPC_NOWAIT).
 *
 * Pump mode (after ipck_pollfd).  A pump thread blocks in msgrcv and puts
 * each message into the channel's one-message slot, marking the pollset's
 * eventfd; ipck_recv waits on that eventfd with the peer watch and its
 * deadline like any descriptor scheme.  Cost: a hand-off between threads per
 * message.  Once the peer is dead, the receiver sends a marker onto its own
 * type; when it comes through the pump, everything the peer sent has.
 *
 * raw=1 has no wake-ups (a WAKE would be taken for data): a blocking
 * receive there polls with IPC_NOWAIT and a back-off of up to 1 ms.
 *
 * Trap: a WAKE needs room in the queue.  When the peer is dead the messages
 * to it are dropped to make room; otherwise the watcher retries every
 * millisecond until there is room.
 */
#include "svmsg.h"
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <unistd.h>

/* The pump: one thread that feeds the slot (p->rx, p->held) under mu. */
struct svwait {
	pthread_mutex_t mu;
	pthread_cond_t cv;       /* the slot was emptied, or stop */
	pthread_t th;
	bool stop;               /* close wants it to end */
	int err;                 /* msgrcv failed (the queue was removed): errno */
	ipck_chan *ch;           /* whose slot and pollset */
};

#define WAKE_LEN 5   /* TAG_WAKE, then a u32 generation */

/* The generation of a WAKE in rx, or -1 when it holds anything else. */
static int64_t svw_gen(const ipck_chan *ch, const struct svmsg_priv *p)
{
	uint32_t g;
	if (ch->url.raw || p->rxlen != WAKE_LEN || p->rx->mtext[0] != TAG_WAKE)
		return -1;
	memcpy(&g, p->rx->mtext + 1, 4);
	return g;
}

/* Put a WAKE onto type; when the queue is full, drop purge's messages first. */
static int svw_send_wake(int qid, long type, uint32_t gen, long purge)
{
	struct { long mtype; unsigned char t[WAKE_LEN]; } m = {type, {TAG_WAKE}};
	memcpy(m.t + 1, &gen, 4);
	for (int i = 0; i < 2; i++) {
		if (msgsnd(qid, &m, WAKE_LEN, IPC_NOWAIT) == 0)
			return 0;
		if (errno != EAGAIN)
			return 0;   /* the queue is gone: its receiver hears EIDRM */
		if (purge)
			ipck__svmsg_purge(qid, purge);
	}
	return -EAGAIN;
}

/* The watcher's wake(): arg is the channel's private state. */
static int svw_wake(void *arg, uint32_t gen, bool dead)
{
	struct svmsg_priv *p = arg;
	return svw_send_wake(p->q->qid, p->rtype, gen, dead ? p->wtype : 0);
}

bool ipck__svmsg_purge(int qid, long type)
{
	struct { long mtype; unsigned char t[1]; } m;
	bool bye = false;
	while (msgrcv(qid, &m, 1, type, IPC_NOWAIT | MSG_NOERROR) >= 0 || errno == EINTR)
		bye |= m.t[0] == TAG_BYE;
	return bye;
}

int ipck__svmsg_err(ipck_chan *ch, int e)
{
	if (e == EIDRM || e == EINVAL) {
		ch->eof = true;   /* the queue was removed under us */
		return -ECONNRESET;
	}
	if (e == E2BIG)
		return ch->err = -EPROTO;   /* larger than the queue allowed when we looked */
	return -e;
}

/* ---- the pump ------------------------------------------------------------------ */

static void *svw_pump_main(void *arg)
{
	struct svwait *w = arg;
	struct svmsg_priv *p = ipck__priv(w->ch);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (p->held && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		bool stop = w->stop;
		pthread_mutex_unlock(&w->mu);
		if (stop)
			return NULL;
		/* Only here may close cancel it: nothing is held, nothing half done. */
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		ssize_t n = msgrcv(p->q->qid, p->rx, p->rxcap, p->rtype, 0);
		int e = errno;
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		pthread_mutex_lock(&w->mu);
		if (n >= 0) {
			p->rxlen = (size_t)n;
			p->held = true;
		} else {
			w->err = e;
		}
		ipck__poll_mark(w->ch, true);
		pthread_mutex_unlock(&w->mu);
		if (n < 0)
			return NULL;
	}
}

void ipck__svmsg_wait_free(ipck_chan *ch)
{
	struct svmsg_priv *p = ipck__priv(ch);
	struct svwait *w = p->w;
	ipck__watch_stop(p->watch);
	p->watch = NULL;
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_cancel(w->th);   /* if it is blocked in msgrcv */
	pthread_join(w->th, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	p->w = NULL;
}

int ipck__svmsg_pump(ipck_chan *ch)
{
	struct svmsg_priv *p = ipck__priv(ch);
	if (p->w)
		return 0;
	ipck__svmsg_wait_free(ch);   /* the watcher, if any: no receive runs now */
	struct svwait *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->ch = ch;
	ipck__poll_mark(ch, p->held);
	int r = ipck__thread_start(&w->th, svw_pump_main, w);
	if (r) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
		return r;
	}
	p->w = w;
	return 0;
}

void ipck__svmsg_consume(ipck_chan *ch)
{
	struct svmsg_priv *p = ipck__priv(ch);
	struct svwait *w = p->w;
	if (w)
		pthread_mutex_lock(&w->mu);
	p->held = false;
	ipck__poll_mark(ch, false);
	if (w) {
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
	}
}

/* ---- direct mode ------------------------------------------------------------- */

/* Arm the watcher and block in msgrcv; *gen is the generation armed. */
static ssize_t svw_block(ipck_chan *ch, struct svmsg_priv *p, deadline_t dl, uint32_t *gen)
{
	int r;
	if ((r = ipck__watch_ensure(&p->watch, ch->peer_fd, svw_wake, p)))
		return r;
	int64_t g = ipck__watch_arm(p->watch, dl);
	if (g < 0)
		return g;   /* -EPIPE: the peer is dead */
	*gen = (uint32_t)g;
	ssize_t n = msgrcv(p->q->qid, p->rx, p->rxcap, p->rtype, 0);
	int e = errno;
	ipck__watch_disarm(p->watch);
	return n < 0 ? -e : n;
}

/* The peer is dead (seen by the watcher or by the pidfd). */
static bool svw_dead(const ipck_chan *ch, const struct svmsg_priv *p)
{
	return (p->watch && ipck__watch_dead(p->watch)) || ipck__peer_gone(ch);
}

/* An empty queue after a receive that did not block: 0 to go on, or the result. */
static int svw_empty(ipck_chan *ch, struct svmsg_priv *p, deadline_t dl, unsigned i)
{
	if (p->gone) {
		ch->eof = true;
		return -EPIPE;
	}
	if (!ch->url.raw) {
		if (!svw_dead(ch, p))
			return -ETIMEDOUT;   /* a receive does not block only when time is up */
		p->gone = true;
		return 0;
	}
	if (ipck__ms_left(dl) == 0)
		return -ETIMEDOUT;
	ipck__backoff(i, dl);   /* raw: poll */
	return 0;
}

static int svw_fill_direct(ipck_chan *ch, struct svmsg_priv *p, deadline_t dl)
{
	for (unsigned i = 0;; i++) {
		bool nowait = p->gone || ch->url.raw || ipck__ms_left(dl) == 0;
		uint32_t gen = 0;
		ssize_t n = nowait ? msgrcv(p->q->qid, p->rx, p->rxcap, p->rtype, IPC_NOWAIT)
				   : svw_block(ch, p, dl, &gen);
		if (n < 0 && nowait)
			n = -errno;
		if (n >= 0) {
			p->rxlen = (size_t)n;
			int64_t g = svw_gen(ch, p);
			if (g < 0) {
				p->held = true;
				return 0;
			}
			if (!nowait && g == gen && svw_dead(ch, p))
				p->gone = true;   /* ours: the deadline or the peer; the loop sees which */
			continue;
		}
		int r = 0;
		if (n == -EPIPE)
			p->gone = true;
		else if (n == -ENOMSG)
			r = svw_empty(ch, p, dl, i);
		else if (n != -EINTR)
			r = ipck__svmsg_err(ch, (int)-n);
		if (r)
			return r;
	}
}

/* ---- pump mode --------------------------------------------------------------- */

/* Wait for the pump's eventfd; once the peer is known gone, without its pidfd. */
static int svw_wait_slot(ipck_chan *ch, deadline_t dl, bool gone)
{
	int peer = ch->peer_fd;
	if (gone)
		ch->peer_fd = -1;   /* it stays readable: watching it would spin */
	int r = ipck__wait_fd(ch, ch->poll_ev, POLLIN, dl);
	ch->peer_fd = peer;
	return r;
}

static int svw_fill_pumped(ipck_chan *ch, struct svmsg_priv *p, deadline_t dl)
{
	struct svwait *w = p->w;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		bool held = p->held;
		int err = w->err;
		pthread_mutex_unlock(&w->mu);
		if (held) {
			int64_t g = svw_gen(ch, p);
			if (g < 0)
				return 0;
			ipck__svmsg_consume(ch);   /* a marker, or a stale wake-up */
			if (p->marked && g == p->marker) {
				ch->eof = true;
				return -EPIPE;
			}
			continue;
		}
		if (ch->eof)
			return -EPIPE;
		if (err)
			return ipck__svmsg_err(ch, err);
		if (p->gone && !p->marked) {
			p->marker = (uint32_t)ipck__nonce();
			p->marked = svw_send_wake(p->q->qid, p->rtype, p->marker, p->wtype) == 0;
		}
		int r = svw_wait_slot(ch, p->marked || !p->gone ? dl : ipck__deadline(1), p->gone);
		if (r == -EPIPE)
			p->gone = true;
		else if (r == -ETIMEDOUT && ipck__ms_left(dl) == 0)
			return r;
		else if (r && r != -ETIMEDOUT)
			return r;
	}
}

int ipck__svmsg_fill(ipck_chan *ch, deadline_t dl)
{
	struct svmsg_priv *p = ipck__priv(ch);
	if (p->w)
		return svw_fill_pumped(ch, p, dl);
	if (p->held)
		return 0;
	if (ch->eof)
		return -EPIPE;
	return svw_fill_direct(ch, p, dl);
}
