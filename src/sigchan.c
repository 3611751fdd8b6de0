/*
 * sigchan.c - messages as realtime signals: the process's registry of
 * signal channels, routing, framing, send and receive (see sigchan.h for
 * the wire format, src/scheme/signal.c for the rendezvous).
 *
 * Signals are sent through a pidfd (pidfd_send_signal), so they go to the
 * whole process, never to a recycled pid.  Every channel of a process on
 * the same signal number shares the process's one queue of pending
 * signals, so whichever channel reads first reads for all: under one lock,
 * each signal read from the signalfd is routed by (sender pid, connection
 * id), or by listener id for a HELLO, into the inbox of the channel it
 * belongs to, whose eventfd then polls readable.  A signal that belongs to
 * no channel (a stranger's, or a late one for a closed channel) is dropped.
 * The lock also keeps the order of signals that two threads read.
 *
 * A full queue (sigqueue's EAGAIN: the receiver's RLIMIT_SIGPENDING,
 * counted for all the processes of its user) makes the sender back off and
 * try again until its deadline, draining its own queue meanwhile (the two
 * sides of a channel usually share that count).  A send that times out
 * before its HEAD went sends nothing; one that times out later keeps the
 * rest of the message and sends it before anything else.
 */
#include "sigchan.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define INBOX_MAX (1u << 16)   /* routed signals one channel may hold: 1 MiB */
#define PUMP_STOP 1024         /* a reader holding this many of its own reads no more */
#define HEAD_DATA (SIG_WORD - 4)
#define SPIN_NS 20000          /* look again this long without progress, mid-message */
#define SPIN_MIN 512           /* ... of a message this long or longer */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigchan *reg_head;   /* every signal channel of this process */
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;

/* A child forked while another thread held the lock would never get it. */
static void reg_prepare(void) { pthread_mutex_lock(&reg_lock); }
static void reg_parent(void) { pthread_mutex_unlock(&reg_lock); }
static void reg_child(void) { pthread_mutex_init(&reg_lock, NULL); }
static void reg_init(void) { pthread_atfork(reg_prepare, reg_parent, reg_child); }

bool ipck__sigchan_peer_left(struct sigchan *p)
{
	return __atomic_load_n(&p->peer_closed, __ATOMIC_ACQUIRE) || ipck__peer_gone(p->ch);
}

/* ---- routing (all under reg_lock) ---------------------------------------- */

static struct sigchan *route(const struct signalfd_siginfo *si, pid_t me)
{
	unsigned kind = TAG_KIND(si->ssi_errno);
	struct sigchan *l = NULL;
	if (si->ssi_code != SI_QUEUE || !kind || kind > K_BYE)
		return NULL;   /* not one of ours: kill(2), plain sigqueue(3)... */
	for (struct sigchan *p = reg_head; p; p = p->next) {
		if (p->self != me || p->sig != (int)si->ssi_signo)
			continue;
		if (p->listener) {
			if ((uint32_t)si->ssi_ptr == p->lid)
				l = p;
		} else if (kind != K_HELLO && p->ch->peer_pid == (pid_t)si->ssi_pid &&
			   p->id == TAG_ID(si->ssi_errno) && !p->peer_closed) {
			return p;
		}
	}
	/* A HELLO, or the BYE of a client that gave up before accept. */
	return kind == K_HELLO || kind == K_BYE ? l : NULL;
}

static int inbox_grow(struct sigchan *p)
{
	size_t cap = p->in_cap ? p->in_cap * 2 : 64;
	if (cap > INBOX_MAX)
		return -ENOBUFS;
	struct sent *n = malloc(cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < p->in_len; i++)
		n[i] = p->in[(p->in_head + i) & (p->in_cap - 1)];
	free(p->in);
	p->in = n;
	p->in_head = 0;
	p->in_cap = cap;
	return 0;
}

static void inbox_push(struct sigchan *p, const struct signalfd_siginfo *si, bool mark)
{
	if (p->in_len == p->in_cap && inbox_grow(p)) {
		p->overflow = true;   /* the owner's next call fails with -ENOBUFS */
		return;
	}
	p->in[(p->in_head + p->in_len) & (p->in_cap - 1)] = (struct sent){
		.tag = si->ssi_errno, .pid = (pid_t)si->ssi_pid, .uid = si->ssi_uid,
		.word = (uintptr_t)si->ssi_ptr};
	p->in_len++;
	if (TAG_KIND(si->ssi_errno) == K_BYE)
		__atomic_store_n(&p->peer_closed, true, __ATOMIC_RELEASE);
	if (mark)
		ipck__poll_mark(p->ch, true);
}

static bool inbox_pop(struct sigchan *p, struct sent *e)
{
	if (!p->in_len)
		return false;
	*e = p->in[p->in_head];
	p->in_head = (p->in_head + 1) & (p->in_cap - 1);
	p->in_len--;
	return true;
}

/*
 * Read the pending signals of p's signalfd and route them.  Once p holds
 * PUMP_STOP signals of its own, the rest stay in the kernel's queue, where
 * they count against the sender's room: a slow reader slows its writer
 * down instead of filling memory.
 */
static int pump_locked(struct sigchan *p)
{
	struct signalfd_siginfo si[32];
	pid_t me = ipck__self();
	while (p->in_len < PUMP_STOP) {
		ssize_t n = read(p->ch->fd, si, sizeof(si));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		size_t cnt = (size_t)n / sizeof(si[0]);
		for (size_t i = 0; i < cnt; i++) {
			struct sigchan *to = route(&si[i], me);
			if (to)
				inbox_push(to, &si[i], to != p);
		}
		if (cnt < sizeof(si) / sizeof(si[0]))
			return 0;
	}
	return 0;
}

/* ---- assembling messages (the owner's, under reg_lock) ------------------- */

static bool msg_whole(const struct sigchan *p)
{
	return p->have_head && p->got == p->want;
}

static int feed_head(struct sigchan *p, uintptr_t word)
{
	unsigned char b[SIG_WORD];
	uint32_t len;
	if (p->have_head)
		return -EPROTO;
	memcpy(b, &word, SIG_WORD);
	memcpy(&len, b, 4);
	if (len > SIG_MAX_MSG)
		return -EPROTO;   /* never trust a length from another process */
	p->want = len;
	p->got = len < HEAD_DATA ? len : HEAD_DATA;
	memcpy(p->msg, b + 4, p->got);
	p->have_head = true;
	return 0;
}

static int feed_chunk(struct sigchan *p, uintptr_t word)
{
	if (!p->have_head || p->got == p->want)
		return -EPROTO;
	size_t n = p->want - p->got < SIG_WORD ? p->want - p->got : SIG_WORD;
	memcpy(p->msg + p->got, &word, n);
	p->got += n;
	return 0;
}

static int feed(struct sigchan *p, const struct sent *e)
{
	unsigned kind = TAG_KIND(e->tag);
	if (kind == K_WELCOME) {
		p->welcomed = true;
		return 0;
	}
	if (kind < K_HEAD)
		return 0;
	if (TAG_SEQ(e->tag) != (p->rx_seq & 0xfffu))
		return -EPROTO;   /* a signal lost or out of order */
	p->rx_seq++;
	if (kind == K_HEAD)
		return feed_head(p, e->word);
	if (kind == K_CHUNK)
		return feed_chunk(p, e->word);
	p->ch->eof = true;      /* BYE: a message it left torn is dropped */
	p->have_head = false;
	return 0;
}

/* Feed the inbox to the assembler until a message is whole. */
static int take_locked(struct sigchan *p)
{
	ipck_chan *ch = p->ch;
	struct sent e;
	int r = p->overflow ? -ENOBUFS : 0;
	while (!r && !msg_whole(p) && !ch->eof && inbox_pop(p, &e))
		r = feed(p, &e);
	if (r)
		ch->err = r;
	ipck__poll_mark(ch, msg_whole(p) || ch->eof || ch->err);
	return r;
}

int ipck__sigchan_refill(struct sigchan *p)
{
	pthread_mutex_lock(&reg_lock);
	int r = pump_locked(p);
	if (!r)
		r = take_locked(p);
	pthread_mutex_unlock(&reg_lock);
	return r;
}

/* A BYE later in the listener's inbox withdraws the client's HELLO. */
static bool withdrawn_locked(const struct sigchan *l, const struct sent *h)
{
	for (size_t i = 0; i < l->in_len; i++) {
		const struct sent *e = &l->in[(l->in_head + i) & (l->in_cap - 1)];
		if (TAG_KIND(e->tag) == K_BYE && e->pid == h->pid && TAG_ID(e->tag) == TAG_ID(h->tag))
			return true;
	}
	return false;
}

int ipck__sigchan_hello(struct sigchan *l, struct sent *h)
{
	pthread_mutex_lock(&reg_lock);
	int r = pump_locked(l);
	while (!r && inbox_pop(l, h))
		if (TAG_KIND(h->tag) == K_HELLO && !withdrawn_locked(l, h))
			r = 1;
	ipck__poll_mark(l->ch, l->in_len > 0);
	pthread_mutex_unlock(&reg_lock);
	return r;
}

/* ---- registry ------------------------------------------------------------ */

/* A connection id, not 0, this process does not use with the same peer. */
static uint16_t pick_id_locked(const struct sigchan *p)
{
	for (;;) {
		uint16_t id = (uint16_t)ipck__nonce();
		const struct sigchan *q = reg_head;
		if (!id)
			continue;
		while (q && (q->listener || q->self != p->self ||
			     q->ch->peer_pid != p->ch->peer_pid || q->id != id))
			q = q->next;
		if (!q)
			return id;
	}
}

static void reg_add(struct sigchan *p)
{
	pthread_once(&reg_once, reg_init);
	pthread_mutex_lock(&reg_lock);
	if (!p->listener && !p->id)
		p->id = pick_id_locked(p);
	p->next = reg_head;
	reg_head = p;
	p->registered = true;
	pthread_mutex_unlock(&reg_lock);
}

int ipck__sigchan_setup(ipck_chan *ch, int sig)
{
	struct sigchan *p = ipck__priv(ch);
	sigset_t set;
	p->ch = ch;
	p->sig = sig;
	p->self = getpid();
	p->uid = getuid();
	p->file_fd = -1;
	ch->max_msg = SIG_MAX_MSG;
	int r = ipck__sig_claim(sig);
	if (r)
		return r;
	sigemptyset(&set);
	sigaddset(&set, sig);
	ch->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ch->fd < 0)
		return -errno;
	r = ipck__pollset(ch, ch->fd);
	if (r < 0)
		return r;
	reg_add(p);
	return 0;
}

void ipck__sigchan_release(ipck_chan *ch)
{
	struct sigchan *p = ipck__priv(ch);
	if (p->registered) {
		pthread_mutex_lock(&reg_lock);
		struct sigchan **pp = &reg_head;
		while (*pp && *pp != p)
			pp = &(*pp)->next;
		if (*pp)
			*pp = p->next;
		p->in_len = 0;   /* so the pump below reads to the end */
		if (p->self == getpid())
			pump_locked(p);   /* route the rest to the others; ours are dropped */
		pthread_mutex_unlock(&reg_lock);
		p->registered = false;
	}
	free(p->in);
	free(p->tx);
	p->in = NULL;
	p->tx = NULL;
	ipck__close_fd(ch->fd);
	ch->fd = -1;
}

/* ---- sending ------------------------------------------------------------- */

int ipck__sigchan_put(struct sigchan *p, unsigned kind, unsigned seq, uintptr_t word, deadline_t dl)
{
	ipck_chan *ch = p->ch;
	bool data = kind >= K_HEAD;
	uint32_t tag = TAG(kind, p->id, data ? p->tx_seq : seq);
	for (unsigned attempt = 0;; attempt++) {
		int r = ipck__sig_queue(ch->peer_fd, p->peer_sig, tag, word, p->self, p->uid);
		if (!r) {
			p->tx_seq += data;
			return 0;
		}
		if (r == -ESRCH)
			return -EPIPE;
		if (r != -EAGAIN)
			return r;
		r = ipck__sigchan_refill(p);   /* free slots of our own, see a BYE */
		if (r)
			return r;
		if (ipck__sigchan_peer_left(p))
			return -EPIPE;
		if (ipck__ms_left(dl) == 0)
			return -ETIMEDOUT;
		ipck__backoff(attempt, dl);
	}
}

/* CHUNKs of b[*off..len); *off follows what went. */
static int put_chunks(struct sigchan *p, const unsigned char *b, size_t len, size_t *off, deadline_t dl)
{
	while (*off < len) {
		uintptr_t w = 0;
		size_t n = len - *off < SIG_WORD ? len - *off : SIG_WORD;
		memcpy(&w, b + *off, n);
		int r = ipck__sigchan_put(p, K_CHUNK, 0, w, dl);
		if (r)
			return r;
		*off += n;
	}
	return 0;
}

int ipck__sigchan_flush(struct sigchan *p, deadline_t dl)
{
	int r = put_chunks(p, p->tx, p->tx_len, &p->tx_off, dl);
	if (r)
		return r;   /* -ETIMEDOUT: the rest stays for the next call */
	free(p->tx);
	p->tx = NULL;
	return 0;
}

/* The message is accepted: keep its unsent rest for the next call. */
static int tx_keep(struct sigchan *p, const unsigned char *rest, size_t n)
{
	p->tx = malloc(n);
	if (!p->tx)
		return p->ch->err = -ENOMEM;   /* the peer holds a torn message */
	memcpy(p->tx, rest, n);
	p->tx_len = n;
	p->tx_off = 0;
	return 0;
}

ssize_t ipck__sigchan_send(ipck_chan *ch, const void *msg, size_t len, int timeout_ms)
{
	struct sigchan *p = ipck__priv(ch);
	deadline_t dl = ipck__deadline(timeout_ms);
	unsigned char b[SIG_WORD];
	uint32_t len32 = (uint32_t)len;
	uintptr_t head;
	size_t off = len < HEAD_DATA ? len : HEAD_DATA;

	/* Route what is pending first: a peer that closed has said so, and
	 * must not have its queue filled by a sender that never reads. */
	int r = ipck__sigchan_refill(p);
	if (r)
		return r;
	if (ipck__sigchan_peer_left(p))
		return -EPIPE;
	if (p->tx && (r = ipck__sigchan_flush(p, dl)))
		return r;
	memset(b, 0, sizeof(b));
	memcpy(b, &len32, 4);
	if (off)
		memcpy(b + 4, msg, off);
	memcpy(&head, b, SIG_WORD);
	r = ipck__sigchan_put(p, K_HEAD, 0, head, dl);
	if (r)
		return r;   /* nothing was sent */
	r = put_chunks(p, msg, len, &off, dl);
	if (r == -ETIMEDOUT)
		r = tx_keep(p, (const unsigned char *)msg + off, len - off);
	return r ? r : (ssize_t)len;
}

/* ---- receiving ----------------------------------------------------------- */

static ssize_t deliver(struct sigchan *p, void *buf, size_t cap)
{
	size_t n = p->want;
	if (n > cap) {
		p->ch->next_size = (ssize_t)n;
		return -EMSGSIZE;
	}
	memcpy(buf, p->msg, n);
	p->have_head = false;
	p->want = p->got = 0;
	pthread_mutex_lock(&reg_lock);
	take_locked(p);   /* the next one, and the poll mark; an error sticks */
	pthread_mutex_unlock(&reg_lock);
	return (ssize_t)n;
}

ssize_t ipck__sigchan_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms)
{
	struct sigchan *p = ipck__priv(ch);
	deadline_t dl = ipck__deadline(timeout_ms);
	bool gone = false;
	int64_t spin_end = 0;
	for (;;) {
		size_t had = p->got;
		int r = ipck__sigchan_refill(p);
		if (msg_whole(p))
			return deliver(p, buf, cap);
		if (r)
			return r;
		if (p->have_head && p->want > cap) {
			ch->next_size = (ssize_t)p->want;
			return -EMSGSIZE;
		}
		if (ch->eof || gone) {
			ch->eof = true;   /* all it sent before it left is read */
			return -EPIPE;
		}
		/* The rest of a long message is on its way: every signal would
		 * wake a sleeping receiver, so look again for a while before
		 * sleeping.  (For a short one, the looking costs the sender more
		 * than the few wake-ups it saves.) */
		if (p->have_head && p->want >= SPIN_MIN && (p->got != had || !spin_end)) {
			spin_end = ipck__now_ns() + SPIN_NS;
			if (dl >= 0 && spin_end > dl)
				spin_end = dl;
		}
		if (p->have_head && p->want >= SPIN_MIN && ipck__now_ns() < spin_end) {
			sched_yield();   /* the sender may be waiting for this CPU */
			continue;
		}
		r = ipck__wait_fd(ch, ch->poll_ep, POLLIN, dl);
		if (r && r != -EPIPE)
			return r;
		gone = ipck__peer_gone(ch);
	}
}
