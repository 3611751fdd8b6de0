/*
 * pmsg.c - "pmsg:/name": POSIX message queues.  A queue is one-way, so a
 * connection uses two, "/name.<pid>.<n>.c2s" and ".s2c", made by the
 * connecting side with the maxmsg= and msgsize= it asks for; the listener
 * owns only "/name", a queue of hello-sized messages.
 *
 *   client: mq_open c2s, s2c (O_CREAT|O_EXCL, 0600); hello -> /name
 *   server: receive the hello; open c2s, s2c; check their owner (fstat: an
 *           mqd_t is a descriptor on Linux); unlink both; welcome -> s2c
 *   client: unlink both too (the server may not: the queue directory is
 *           sticky, and the client may be another user)
 *
 * Every message of a connection starts with a tag byte, TAG_DATA, or TAG_BYE
 * sent by close: a queue has no "writer closed", and an empty message must
 * differ from the end.  A peer that dies without a word is seen by its pidfd
 * once its messages are drained.  max_msg is msgsize - 1.  The descriptors are
 * non-blocking and pollable, so waits are poll deadlines with the peer watch.
 *
 * Traps: mq_receive fails with EMSGSIZE unless its buffer holds mq_msgsize
 * bytes, so a message lands in the channel's buffer, and one too large for
 * the caller stays there (ipck_pollfd says so).  The limits in
 * /proc/sys/fs/mqueue (msg_max, msgsize_max) bind root here too, so a URL
 * works the same for every user; RLIMIT_MSGQUEUE counts the bytes of all the
 * user's queues (about four connections with the defaults), and mq_open
 * reports its exhaustion as EMFILE, which we tell apart as -EDQUOT.
 *
 * raw=1: one queue at exactly the name (the listener makes it with maxmsg=
 * and msgsize=), no tag, no rendezvous: both sides may send and receive, and
 * whoever receives takes the next message.  Another program's mq_send is a
 * client; accept returns once the queue holds a message.
 *
 * mailbox=1: the queue at the name is the mailbox, made by the listener with
 * maxmsg= and msgsize=, and received from by the listener itself; senders
 * only open it for writing.  A message is TAG_DATA, the sender's pid (s32,
 * claimed: the queue's mode is the gate), the payload.  Each sender's
 * messages keep their order (at one priority=).  Its open puts a TAG_HELLO
 * (at its priority=) and its close a TAG_BYE (at 0, after its data), each
 * with a nonce for payload, for ipck_accept (mailbox.c).  A queue has no "reader
 * gone", and who holds it open is not known: the listener's close unlinks
 * it, and a sender checks that its queue still has a name (st_nlink) once
 * a millisecond as it sends, and after each wait for room - else -EPIPE.
 * A listener killed without closing is not seen: sends fill the queue,
 * then time out.
 */
#include "../internal.h"
#include "../mailbox.h"
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define PMSG_HARD_MAXMSG 65536L         /* the kernel's ceilings, even for root */
#define PMSG_HARD_MSGSIZE (16L << 20)
#define PMSG_PRIO_MAX 32768u            /* sysconf(_SC_MQ_PRIO_MAX) on Linux */
#define PMSG_MSG_OVERHEAD 96            /* kernel bytes per message, about */
#define PMSG_NAME_MAX (NAME_MAX + 2)    /* "/" + name + NUL */
#define PMSG_MB_HDR 5                   /* mailbox: TAG_DATA, the sender's pid */
#define PMSG_MB_SLICE_MS 50             /* a waiting sender looks for the close this often */
#define PMSG_MB_LOOK_NS 1000000         /* a sending one at most this often */

struct pmsg_priv {
	unsigned char *buf;  /* one received queue message: mq_msgsize bytes */
	size_t bufsize;
	unsigned char *tx;   /* tag byte and payload of the message being sent */
	size_t len;          /* payload length of the held message */
	bool held;           /* buf holds a message not yet delivered */
	bool gone;           /* the peer was seen dead: drain, then -EPIPE */
	struct ipck_watch *watch;  /* wakes a blocking receive (made on the first) */
	dev_t dev;           /* listener: the well-known queue it made */
	ino_t ino;
	pid_t maker;         /* listener: the process that made it */
	int64_t look;        /* mailbox sender: when to look at st_nlink next */
};

static int pmsg_parse(struct ipck_url *u)
{
	size_t n = strlen(u->addr), extra = u->raw || u->mailbox ? 0 : IPCK_CONN_SUFFIX_MAX;
	if (n < 2 || u->addr[0] != '/' || strchr(u->addr + 1, '/'))
		return ipck__url_bad(u, "a queue name is '/' and a name with no other '/'");
	if (n - 1 + extra > NAME_MAX)
		return ipck__url_bad(u, "queue name longer than %zu bytes", NAME_MAX - extra);
	if (!strcmp(u->addr, "/.") || !strcmp(u->addr, "/.."))
		return -EINVAL;
	if (u->maxmsg > PMSG_HARD_MAXMSG || u->msgsize > PMSG_HARD_MSGSIZE ||
	    u->priority >= PMSG_PRIO_MAX)
		return -EINVAL;
	if (u->raw && u->mailbox)
		return -EINVAL;
	if (u->mailbox && u->msgsize && u->msgsize < PMSG_MB_HDR + IPCK_MB_CTL_LEN)
		return -EINVAL;   /* the header and a HELLO must fit */
	if (!u->raw && !u->mailbox && (u->set & OPT_MSGSIZE) &&
	    u->msgsize < 1 + (long)sizeof(struct hello))
		return -EINVAL;   /* the welcome must fit */
	return 0;
}

/*
 * The attributes of the queues the URL asks for, defaults 10 and 8192 (or
 * the system's limit if lower), checked against the limits: -EINVAL.
 */
static int pmsg_attr(const struct ipck_url *u, struct mq_attr *a)
{
	long long lmax = ipck__read_sysctl("/proc/sys/fs/mqueue/msg_max");
	long long lsize = ipck__read_sysctl("/proc/sys/fs/mqueue/msgsize_max");
	struct rlimit rl;
	a->mq_maxmsg = (u->set & OPT_MAXMSG) ? u->maxmsg : lmax > 0 && lmax < 10 ? lmax : 10;
	a->mq_msgsize = (u->set & OPT_MSGSIZE) ? u->msgsize :
			lsize > 0 && lsize < 8192 ? lsize : 8192;
	if ((lmax > 0 && a->mq_maxmsg > lmax) || (lsize > 0 && a->mq_msgsize > lsize))
		return -EINVAL;
	unsigned long long bytes = (unsigned long long)a->mq_maxmsg *
		(unsigned long long)(a->mq_msgsize + PMSG_MSG_OVERHEAD) * (u->raw || u->mailbox ? 1 : 2);
	if (getrlimit(RLIMIT_MSGQUEUE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    bytes > rl.rlim_cur)
		return -EINVAL;   /* could never be made under RLIMIT_MSGQUEUE */
	return 0;
}

/*
 * mq_open says EMFILE both when the descriptor table is full and when the
 * user's queues fill RLIMIT_MSGQUEUE: tell the second as -EDQUOT.
 */
static int pmsg_emfile(void)
{
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -EMFILE;
	close(fd);
	return -EDQUOT;
}

/* Make a queue exclusively, with exactly mode. */
static int pmsg_make(const char *name, int how, unsigned mode, struct mq_attr *a)
{
	mqd_t q = mq_open(name, how | O_CREAT | O_EXCL, mode & 0600, a);
	if (q < 0)
		return errno == EEXIST ? -EADDRINUSE : errno == EMFILE ? pmsg_emfile() : -errno;
	if (fchmod(q, mode) < 0) {
		int e = -errno;
		mq_close(q);
		mq_unlink(name);
		return e;
	}
	return q;
}

/* Remove name if it is still the queue dev/ino. */
static void pmsg_unlink_same(const char *name, dev_t dev, ino_t ino)
{
	struct stat st;
	mqd_t q = mq_open(name, O_RDONLY | O_NONBLOCK);
	if (q < 0)
		return;
	if (fstat(q, &st) == 0 && st.st_dev == dev && st.st_ino == ino)
		mq_unlink(name);
	mq_close(q);
}

/* Bytes before the payload in a queue message: none raw, a tag, or a tag and a pid. */
static size_t pmsg_hdr(const ipck_chan *ch)
{
	return ch->url.raw ? 0 : ch->url.mailbox ? PMSG_MB_HDR : 1;
}

/* Buffers and max_msg of a channel whose descriptors are open (fd: -1 for a
 * mailbox sender, which never receives). */
static int pmsg_setup(ipck_chan *ch)
{
	struct pmsg_priv *p = ipck__priv(ch);
	struct mq_attr ra, wa;
	size_t hdr = pmsg_hdr(ch);
	size_t need = ch->url.raw ? hdr : hdr + (ch->url.mailbox ? IPCK_MB_CTL_LEN : sizeof(struct hello));
	if (mq_getattr(ch->wfd, &wa) < 0 || (ch->fd >= 0 && mq_getattr(ch->fd, &ra) < 0))
		return -errno;
	if (ch->fd < 0)
		ra = wa;
	if (ra.mq_msgsize < (long)need || wa.mq_msgsize < (long)(ch->url.mailbox ? need : hdr) ||
	    ra.mq_msgsize > PMSG_HARD_MSGSIZE || wa.mq_msgsize > PMSG_HARD_MSGSIZE)
		return -EPROTO;
	long m = ra.mq_msgsize < wa.mq_msgsize ? ra.mq_msgsize : wa.mq_msgsize;
	ch->max_msg = (size_t)m - hdr;
	p->bufsize = (size_t)ra.mq_msgsize;
	p->buf = ch->fd >= 0 ? malloc(p->bufsize) : NULL;
	p->tx = hdr ? malloc(ch->max_msg + hdr) : NULL;
	return (p->buf || ch->fd < 0) && (p->tx || !hdr) ? 0 : -ENOMEM;
}

static void pmsg_release(ipck_chan *ch)
{
	struct pmsg_priv *p = ipck__priv(ch);
	if (ch->fd >= 0)
		mq_close(ch->fd);
	if (ch->wfd >= 0 && ch->wfd != ch->fd)
		mq_close(ch->wfd);
	ch->fd = ch->wfd = -1;
	free(p->buf);
	free(p->tx);
	p->buf = p->tx = NULL;
}

/* ---- moving messages ------------------------------------------------------- */

/*
 * A mailbox sender: has the listener closed, unlinking the queue?  An fstat
 * costs more than the send itself when the queue is busy (2 us): a sender
 * that keeps sending looks once a millisecond, one that waited, every time.
 */
static bool pmsg_mb_closed(ipck_chan *ch, bool waited)
{
	struct pmsg_priv *p = ipck__priv(ch);
	struct stat st;
	int64_t now = ipck__now_ns();
	if (!waited && now < p->look)
		return false;
	p->look = now + PMSG_MB_LOOK_NS;
	if (fstat(ch->wfd, &st) < 0 || st.st_nlink > 0)
		return false;
	ch->eof = true;
	return true;
}

/* The end of the next wait for room: a mailbox sender wakes up now and then. */
static deadline_t pmsg_slice(const ipck_chan *ch, deadline_t dl)
{
	if (!ch->url.mailbox)
		return dl;
	deadline_t s = ipck__deadline(PMSG_MB_SLICE_MS);
	return dl >= 0 && dl < s ? dl : s;
}

static int pmsg_put(ipck_chan *ch, mqd_t q, const void *m, size_t n, unsigned prio, deadline_t dl)
{
	bool mb = ch->url.mailbox;   /* only senders send */
	for (bool waited = false;; waited = true) {
		if (mb && pmsg_mb_closed(ch, waited))
			return -EPIPE;
		if (mq_send(q, m, n, prio) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		deadline_t w = pmsg_slice(ch, dl);
		int r = ipck__wait_fd(ch, q, POLLOUT, w);
		if (r && !(r == -ETIMEDOUT && w != dl))
			return r;
	}
}

/* A receive that never sleeps, on a blocking or a non-blocking descriptor. */
static ssize_t pmsg_get_now(ipck_chan *ch, struct pmsg_priv *p)
{
	static const struct timespec past = {0, 0};
	for (;;) {
		ssize_t n = mq_timedreceive(ch->fd, (char *)p->buf, p->bufsize, NULL, &past);
		if (n >= 0)
			return n;
		if (errno == EAGAIN || errno == ETIMEDOUT)
			return -EAGAIN;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * One queue message into the buffer, waiting by poll (raw, and the
 * welcome): its length, -EPIPE once the peer is gone and it is empty.
 */
static ssize_t pmsg_get(ipck_chan *ch, struct pmsg_priv *p, deadline_t dl)
{
	bool gone = false;
	for (;;) {
		ssize_t n = pmsg_get_now(ch, p);
		if (n != -EAGAIN)
			return n;
		if (gone)
			return -EPIPE;
		int r = ipck__wait_fd(ch, ch->fd, POLLIN, dl);
		if (r == -EPIPE)
			gone = true;   /* drain what it sent, then fail */
		else if (r)
			return r;
	}
}

#define WAKE_LEN 5   /* TAG_WAKE, then a u32 generation */

/* The watcher's wake(): a WAKE into our own receive queue, unless it is full. */
static int pmsg_wake(void *arg, uint32_t gen, bool dead)
{
	static const struct timespec past = {0, 0};
	unsigned char m[WAKE_LEN] = {TAG_WAKE};
	ipck_chan *ch = arg;
	(void)dead;   /* a full queue does not block its receiver: nothing to drop */
	memcpy(m + 1, &gen, 4);
	if (mq_timedsend(ch->fd, (const char *)m, WAKE_LEN, 0, &past) == 0 || errno != ETIMEDOUT)
		return 0;
	return -EAGAIN;
}

/* The generation of a WAKE in the buffer, or -1 for anything else. */
static int64_t pmsg_wake_gen(const struct pmsg_priv *p, ssize_t n)
{
	uint32_t g;
	if (n != WAKE_LEN || p->buf[0] != TAG_WAKE)
		return -1;
	memcpy(&g, p->buf + 1, 4);
	return g;
}

/* Block in mq_receive with the watcher armed: the length, or -errno. */
static ssize_t pmsg_block(ipck_chan *ch, struct pmsg_priv *p, deadline_t dl, int64_t *gen)
{
	int r;
	if ((r = ipck__watch_ensure(&p->watch, ch->peer_fd, pmsg_wake, ch)))
		return r;
	*gen = ipck__watch_arm(p->watch, dl);
	if (*gen < 0)
		return *gen;   /* -EPIPE: the peer is dead */
	ssize_t n = mq_receive(ch->fd, (char *)p->buf, p->bufsize, NULL);
	int e = errno;
	ipck__watch_disarm(p->watch);
	return n < 0 ? -e : n;
}

/*
 * One message of a connection into the buffer: blocking in mq_receive, woken
 * by the watcher at the deadline or the peer's death.  Its length, or
 * -ETIMEDOUT, -EPIPE once the peer is gone and it is empty, -errno.
 */
static ssize_t pmsg_get_watched(ipck_chan *ch, struct pmsg_priv *p, deadline_t dl)
{
	for (;;) {
		bool block = !p->gone && ipck__ms_left(dl) != 0;
		int64_t gen = 0;
		ssize_t n = block ? pmsg_block(ch, p, dl, &gen) : pmsg_get_now(ch, p);
		if (n >= 0) {
			int64_t g = pmsg_wake_gen(p, n);
			if (g < 0)
				return n;
			if (block && g == gen && ipck__watch_dead(p->watch))
				p->gone = true;   /* ours: the deadline or the peer; the loop sees which */
		} else if (n == -EPIPE) {
			p->gone = true;
		} else if (n == -EAGAIN && p->gone) {
			return -EPIPE;
		} else if (n == -EAGAIN && !ipck__peer_gone(ch)) {
			return -ETIMEDOUT;
		} else if (n == -EAGAIN) {
			p->gone = true;
		} else if (n != -EINTR) {
			return n;
		}
	}
}

/* A mailbox's control record (a sender's HELLO or BYE): -EAGAIN, or IPCK_MB_NOTED. */
static int pmsg_mb_note(ipck_chan *ch, struct pmsg_priv *p, ssize_t n)
{
	int32_t pid;
	memcpy(&pid, p->buf + 1, sizeof(pid));
	int r = ipck__mb_note(ch, p->buf[0], pid, p->buf + PMSG_MB_HDR, (size_t)n - PMSG_MB_HDR);
	return r ? r : -EAGAIN;
}

/* What a received message means: 0 with it held, -EAGAIN when it is
 * dropped (a mailbox outlives a bad sender), or an error. */
static int pmsg_take(ipck_chan *ch, struct pmsg_priv *p, ssize_t n)
{
	if (ch->url.raw) {
		p->len = (size_t)n;
	} else if (ch->url.mailbox) {
		if (n >= PMSG_MB_HDR && p->buf[0] != TAG_DATA)
			return pmsg_mb_note(ch, p, n);
		if (n < PMSG_MB_HDR)
			return -EAGAIN;
		p->len = (size_t)n - PMSG_MB_HDR;
	} else if (n >= 1 && p->buf[0] == TAG_DATA) {
		p->len = (size_t)n - 1;
	} else if (n >= 1 && p->buf[0] == TAG_BYE) {
		ch->eof = true;
		return -EPIPE;
	} else {
		return ch->err = -EPROTO;
	}
	p->held = true;
	return 0;
}

static ssize_t pmsg_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms)
{
	struct pmsg_priv *p = ipck__priv(ch);
	deadline_t dl = ipck__deadline(timeout_ms);
	int32_t pid;
	while (!p->held) {
		if (ch->eof)
			return -EPIPE;
		ssize_t n = ch->url.raw ? pmsg_get(ch, p, dl) : pmsg_get_watched(ch, p, dl);
		if (n == -EPIPE)
			ch->eof = true;
		if (n >= 0)
			n = pmsg_take(ch, p, n);
		if (n < 0 && n != -EAGAIN)
			return n;
	}
	if (p->len > cap) {
		ch->next_size = (ssize_t)p->len;
		ipck__poll_mark(ch, true);
		return -EMSGSIZE;
	}
	memcpy(buf, p->buf + pmsg_hdr(ch), p->len);
	if (ch->url.mailbox) {
		memcpy(&pid, p->buf + 1, sizeof(pid));
		ch->from = pid > 0 ? (pid_t)pid : 0;
	}
	p->held = false;
	ipck__poll_mark(ch, false);
	return (ssize_t)p->len;
}

static ssize_t pmsg_send(ipck_chan *ch, const void *msg, size_t len, int timeout_ms)
{
	struct pmsg_priv *p = ipck__priv(ch);
	deadline_t dl = ipck__deadline(timeout_ms);
	int r;
	if (ch->eof)
		return -EPIPE;   /* it said goodbye */
	if (ch->url.raw) {
		r = pmsg_put(ch, ch->wfd, msg, len, ch->url.priority, dl);
	} else {
		int32_t pid = (int32_t)ipck__self();   /* a forked child is a sender too */
		size_t hdr = pmsg_hdr(ch);
		p->tx[0] = TAG_DATA;
		if (ch->url.mailbox)
			memcpy(p->tx + 1, &pid, sizeof(pid));
		memcpy(p->tx + hdr, msg, len);
		r = pmsg_put(ch, ch->wfd, p->tx, len + hdr, ch->url.priority, dl);
	}
	return r ? r : (ssize_t)len;
}

/* A mailbox sender's HELLO (at its priority: before its messages) or BYE
 * (at the lowest: after them). */
static int pmsg_mb_ctl(ipck_chan *ch, int tag, deadline_t dl)
{
	struct pmsg_priv *p = ipck__priv(ch);
	int32_t pid = (int32_t)ipck__self();
	p->tx[0] = (unsigned char)tag;
	memcpy(p->tx + 1, &pid, sizeof(pid));
	ipck__mb_body(ch, p->tx + PMSG_MB_HDR);
	return pmsg_put(ch, ch->wfd, p->tx, PMSG_MB_HDR + IPCK_MB_CTL_LEN,
			tag == TAG_HELLO ? ch->url.priority : 0, dl);
}

/* ---- listener -------------------------------------------------------------- */

static int pmsg_listen(ipck_chan *ch)
{
	struct pmsg_priv *p = ipck__priv(ch);
	struct mq_attr a, h;
	struct stat st;
	int r = pmsg_attr(&ch->url, &a);
	if (r)
		return r;
	h = a;
	if (!ch->url.raw && !ch->url.mailbox)
		h.mq_msgsize = sizeof(struct hello);
	/* A mailbox is received from like a connection: blocking, and the
	 * watcher's wake-ups go in. */
	int how = ch->url.mailbox ? O_RDWR : ch->url.raw ? O_RDWR | O_NONBLOCK : O_RDONLY | O_NONBLOCK;
	int q = pmsg_make(ch->url.addr, how, ch->url.mode, &h);
	if (q < 0)
		return q;
	ch->fd = q;
	if (fstat(q, &st) < 0)
		r = -errno;
	if (!r && ch->url.mailbox) {
		ch->wfd = q;
		r = pmsg_setup(ch);
	}
	if (r) {
		pmsg_release(ch);
		mq_unlink(ch->url.addr);
		return r;
	}
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	p->maker = getpid();
	if (!ch->url.mailbox)
		ch->max_msg = (size_t)a.mq_msgsize - (ch->url.raw ? 0 : 1);
	return 0;
}

/* The next hello: 1, 0 for a malformed one (dropped), or an error. */
static int pmsg_read_hello(ipck_chan *l, struct hello *h, deadline_t dl)
{
	unsigned char b[sizeof(*h)];   /* the queue's msgsize: we made it */
	for (;;) {
		ssize_t n = mq_receive(l->fd, (char *)b, sizeof(b), NULL);
		if (n >= 0)
			return ipck__hello_parse(h, b, (size_t)n, TAG_HELLO) ? 0 : 1;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		int r = ipck__wait_fd(l, l->fd, POLLIN, dl);
		if (r)
			return r;
	}
}

/* Both queues belong to the user the hello names, who may talk to us. */
static int pmsg_check_peer(const ipck_chan *c, const struct hello *h)
{
	struct stat a, b;
	if (fstat(c->fd, &a) < 0 || fstat(c->wfd, &b) < 0)
		return -errno;
	if (a.st_uid != h->uid || b.st_uid != h->uid)
		return -EACCES;
	return ipck__check_owner(&c->url, a.st_uid);
}

static int pmsg_names(const char *base, const struct hello *h, char *c2s, char *s2c)
{
	int r = ipck__conn_name(c2s, PMSG_NAME_MAX, base, h, "c2s");
	return r ? r : ipck__conn_name(s2c, PMSG_NAME_MAX, base, h, "s2c");
}

/* Open the connection a hello announces and welcome its client. */
static int pmsg_attach(ipck_chan *l, ipck_chan *c, const struct hello *h)
{
	char c2s[PMSG_NAME_MAX], s2c[PMSG_NAME_MAX];
	unsigned char w[1 + sizeof(struct hello)] = {TAG_WELCOME};
	struct hello wh;
	int r = pmsg_names(l->url.addr, h, c2s, s2c);
	if (r)
		return r;
	c->fd = mq_open(c2s, O_RDWR);   /* blocking, and the watcher's wake-ups go in */
	c->wfd = c->fd < 0 ? -1 : mq_open(s2c, O_WRONLY | O_NONBLOCK);
	if (c->fd < 0 || c->wfd < 0)
		r = -errno;
	if (!r && !(r = pmsg_check_peer(c, h)) && !(r = pmsg_setup(c)))
		r = ipck__watch_peer(c, h->pid);
	if (!r) {
		mq_unlink(c2s);   /* both sides hold both queues now */
		mq_unlink(s2c);
		ipck__hello_make(&wh, TAG_WELCOME, h->nonce);
		memcpy(w + 1, &wh, sizeof(wh));
		r = pmsg_put(c, c->wfd, w, sizeof(w), 0, ipck__deadline(0));
	}
	if (r) {
		pmsg_release(c);
		ipck__close_fd(c->peer_fd);
		c->peer_fd = -1;
	}
	return r;
}

/* raw: a channel on the listener's queue once it holds a message. */
static int pmsg_accept_raw(ipck_chan *l, ipck_chan *c, int timeout_ms)
{
	int r = ipck__wait_fd(l, l->fd, POLLIN, ipck__deadline(timeout_ms));
	if (r)
		return r;
	c->fd = c->wfd = fcntl(l->fd, F_DUPFD_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	r = pmsg_setup(c);
	if (r)
		pmsg_release(c);
	return r;
}

static int pmsg_accept(ipck_chan *l, ipck_chan *c, int timeout_ms)
{
	deadline_t dl = ipck__deadline(timeout_ms);
	struct hello h;
	if (l->url.raw)
		return pmsg_accept_raw(l, c, timeout_ms);
	for (;;) {
		int r = pmsg_read_hello(l, &h, dl);
		if (r < 0)
			return r;
		if (r > 0 && pmsg_attach(l, c, &h) == 0)
			return 0;
		/* a client that left or lied: wait for the next one */
	}
}

/* ---- connecting side ------------------------------------------------------- */

static int pmsg_await_welcome(ipck_chan *ch, const struct hello *h, deadline_t dl)
{
	struct pmsg_priv *p = ipck__priv(ch);
	struct hello w;
	ssize_t n = pmsg_get(ch, p, dl);
	if (n < 0)
		return (int)n;
	if (n < 1 || p->buf[0] != TAG_WELCOME ||
	    ipck__hello_parse(&w, p->buf + 1, (size_t)n - 1, TAG_WELCOME) || w.nonce != h->nonce)
		return -EPROTO;
	return ipck__watch_peer(ch, w.pid);
}

/* Make both queues, say hello through wk, wait for the welcome. */
static int pmsg_handshake(ipck_chan *ch, mqd_t wk, struct mq_attr *a, const char *c2s,
			  const char *s2c, const struct hello *h)
{
	deadline_t dl = ipck__deadline(ch->url.timeout_ms);
	int r;
	ch->fd = pmsg_make(s2c, O_RDWR, ch->url.mode, a);   /* as the server's c2s */
	if (ch->fd < 0)
		return ch->fd;
	ch->wfd = pmsg_make(c2s, O_WRONLY | O_NONBLOCK, ch->url.mode, a);
	if (ch->wfd < 0) {
		r = ch->wfd;
		mq_close(ch->fd);
		mq_unlink(s2c);
		ch->fd = ch->wfd = -1;
		return r;
	}
	if (!(r = pmsg_setup(ch)) && !(r = pmsg_put(ch, wk, h, sizeof(*h), 0, dl)))
		r = pmsg_await_welcome(ch, h, dl);
	mq_unlink(c2s);   /* taken by the server, or given up */
	mq_unlink(s2c);
	return r;
}

static int pmsg_connect(ipck_chan *ch)
{
	char c2s[PMSG_NAME_MAX], s2c[PMSG_NAME_MAX];
	struct mq_attr a;
	struct stat st;
	struct hello h;
	int r = pmsg_attr(&ch->url, &a);
	if (r)
		return r;
	mqd_t wk = mq_open(ch->url.addr, (ch->url.raw ? O_RDWR : O_WRONLY) | O_NONBLOCK);
	if (wk < 0)
		return errno == ENOENT ? -ECONNREFUSED : -errno;
	if (fstat(wk, &st) < 0)
		r = -errno;
	if (!r)
		r = ipck__check_owner(&ch->url, st.st_uid);
	if (!r && (ch->url.raw || ch->url.mailbox)) {
		ch->wfd = wk;
		ch->fd = ch->url.raw ? wk : -1;   /* a mailbox sender never receives */
		r = pmsg_setup(ch);
		if (!r && ch->url.mailbox) {   /* it is there once the receiver knows */
			ipck__mb_sender_init(ch);
			r = pmsg_mb_ctl(ch, TAG_HELLO, ipck__deadline(ch->url.timeout_ms));
			r = r == -EPIPE ? -ECONNREFUSED : r;
		}
		if (r)
			pmsg_release(ch);
		return r;
	}
	ipck__hello_make(&h, TAG_HELLO, ipck__conn_nonce());
	if (!r && !(r = pmsg_names(ch->url.addr, &h, c2s, s2c)))
		r = pmsg_handshake(ch, wk, &a, c2s, s2c, &h);
	mq_close(wk);
	if (r) {
		pmsg_release(ch);
		ipck__close_fd(ch->peer_fd);
		ch->peer_fd = -1;
	}
	return r;
}

/* ---- the rest ---------------------------------------------------------------- */

static int pmsg_open(ipck_chan *ch, int flags)
{
	return (flags & IPCK_LISTEN) ? pmsg_listen(ch) : pmsg_connect(ch);
}

static int pmsg_pollfd(const ipck_chan *cch)
{
	ipck_chan *ch = (ipck_chan *)cch;   /* the pollset is made on demand */
	struct pmsg_priv *p = ipck__priv(ch);
	if (ch->role == ROLE_LISTENER && !ch->url.mailbox)
		return ch->fd;
	int r = ipck__pollset(ch, ch->fd);
	if (r >= 0)
		ipck__poll_mark(ch, p->held);
	return r;
}

static int pmsg_close(ipck_chan *ch)
{
	struct pmsg_priv *p = ipck__priv(ch);
	ipck__watch_stop(p->watch);
	if (ch->role == ROLE_LISTENER) {
		int r = mq_close(ch->fd) < 0 ? -errno : 0;
		ch->fd = ch->wfd = -1;
		pmsg_release(ch);   /* a mailbox's buffers */
		if (p->maker == getpid())   /* not a copy inherited by a child */
			pmsg_unlink_same(ch->url.addr, p->dev, p->ino);
		return r;
	}
	if (!ch->eof && !ch->url.raw && !ch->url.mailbox) {
		unsigned char bye = TAG_BYE;   /* lowest priority: after all data */
		pmsg_put(ch, ch->wfd, &bye, 1, 0, ipck__deadline(1000));
	}
	if (ipck__mb_says_bye(ch))
		pmsg_mb_ctl(ch, TAG_BYE, ipck__deadline(1000));
	pmsg_release(ch);
	return 0;
}

static int pmsg_unlink(const struct ipck_url *u)
{
	return mq_unlink(u->addr) < 0 ? -errno : 0;
}

const struct ipck_scheme ipck__scheme_pmsg = {
	.info = {"pmsg", "POSIX message queues, two per connection, met through one at the name",
		 IPCK_CAP_NAMED},
	.opts = OPT_MODE | OPT_PEER_UID | OPT_RAW | OPT_TIMEOUT | OPT_MAXMSG | OPT_MSGSIZE |
		OPT_PRIORITY | OPT_MAILBOX,
	.priv_size = sizeof(struct pmsg_priv),
	.parse = pmsg_parse,
	.open = pmsg_open,
	.accept = pmsg_accept,
	.send = pmsg_send,
	.recv = pmsg_recv,
	.pollfd = pmsg_pollfd,
	.close = pmsg_close,
	.unlink = pmsg_unlink,
};
