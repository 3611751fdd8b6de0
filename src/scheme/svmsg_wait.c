/*
 * svmsg_wait.c - waiting for a System V message, which has neither a timed
 * receive nor a descriptor to poll.
 *
 * Direct mode (the default).  The receiver blocks in msgrcv on its own
 * message type.  A watcher thread, made on the first blocking receive,
 * polls the peer's pidfd and a timerfd at the receive's deadline; when the
 * peer dies or the deadline passes while the receiver is blocked, it sends a
 * TAG_WAKE message carrying the receive's generation number onto the
 * receiver's type, and msgrcv returns.  A wake-up meant for an earlier
 * receive is known by its generation and skipped.  Steady-state cost: two
 * uncontended mutex round trips per blocking receive; the timerfd is set
 * only when a deadline is earlier than the one armed (the thread moves a
 * stale one forward itself).  A timeout of 0 is one msgrcv(IPC_NOWAIT).
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
 * Both threads block every signal, so the caller's handlers never run on
 * them; close stops and joins them.  Trap: a WAKE needs room in the queue.
 * When the peer is dead the messages to it are dropped to make room;
 * otherwise the watcher retries every millisecond until there is room.
 */
#include "svmsg.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/msg.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct svwait {
	pthread_mutex_t mu;
	pthread_cond_t cv;       /* pump: the slot was emptied, or stop */
	pthread_t th;
	bool pump;               /* pump mode, else watcher */
	bool stop;               /* pump: close wants it to end */
	int stop_fd;             /* watcher: eventfd that close writes */
	int tfd;                 /* watcher: timerfd at the armed deadline */
	int qid;
	long rtype, wtype;
	int peer_fd;             /* the channel's pidfd (not ours to close), or -1 */
	bool armed;              /* the receiver is blocked in msgrcv */
	bool woken;              /* ...and its wake-up is sent */
	bool dead;               /* the watcher saw the peer exit */
	uint32_t gen;            /* generation of the latest blocking receive */
	deadline_t deadline;     /* of that receive */
	deadline_t timer_at;     /* when the timerfd fires, -1 when not set */
	int err;                 /* pump: msgrcv failed (the queue was removed) */
	ipck_chan *ch;           /* pump: whose slot and pollset */
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
static int svw_wake(int qid, long type, uint32_t gen, long purge)
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

/* ---- the threads ------------------------------------------------------------- */

static void svw_timer(struct svwait *w, deadline_t at)
{
	struct itimerspec its = {.it_value = {at / 1000000000, at % 1000000000}};
	if (timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		w->timer_at = at;
}

/* Under the lock, after poll: send the wake-up the receiver needs now, if any. */
static bool svw_check(struct svwait *w)
{
	bool due = w->dead || (w->deadline >= 0 && ipck__now_ns() >= w->deadline);
	if (!w->armed || w->woken)
		return false;
	if (due) {
		w->woken = svw_wake(w->qid, w->rtype, w->gen, w->dead ? w->wtype : 0) == 0;
		return !w->woken;   /* no room: try again soon */
	}
	if (w->deadline >= 0 && w->timer_at < 0)
		svw_timer(w, w->deadline);
	return false;
}

static void *svw_watch(void *arg)
{
	struct svwait *w = arg;
	struct pollfd pf[3] = {{w->stop_fd, POLLIN, 0}, {w->tfd, POLLIN, 0}, {w->peer_fd, POLLIN, 0}};
	nfds_t nf = w->peer_fd >= 0 ? 3 : 2;
	bool retry = false;
	uint64_t x;

	for (;;) {
		if (poll(pf, nf, retry ? 1 : -1) < 0)
			continue;   /* EINTR cannot happen here: every signal is blocked */
		if (pf[0].revents)
			return NULL;
		if (pf[1].revents && read(w->tfd, &x, sizeof(x)) < 0)
			x = 0;   /* nothing to do: it was not due */
		pthread_mutex_lock(&w->mu);
		if (nf == 3 && pf[2].revents) {
			w->dead = true;
			nf = 2;   /* a pidfd stays readable: stop polling it */
		}
		if (pf[1].revents)
			w->timer_at = -1;
		retry = svw_check(w);
		pthread_mutex_unlock(&w->mu);
	}
}

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
		ssize_t n = msgrcv(w->qid, p->rx, p->rxcap, p->rtype, 0);
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

/* Start fn on a new thread that blocks every signal. */
static int svw_spawn(struct svwait *w, void *(*fn)(void *))
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&w->th, NULL, fn, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -r;
}

static int svw_start(ipck_chan *ch, bool pump)
{
	struct svmsg_priv *p = ipck__priv(ch);
	struct svwait *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->pump = pump;
	w->stop_fd = w->tfd = -1;
	w->qid = p->q->qid;
	w->rtype = p->rtype;
	w->wtype = p->wtype;
	w->peer_fd = ch->peer_fd;
	w->deadline = w->timer_at = -1;
	w->ch = ch;
	int r = 0;
	if (!pump) {
		w->stop_fd = eventfd(0, EFD_CLOEXEC);
		w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (w->stop_fd < 0 || w->tfd < 0)
			r = -errno;
	}
	if (!r)
		r = svw_spawn(w, pump ? svw_pump_main : svw_watch);
	if (r) {
		ipck__close_fd(w->stop_fd);
		ipck__close_fd(w->tfd);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
		return r;
	}
	p->w = w;
	return 0;
}

void ipck__svmsg_wait_free(ipck_chan *ch)
{
	struct svmsg_priv *p = ipck__priv(ch);
	struct svwait *w = p->w;
	uint64_t one = 1;
	if (!w)
		return;
	if (w->pump) {
		pthread_mutex_lock(&w->mu);
		w->stop = true;
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_cancel(w->th);   /* if it is blocked in msgrcv */
	} else if (write(w->stop_fd, &one, sizeof(one)) < 0) {
		pthread_cancel(w->th);   /* cannot happen: an eventfd takes a write of 1 */
	}
	pthread_join(w->th, NULL);
	ipck__close_fd(w->stop_fd);
	ipck__close_fd(w->tfd);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	p->w = NULL;
}

int ipck__svmsg_pump(ipck_chan *ch)
{
	struct svmsg_priv *p = ipck__priv(ch);
	if (p->w && p->w->pump)
		return 0;
	ipck__svmsg_wait_free(ch);   /* the watcher, if any: no receive runs now */
	ipck__poll_mark(ch, p->held);
	return svw_start(ch, true);
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
	struct svwait *w = p->w;
	int r;
	if (!w && (r = svw_start(ch, false)))
		return r;
	w = p->w;
	pthread_mutex_lock(&w->mu);
	if (w->dead) {
		pthread_mutex_unlock(&w->mu);
		return -EPIPE;
	}
	w->armed = true;
	w->woken = false;
	*gen = ++w->gen;
	w->deadline = dl;
	if (dl >= 0 && (w->timer_at < 0 || dl < w->timer_at))
		svw_timer(w, dl);
	pthread_mutex_unlock(&w->mu);
	ssize_t n = msgrcv(w->qid, p->rx, p->rxcap, p->rtype, 0);
	int e = errno;
	pthread_mutex_lock(&w->mu);
	w->armed = false;
	pthread_mutex_unlock(&w->mu);
	return n < 0 ? -e : n;
}

/* The peer is dead (seen by the watcher or by the pidfd). */
static bool svw_dead(const ipck_chan *ch, const struct svmsg_priv *p)
{
	bool dead = false;
	if (p->w) {
		pthread_mutex_lock(&p->w->mu);
		dead = p->w->dead;
		pthread_mutex_unlock(&p->w->mu);
	}
	return dead || ipck__peer_gone(ch);
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
				p->gone = true;   /* ours: the loop sees why */
			continue;
		}
		if (n == -EPIPE) {
			p->gone = true;
		} else if (n != -ENOMSG && n != -EINTR) {
			return ipck__svmsg_err(ch, (int)-n);
		} else if (n == -ENOMSG && p->gone) {
			ch->eof = true;
			return -EPIPE;
		} else if (n == -ENOMSG && !ch->url.raw) {
			if (!svw_dead(ch, p))
				return -ETIMEDOUT;
			p->gone = true;
		} else if (n == -ENOMSG) {
			if (ipck__ms_left(dl) == 0)
				return -ETIMEDOUT;
			ipck__backoff(i, dl);
		}
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
			p->marked = svw_wake(w->qid, p->rtype, p->marker, p->wtype) == 0;
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
	if (p->w && p->w->pump)
		return svw_fill_pumped(ch, p, dl);
	if (p->held)
		return 0;
	if (ch->eof)
		return -EPIPE;
	return svw_fill_direct(ch, p, dl);
}
