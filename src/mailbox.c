/*
 * mailbox.c - ipck_accept on a mailbox (mailbox=1 on svmsg:, pmsg:,
 * unix-dgram:), above the schemes' framing.
 *
 * A sender announces itself when it opens: a HELLO record into the
 * mailbox, in band, whose body is a nonce naming this open (a process may
 * open several).  Its close, in the process that opened it, puts a BYE with
 * the same nonce after its last message.  The schemes' receives take these
 * control records out of the stream and hand them here (ipck__mb_note):
 * they are never delivered as data, and a receiver that never accepts sees
 * nothing of them.
 *
 *  - A HELLO becomes an announcement, queued in join order.  At most
 *    MB_PENDING_MAX wait: beyond, the oldest is dropped and counted in the
 *    mailbox's ipck_stats().dropped (so a receiver that never accepts holds
 *    at most that many).
 *  - ipck_accept takes the oldest announcement.  With none queued it
 *    receives ahead from the mailbox until a HELLO comes, keeping every
 *    message it took, in order, for ipck_recv (at most MB_AHEAD_MAX bytes:
 *    then accept fails with -ENOBUFS until the receiver takes some).
 *  - The handle (struct mb_peer, shared by the listener and the handle with
 *    a reference count, so either may close first): ipck_peer_pid is the
 *    sender; ipck_recv says -EPIPE and ipck_pollfd polls readable once the
 *    sender's BYE was delivered through (after all its messages), or at
 *    once when its pid is gone (pidfd), or when the mailbox closed.  A BYE
 *    received ahead waits in the ahead list at its place.
 *
 * The pid is the kernel's on unix-dgram and the one the sender claims on the
 * queues.  Threads: the listener and its handles may be used by different
 * threads; they share only the atomics and the eventfd of struct mb_peer.
 */
#include "mailbox.h"
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MB_PENDING_MAX 1024        /* announcements not accepted yet */
#define MB_AHEAD_MAX (1u << 20)    /* bytes of messages accept received ahead */
#define MB_REC_COST 64             /* what a record costs besides its payload, about */

/* One sender, announced. */
struct mb_peer {
	atomic_int refs;           /* the listener's lists, the handle */
	atomic_bool ended;         /* BYE, or the mailbox closed */
	int ev;                    /* eventfd written when ended; made by accept, else -1 */
	uint64_t nonce;
	pid_t pid;
	struct mb_peer *next;      /* in pend or live: the listener's thread only */
};

/* A record received ahead by accept: a message, or a BYE at its place. */
struct mb_rec {
	struct mb_rec *next;
	size_t len;
	pid_t from;
	bool bye;
	uint64_t nonce;            /* bye: whose */
	unsigned char data[];
};

/* The listener's state, made on its first need. */
struct mbox {
	struct mb_peer *pend, **pend_tail;  /* announcements, oldest first */
	unsigned npend;
	struct mb_peer *live;               /* accepted, not ended: wait for a BYE */
	struct mb_rec *ahead, **ahead_tail; /* received ahead, oldest first */
	size_t ahead_bytes;
	unsigned char *buf;                 /* accept's receive buffer: max_msg bytes */
	bool accepting;                     /* accept is receiving ahead */
	int ev;                             /* in the pollset: readable while ahead holds any */
	bool ev_marked;
	pid_t owner;                        /* the process whose listener this is */
};

/* ---- the sender's side ---------------------------------------------------- */

void ipck__mb_sender_init(ipck_chan *ch)
{
	ch->mb_nonce = ipck__nonce();
	ch->mb_opener = getpid();
}

void ipck__mb_body(const ipck_chan *ch, unsigned char *out)
{
	memcpy(out, &ch->mb_nonce, IPCK_MB_CTL_LEN);
}

bool ipck__mb_says_bye(const ipck_chan *ch)
{
	return ch->role == ROLE_CLIENT && ch->url.mailbox && !ch->eof &&
	       ch->mb_opener == getpid();
}

/* ---- senders known --------------------------------------------------------- */

static struct mbox *mb_get(ipck_chan *l)
{
	if (l->mbox)
		return l->mbox;
	struct mbox *mb = calloc(1, sizeof(*mb));
	if (!mb)
		return NULL;
	mb->pend_tail = &mb->pend;
	mb->ahead_tail = &mb->ahead;
	mb->ev = -1;
	mb->owner = getpid();
	return l->mbox = mb;
}

static void peer_unref(struct mb_peer *p)
{
	if (atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	ipck__close_fd(p->ev);
	free(p);
}

static void peer_end(struct mb_peer *p)
{
	uint64_t one = 1;
	if (atomic_exchange(&p->ended, true) || p->ev < 0)
		return;
	ssize_t n = write(p->ev, &one, sizeof(one));
	(void)n;   /* an eventfd write of 1 cannot fail here */
}

static struct mb_peer *pend_pop(struct mbox *mb)
{
	struct mb_peer *p = mb->pend;
	mb->pend = p->next;
	if (!mb->pend)
		mb->pend_tail = &mb->pend;
	mb->npend--;
	p->next = NULL;
	return p;
}

static void mb_hello(ipck_chan *l, struct mbox *mb, pid_t pid, uint64_t nonce)
{
	struct mb_peer *p = calloc(1, sizeof(*p));
	if (!p) {
		l->st.dropped++;
		return;
	}
	atomic_init(&p->refs, 1);
	p->ev = -1;
	p->pid = pid;
	p->nonce = nonce;
	*mb->pend_tail = p;
	mb->pend_tail = &p->next;
	if (++mb->npend > MB_PENDING_MAX) {
		peer_unref(pend_pop(mb));
		l->st.dropped++;
	}
}

/* Handles that left the live list: closed (only the list holds them), or
 * ended by a BYE of *bye. */
static void live_sweep(struct mbox *mb, const uint64_t *bye)
{
	for (struct mb_peer **pp = &mb->live, *p; (p = *pp);) {
		bool said = bye && p->nonce == *bye;
		if (said)
			peer_end(p);
		if (said || atomic_load(&p->refs) == 1) {
			*pp = p->next;
			peer_unref(p);
		} else {
			pp = &p->next;
		}
	}
}

/* A BYE: the announcement or handle of nonce ends. */
static void mb_bye(struct mbox *mb, uint64_t nonce)
{
	for (struct mb_peer *p = mb->pend; p; p = p->next)
		if (p->nonce == nonce)
			peer_end(p);
	live_sweep(mb, &nonce);
}

/* ---- received ahead ---------------------------------------------------------- */

static void mb_mark(struct mbox *mb)
{
	uint64_t v = 1;
	bool want = mb->ahead != NULL;
	if (mb->ev < 0 || want == mb->ev_marked)
		return;
	ssize_t n = want ? write(mb->ev, &v, sizeof(v)) : read(mb->ev, &v, sizeof(v));
	(void)n;   /* an eventfd write of 1 or a read of a set counter cannot fail */
	mb->ev_marked = want;
}

static int ahead_push(struct mbox *mb, const void *data, size_t len, pid_t from,
		      bool bye, uint64_t nonce)
{
	struct mb_rec *r = malloc(sizeof(*r) + len);
	if (!r)
		return -ENOMEM;
	*r = (struct mb_rec){.len = len, .from = from, .bye = bye, .nonce = nonce};
	if (len)
		memcpy(r->data, data, len);
	*mb->ahead_tail = r;
	mb->ahead_tail = &r->next;
	mb->ahead_bytes += len + MB_REC_COST;
	mb_mark(mb);
	return 0;
}

static void ahead_pop(struct mbox *mb)
{
	struct mb_rec *r = mb->ahead;
	mb->ahead = r->next;
	if (!mb->ahead)
		mb->ahead_tail = &mb->ahead;
	mb->ahead_bytes -= r->len + MB_REC_COST;
	free(r);
	mb_mark(mb);
}

int ipck__mb_note(ipck_chan *l, int tag, pid_t pid, const void *body, size_t len)
{
	struct mbox *mb = mb_get(l);
	uint64_t nonce;
	if (len != IPCK_MB_CTL_LEN || (tag != TAG_HELLO && tag != TAG_BYE))
		return 0;   /* not ours: one bad sender ends nothing */
	if (!mb) {
		l->st.dropped++;
		return 0;
	}
	memcpy(&nonce, body, sizeof(nonce));
	if (tag == TAG_HELLO) {
		mb_hello(l, mb, pid, nonce);
		return mb->accepting ? IPCK_MB_NOTED : 0;
	}
	if (mb->accepting && mb->ahead && !ahead_push(mb, NULL, 0, pid, true, nonce))
		return 0;   /* heard once the messages before it are delivered */
	mb_bye(mb, nonce);
	return 0;
}

ssize_t ipck__mb_recv(ipck_chan *l, void *buf, size_t cap, int timeout_ms)
{
	struct mbox *mb = l->mbox;
	while (mb && mb->ahead) {
		struct mb_rec *r = mb->ahead;
		if (r->bye) {
			mb_bye(mb, r->nonce);
			ahead_pop(mb);
			continue;
		}
		if (r->len > cap) {
			l->next_size = (ssize_t)r->len;
			return -EMSGSIZE;   /* kept: the pollset stays marked */
		}
		size_t n = r->len;
		if (n)
			memcpy(buf, r->data, n);
		l->from = r->from;
		ahead_pop(mb);
		return (ssize_t)n;
	}
	return l->sc->recv(l, buf, cap, timeout_ms);
}

/* ---- accept ------------------------------------------------------------------ */

/* Receive ahead until an announcement is queued: 0, or -errno. */
static int mb_wait_hello(ipck_chan *l, struct mbox *mb, deadline_t dl)
{
	while (!mb->pend) {
		if (mb->ahead_bytes >= MB_AHEAD_MAX)
			return -ENOBUFS;   /* receive what is ahead first */
		mb->accepting = true;
		ssize_t n = l->sc->recv(l, mb->buf, l->max_msg, ipck__ms_left(dl));
		mb->accepting = false;
		if (n == IPCK_MB_NOTED)
			continue;
		if (n < 0)
			return (int)n;
		int r = ahead_push(mb, mb->buf, (size_t)n, l->from, false, 0);
		if (r)
			return r;
	}
	return 0;
}

/* c becomes the handle of the oldest announcement. */
static int mb_take(ipck_chan *l, struct mbox *mb, ipck_chan *c)
{
	struct mb_peer *p = mb->pend;
	if (p->ev < 0 && (p->ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return -errno;
	if (p->pid > 0 && !atomic_load(&p->ended)) {
		int r = ipck__watch_peer(c, p->pid);
		if (r)
			return r;
	}
	pend_pop(mb);
	live_sweep(mb, NULL);
	if (atomic_load(&p->ended)) {
		atomic_store(&p->ended, false);
		peer_end(p);   /* it said BYE before it was accepted */
	} else {
		atomic_fetch_add(&p->refs, 1);
		p->next = mb->live;
		mb->live = p;
	}
	c->mb_peer = p;
	c->peer_pid = p->pid;
	c->max_msg = l->max_msg;
	return 0;
}

int ipck__mb_accept(ipck_chan *l, ipck_chan *c, int timeout_ms)
{
	struct mbox *mb = mb_get(l);
	if (!mb || (!mb->buf && !(mb->buf = malloc(l->max_msg + 1))))
		return -ENOMEM;
	int r = mb_wait_hello(l, mb, ipck__deadline(timeout_ms));
	return r ? r : mb_take(l, mb, c);
}

int ipck__mb_pollfd(ipck_chan *l, int fd)
{
	struct mbox *mb = mb_get(l);
	if (!mb)
		return -ENOMEM;
	if (mb->ev >= 0)
		return fd;
	int ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event e = {.events = EPOLLIN, .data.fd = ev};
	if (ev < 0 || epoll_ctl(fd, EPOLL_CTL_ADD, ev, &e) < 0) {
		int err = -errno;
		ipck__close_fd(ev);
		return err;
	}
	mb->ev = ev;
	mb->ev_marked = false;
	mb_mark(mb);
	return fd;
}

void ipck__mb_free(ipck_chan *l)
{
	struct mbox *mb = l->mbox;
	if (!mb)
		return;
	while (mb->live) {
		struct mb_peer *p = mb->live;
		mb->live = p->next;
		if (mb->owner == getpid())   /* not a forked child's copy: the eventfds are shared */
			peer_end(p);   /* the mailbox is gone: so is every sender's way in */
		peer_unref(p);
	}
	while (mb->pend)
		peer_unref(pend_pop(mb));
	while (mb->ahead)
		ahead_pop(mb);
	ipck__close_fd(mb->ev);
	free(mb->buf);
	free(mb);
	l->mbox = NULL;
}

/* ---- a handle ------------------------------------------------------------------- */

ssize_t ipck__mb_peer_recv(ipck_chan *ch, int timeout_ms)
{
	struct mb_peer *p = ch->mb_peer;
	int r = atomic_load(&p->ended) ? 0 : ipck__wait_fd(ch, p->ev, POLLIN, ipck__deadline(timeout_ms));
	if (r && r != -EPIPE)
		return r;
	ch->eof = true;   /* its BYE (r == 0), or its pid is gone */
	return -EPIPE;
}

int ipck__mb_peer_pollfd(ipck_chan *ch)
{
	return ipck__pollset(ch, ch->mb_peer->ev);
}

void ipck__mb_peer_close(ipck_chan *ch)
{
	peer_unref(ch->mb_peer);
	ch->mb_peer = NULL;
}
