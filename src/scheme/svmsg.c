/*
 * svmsg.c - "svmsg:KEY", "svmsg:/path" (ftok, project id 'i'), "svmsg:id=N":
 * System V message queues.  A listener makes one queue at its key
 * (IPC_CREAT|IPC_EXCL, 0600 or mode=); message types multiplex it between
 * connections.  Hellos are type 1; the connection of client pid p with
 * connection number n, b = p + (n << 32), uses type 2b+2 from the client and
 * 2b+3 to it (2p+2 and 2p+3 widened, so that one process may hold several
 * connections to one listener).  "svmsg:id=N" connects to a queue by id.
 *
 *   client: IPC_STAT: owner check; hello (type 1) -> queue
 *   server: take a hello; drop leftovers of the two types; welcome -> 2b+3
 *
 * Every message starts with a tag byte: TAG_HELLO / TAG_WELCOME (then a
 * struct hello), TAG_DATA, TAG_BYE (sent by close) and TAG_WAKE (the
 * waiting machinery of svmsg_wait.c: a System V queue has no timed receive
 * and no descriptor).  max_msg is min(msgmax, the queue's msg_qbytes) - 1.
 *
 * Who removes the queue: the process that made it, once its listener and
 * every channel accepted from it are closed (a reference count), or
 * ipck_unlink.  Clients only detach.
 *
 * Traps: a message has no sender credentials, so the peer_uid= check is of
 * the uid the hello claims: the queue's mode is the real gate.  A send to a
 * peer that closed or died succeeds while the queue has room; close drops
 * the messages nobody will read on its own type (and on the peer's, when
 * the peer is dead), but a client that keeps sending to a closed connection
 * fills the listener's queue for everyone until the queue is removed.
 *
 * raw=1: the queue at exactly the address, type 1 both ways, no tag, no
 * rendezvous; accept returns once a message came (it is the accepted
 * channel's first).  Another program's msgsnd of type 1 is a client.
 *
 * mailbox=1: no rendezvous either; every sender puts type 2 and the
 * listener receives it (svmsg_mailbox.c).
 */
#include "svmsg.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

#define SVMSG_HELLO_LEN (1 + sizeof(struct hello))

static int svmsg_num(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* The queue an address names: a key (a number, or ftok of a path), or an id. */
static int svmsg_addr(const struct ipck_url *u, key_t *key, int *id)
{
	unsigned long long v;
	*key = IPC_PRIVATE;
	*id = -1;
	if (!strncmp(u->addr, "id=", 3)) {
		if (svmsg_num(u->addr + 3, INT32_MAX, &v))
			return -EINVAL;
		*id = (int)v;
		return 0;
	}
	if (u->addr[0] == '/') {
		*key = ftok(u->addr, 'i');
		if (*key == -1)
			return -errno;
		return *key == IPC_PRIVATE ? -EINVAL : 0;
	}
	if (svmsg_num(u->addr, UINT32_MAX, &v) || v == 0)
		return -EINVAL;   /* 0 is IPC_PRIVATE: not an address */
	*key = (key_t)(uint32_t)v;
	return 0;
}

static int svmsg_parse(struct ipck_url *u)
{
	key_t key;
	int id;
	if (u->raw && u->mailbox)
		return -EINVAL;
	if (u->addr[0] == '/')
		return 0;   /* ftok needs the file: at open */
	return svmsg_addr(u, &key, &id);
}

/* The base of a connection's two message types. */
static long svmsg_base(const struct hello *h)
{
#if LONG_MAX > INT32_MAX
	return (long)h->pid + ((long)(h->nonce & 0x3fffffff) << 32);
#else
	return (long)h->pid;
#endif
}

/* The queue's owner and the largest message (mtext bytes) it takes. */
static int svmsg_stat(int qid, uid_t *uid, size_t *maxm)
{
	struct msqid_ds ds;
	if (msgctl(qid, IPC_STAT, &ds) < 0)
		return -errno;
	long long mm = ipck__read_sysctl("/proc/sys/kernel/msgmax");
	size_t m = mm > 0 ? (size_t)mm : 8192;
	if (ds.msg_qbytes < m)
		m = ds.msg_qbytes;
	*uid = ds.msg_perm.uid;
	*maxm = m;
	return 0;
}

/* ---- the queue's reference count --------------------------------------------- */

static struct svq *svq_new(int qid, bool made)
{
	struct svq *q = malloc(sizeof(*q));
	if (!q)
		return NULL;
	q->qid = qid;
	atomic_init(&q->refs, 1);
	q->owner = made ? getpid() : 0;
	return q;
}

/*
 * Removing a System V queue destroys what is still in it: the last messages
 * and the goodbye of a server that closes right after sending.  Like a
 * socket's linger, wait while a client still takes them: until the queue is
 * empty, or nobody has taken one for 100 ms, and 2 s at most.
 */
static void svq_linger(int qid)
{
	struct msqid_ds ds;
	msgqnum_t last = 0;
	int64_t start = ipck__now_ns(), moved = start;
	while (msgctl(qid, IPC_STAT, &ds) == 0 && ds.msg_qnum > 0) {
		int64_t now = ipck__now_ns();
		if (ds.msg_qnum != last) {
			last = ds.msg_qnum;
			moved = now;
		}
		if (now - moved > 100000000 || now - start > 2000000000)
			break;
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
}

static void svq_unref(struct svq *q)
{
	if (atomic_fetch_sub(&q->refs, 1) != 1)
		return;
	if (q->owner == getpid()) {   /* not a copy inherited by a child */
		svq_linger(q->qid);
		msgctl(q->qid, IPC_RMID, NULL);
	}
	free(q);
}

/* Take q (one reference) and make the channel's buffers. */
static int svmsg_setup(ipck_chan *ch, struct svq *q, size_t maxm, long rtype, long wtype)
{
	struct svmsg_priv *p = ipck__priv(ch);
	size_t hdr = ch->url.raw ? 0 : ch->url.mailbox ? SVMSG_MB_HDR : 1;
	p->q = q;
	p->rtype = rtype;
	p->wtype = wtype;
	if (maxm < (hdr ? SVMSG_HELLO_LEN : 1))
		return -EMSGSIZE;   /* msg_qbytes too small for our greetings */
	p->rxcap = maxm;
	p->rx = malloc(sizeof(struct svbuf) + maxm);
	p->tx = malloc(sizeof(struct svbuf) + maxm);
	ch->max_msg = maxm - hdr;
	return p->rx && p->tx ? 0 : -ENOMEM;
}

static void svmsg_release(ipck_chan *ch)
{
	struct svmsg_priv *p = ipck__priv(ch);
	free(p->rx);
	free(p->tx);
	p->rx = p->tx = NULL;
	if (p->q)
		svq_unref(p->q);
	p->q = NULL;
}

/* ---- sending and receiving --------------------------------------------------- */

/* Send the n mtext bytes of tx; a full queue is retried until dl. */
static int svmsg_put(ipck_chan *ch, size_t n, deadline_t dl)
{
	struct svmsg_priv *p = ipck__priv(ch);
	for (unsigned i = 0;; i++) {
		if (msgsnd(p->q->qid, p->tx, n, IPC_NOWAIT) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return ipck__svmsg_err(ch, errno);
		if (ipck__peer_gone(ch))
			return -EPIPE;
		if (ipck__ms_left(dl) == 0)
			return -ETIMEDOUT;
		ipck__backoff(i, dl);
	}
}

/* A mailbox sender: has the receiver died?  A look at its pidfd costs a
 * system call, so once a millisecond at most (its close we learn at once:
 * the queue is removed). */
static bool svmsg_mb_dead(ipck_chan *ch, struct svmsg_priv *p)
{
	int64_t now = ipck__now_ns();
	if (now < p->peer_look)
		return false;
	p->peer_look = now + SVMSG_MB_LOOK_NS;
	return ipck__peer_gone(ch);
}

/* A mailbox sender's send result r: -EPIPE once the receiver closed or died. */
static int svmsg_mb_ended(ipck_chan *ch, int r)
{
	if (r == -ECONNRESET || r == -EPIPE || (r == 0 && svmsg_mb_dead(ch, ipck__priv(ch)))) {
		ch->eof = true;
		return -EPIPE;
	}
	return r;
}

static ssize_t svmsg_send(ipck_chan *ch, const void *msg, size_t len, int timeout_ms)
{
	struct svmsg_priv *p = ipck__priv(ch);
	size_t hdr = ch->url.raw ? 0 : 1;
	int32_t pid = (int32_t)ipck__self();   /* a forked child is a sender too */
	if (ch->eof || (ch->url.mailbox && svmsg_mb_ended(ch, 0)))
		return -EPIPE;
	p->tx->mtype = p->wtype;
	if (hdr)
		p->tx->mtext[0] = TAG_DATA;
	if (ch->url.mailbox) {
		memcpy(p->tx->mtext + 1, &pid, sizeof(pid));
		hdr = SVMSG_MB_HDR;
	}
	memcpy(p->tx->mtext + hdr, msg, len);
	int r = svmsg_put(ch, len + hdr, ipck__deadline(timeout_ms));
	if (ch->url.mailbox && r)
		r = svmsg_mb_ended(ch, r);
	return r ? r : (ssize_t)len;
}

/* A mailbox sender's HELLO (open) or BYE (close): the tag, its pid, its nonce. */
static int svmsg_mb_ctl(ipck_chan *ch, int tag, deadline_t dl)
{
	struct svmsg_priv *p = ipck__priv(ch);
	int32_t pid = (int32_t)ipck__self();
	p->tx->mtype = p->wtype;
	p->tx->mtext[0] = (unsigned char)tag;
	memcpy(p->tx->mtext + 1, &pid, sizeof(pid));
	ipck__mb_body(ch, p->tx->mtext + SVMSG_MB_HDR);
	return svmsg_put(ch, SVMSG_MB_HDR + IPCK_MB_CTL_LEN, dl);
}

/* A mailbox sender announces itself: it is there once the receiver knows. */
static int svmsg_mb_join(ipck_chan *ch)
{
	ipck__mb_sender_init(ch);
	int r = svmsg_mb_ctl(ch, TAG_HELLO, ipck__deadline(ch->url.timeout_ms));
	return r == -ECONNRESET || r == -EPIPE ? -ECONNREFUSED : r;   /* removed, or dead */
}

/* Hand the held message to the caller, or keep it for a larger buffer. */
static ssize_t svmsg_deliver(ipck_chan *ch, struct svmsg_priv *p, void *buf, size_t cap)
{
	size_t hdr = ch->url.raw ? 0 : 1;
	if (hdr && (p->rxlen < 1 || p->rx->mtext[0] != TAG_DATA)) {
		bool bye = p->rxlen >= 1 && p->rx->mtext[0] == TAG_BYE;
		ipck__svmsg_consume(ch);
		if (!bye)
			return ch->err = -EPROTO;
		ch->eof = true;
		return -EPIPE;
	}
	size_t len = p->rxlen - hdr;
	if (len > cap) {
		ch->next_size = (ssize_t)len;
		return -EMSGSIZE;   /* held: the pollset stays marked in pump mode */
	}
	memcpy(buf, p->rx->mtext + hdr, len);
	ipck__svmsg_consume(ch);
	return (ssize_t)len;
}

static ssize_t svmsg_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms)
{
	struct svmsg_priv *p = ipck__priv(ch);
	if (ch->url.mailbox)
		return ipck__svmsg_mb_recv(ch, buf, cap, timeout_ms);
	int r = ipck__svmsg_fill(ch, ipck__deadline(timeout_ms));
	return r ? r : svmsg_deliver(ch, p, buf, cap);
}

/* ---- listener -------------------------------------------------------------- */

static int svmsg_listen(ipck_chan *ch)
{
	key_t key;
	int id;
	uid_t uid;
	size_t maxm;
	int r = svmsg_addr(&ch->url, &key, &id);
	if (r)
		return r;
	if (id >= 0)
		return -EINVAL;   /* an id names an existing queue: connect only */
	int qid = msgget(key, IPC_CREAT | IPC_EXCL | (int)(ch->url.mode & 0777));
	if (qid < 0)
		return errno == EEXIST ? -EADDRINUSE : -errno;
	struct svq *q = svq_new(qid, true);
	if (!q) {
		msgctl(qid, IPC_RMID, NULL);
		return -ENOMEM;
	}
	r = svmsg_stat(qid, &uid, &maxm);
	if (!r && ch->url.mailbox)
		r = svmsg_setup(ch, q, maxm, SVMSG_MB_TYPE, 0) ?: ipck__svmsg_beacon_put(ch);
	else if (!r)
		r = svmsg_setup(ch, q, maxm, 1, 1);
	if (r)
		svmsg_release(ch);   /* drops the only reference: removes the queue */
	return r;
}

/* Open the connection a hello announces and welcome its client. */
static int svmsg_attach(ipck_chan *l, ipck_chan *c, const struct hello *h, deadline_t dl)
{
	struct svmsg_priv *lp = ipck__priv(l), *p = ipck__priv(c);
	long b = svmsg_base(h);
	struct hello w;
	int r = ipck__check_owner(&l->url, h->uid);
	if (r)
		return r;
	atomic_fetch_add(&lp->q->refs, 1);
	r = svmsg_setup(c, lp->q, lp->rxcap, 2 * b + 2, 2 * b + 3);
	if (!r) {
		ipck__svmsg_purge(lp->q->qid, p->rtype);   /* an earlier connection's leftovers */
		ipck__svmsg_purge(lp->q->qid, p->wtype);
		r = ipck__watch_peer(c, h->pid);
	}
	if (!r) {
		ipck__hello_make(&w, TAG_WELCOME, h->nonce);
		p->tx->mtype = p->wtype;
		p->tx->mtext[0] = TAG_WELCOME;
		memcpy(p->tx->mtext + 1, &w, sizeof(w));
		r = svmsg_put(c, SVMSG_HELLO_LEN, dl);
	}
	if (r) {
		svmsg_release(c);
		ipck__close_fd(c->peer_fd);
		c->peer_fd = -1;
	}
	return r;
}

/* raw: the accepted channel starts with the message that came. */
static int svmsg_accept_raw(ipck_chan *l, ipck_chan *c)
{
	struct svmsg_priv *lp = ipck__priv(l), *p = ipck__priv(c);
	atomic_fetch_add(&lp->q->refs, 1);
	int r = svmsg_setup(c, lp->q, lp->rxcap, 1, 1);
	if (r) {
		svmsg_release(c);
		return r;
	}
	memcpy(p->rx, lp->rx, sizeof(struct svbuf) + lp->rxlen);
	p->rxlen = lp->rxlen;
	p->held = true;
	ipck__svmsg_consume(l);
	return 0;
}

static int svmsg_accept(ipck_chan *l, ipck_chan *c, int timeout_ms)
{
	struct svmsg_priv *lp = ipck__priv(l);
	deadline_t dl = ipck__deadline(timeout_ms);
	struct hello h;
	for (;;) {
		int r = ipck__svmsg_fill(l, dl);
		if (r)
			return r;
		if (l->url.raw)
			return svmsg_accept_raw(l, c);
		bool ok = lp->rxlen == SVMSG_HELLO_LEN && lp->rx->mtext[0] == TAG_HELLO &&
			  !ipck__hello_parse(&h, lp->rx->mtext + 1, lp->rxlen - 1, TAG_HELLO);
		ipck__svmsg_consume(l);
		if (ok && svmsg_attach(l, c, &h, dl) == 0)
			return 0;
		/* a client that left or lied: wait for the next one */
	}
}

/* ---- connecting side ------------------------------------------------------- */

/* Say hello and wait for the welcome (polled: it comes within microseconds). */
static int svmsg_handshake(ipck_chan *ch, const struct hello *h)
{
	struct svmsg_priv *p = ipck__priv(ch);
	deadline_t dl = ipck__deadline(ch->url.timeout_ms);
	struct hello w;
	p->tx->mtype = 1;
	p->tx->mtext[0] = TAG_HELLO;
	memcpy(p->tx->mtext + 1, h, sizeof(*h));
	int r = svmsg_put(ch, SVMSG_HELLO_LEN, dl);
	if (r)
		return r == -ECONNRESET ? -ECONNREFUSED : r;
	for (unsigned i = 0;; i++) {
		ssize_t n = msgrcv(p->q->qid, p->rx, p->rxcap, p->rtype, IPC_NOWAIT);
		if (n == (ssize_t)SVMSG_HELLO_LEN && p->rx->mtext[0] == TAG_WELCOME &&
		    !ipck__hello_parse(&w, p->rx->mtext + 1, (size_t)n - 1, TAG_WELCOME) &&
		    w.nonce == h->nonce)
			return ipck__watch_peer(ch, w.pid);
		if (n >= 0 || errno == EINTR)
			continue;   /* a stale message of an earlier connection */
		if (errno != ENOMSG)
			return errno == EIDRM || errno == EINVAL ? -ECONNREFUSED : -errno;
		if (ipck__ms_left(dl) == 0)
			return -ETIMEDOUT;
		ipck__backoff(i, dl);
	}
}

static int svmsg_connect(ipck_chan *ch)
{
	key_t key;
	int id;
	uid_t uid;
	size_t maxm;
	struct hello h;
	int r = svmsg_addr(&ch->url, &key, &id);
	if (r)
		return r;
	int qid = id >= 0 ? id : msgget(key, 0);
	if (qid < 0)
		return errno == ENOENT ? -ECONNREFUSED : -errno;
	r = svmsg_stat(qid, &uid, &maxm);
	if (r == -EINVAL || r == -EIDRM)
		return -ECONNREFUSED;   /* no queue with that id */
	if (!r)
		r = ipck__check_owner(&ch->url, uid);
	if (r)
		return r;
	struct svq *q = svq_new(qid, false);
	if (!q)
		return -ENOMEM;
	ipck__hello_make(&h, TAG_HELLO, ipck__conn_nonce());
	long b = svmsg_base(&h);
	if (ch->url.raw)
		r = svmsg_setup(ch, q, maxm, 1, 1);
	else if (ch->url.mailbox)   /* a sender: it never receives */
		r = svmsg_setup(ch, q, maxm, 0, SVMSG_MB_TYPE) ?: ipck__svmsg_beacon_watch(ch) ?:
		    svmsg_mb_join(ch);
	else if (!(r = svmsg_setup(ch, q, maxm, 2 * b + 3, 2 * b + 2)))
		r = svmsg_handshake(ch, &h);
	if (r) {
		svmsg_release(ch);
		ipck__close_fd(ch->peer_fd);
		ch->peer_fd = -1;
	}
	return r;
}

/* ---- the rest ---------------------------------------------------------------- */

static int svmsg_open(ipck_chan *ch, int flags)
{
	return (flags & IPCK_LISTEN) ? svmsg_listen(ch) : svmsg_connect(ch);
}

/* A pollset marked by the pump thread (see svmsg_wait.c for the cost). */
static int svmsg_pollfd(const ipck_chan *cch)
{
	ipck_chan *ch = (ipck_chan *)cch;   /* made on demand */
	int fd = ipck__pollset(ch, -1);
	if (fd < 0)
		return fd;
	int r = ipck__svmsg_pump(ch);
	return r < 0 ? r : fd;
}

/* Goodbye to a live peer that has not said it first; drop what nobody will read. */
static void svmsg_bye(ipck_chan *ch, struct svmsg_priv *p)
{
	bool peer_bye = ipck__svmsg_purge(p->q->qid, p->rtype);
	bool dead = ipck__peer_gone(ch);
	if (!ch->eof && !peer_bye && !dead) {
		p->tx->mtype = p->wtype;
		p->tx->mtext[0] = TAG_BYE;
		svmsg_put(ch, 1, ipck__deadline(1000));
	}
	if (dead)
		ipck__svmsg_purge(p->q->qid, p->wtype);
}

static int svmsg_close(ipck_chan *ch)
{
	struct svmsg_priv *p = ipck__priv(ch);
	ipck__svmsg_wait_free(ch);
	if (ch->role != ROLE_LISTENER && !ch->url.raw && !ch->url.mailbox && p->q)
		svmsg_bye(ch, p);
	if (p->q && ipck__mb_says_bye(ch))   /* after all it sent */
		svmsg_mb_ctl(ch, TAG_BYE, ipck__deadline(1000));
	svmsg_release(ch);
	return 0;
}

static int svmsg_unlink(const struct ipck_url *u)
{
	key_t key;
	int id;
	int r = svmsg_addr(u, &key, &id);
	if (r)
		return r;
	int qid = id >= 0 ? id : msgget(key, 0);
	if (qid < 0)
		return -errno;
	if (msgctl(qid, IPC_RMID, NULL) < 0)
		return errno == EINVAL || errno == EIDRM ? -ENOENT : -errno;
	return 0;
}

const struct ipck_scheme ipck__scheme_svmsg = {
	.info = {"svmsg", "a System V message queue per listener, types per connection",
		 IPCK_CAP_NAMED},
	.opts = OPT_MODE | OPT_PEER_UID | OPT_RAW | OPT_TIMEOUT | OPT_MAILBOX,
	.priv_size = sizeof(struct svmsg_priv),
	.parse = svmsg_parse,
	.open = svmsg_open,
	.accept = svmsg_accept,
	.send = svmsg_send,
	.recv = svmsg_recv,
	.pollfd = svmsg_pollfd,
	.close = svmsg_close,
	.unlink = svmsg_unlink,
};
