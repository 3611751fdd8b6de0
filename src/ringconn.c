/*
 * ringconn.c - how two processes come to share one ring: the rendezvous of
 * pshm:, svshm: and mmap:, and ipck_pair("pshm:").
 *
 * The listener creates the well-known object of the URL (a POSIX segment, a
 * System V segment, a file; 0600, exclusively) holding only a ring header
 * marked RING_CTL: the ring capacity, the listener's pid and a random nonce
 * naming its rendezvous socket, the abstract Unix seqpacket socket
 * "\0ipckit-ring-<nonce>".  A client opens the object (owner, size, magic
 * and version checked) and connects to the socket.  accept then makes a
 * fresh segment for this one connection, unnamed (a POSIX segment unlinked
 * at once, an O_TMPFILE file, a System V segment marked for removal once
 * both sides are attached), and passes it over the socket (SCM_RIGHTS, or
 * the shmid with the System V semaphore set of the waits).  The client
 * checks it, attaches, and answers; both sides know the other's pid from
 * SO_PEERCRED and watch it with a pidfd.  The socket stays: it is the
 * doorbell behind ipck_pollfd, and says hang-up when the peer is gone.
 *
 * So no connection leaves anything behind, whatever dies when: only the
 * listener's object (removed by its close, or ipck_unlink after a crash)
 * and, for svshm:, a connection's semaphore set when both sides die.
 *
 * With ?mpmc=1 the well-known object is itself the one shared ring: every
 * client joins it; accept returns a handle once another client joined.
 */
#include "ring.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* What accept sends a client, with the segment's descriptor unless System V. */
struct rv_welcome {
	uint32_t magic;     /* RING_MAGIC */
	uint32_t version;   /* RING_VERSION */
	uint64_t size;      /* bytes of the segment */
	int32_t shmid;      /* System V segment, or -1 */
	int32_t semid;      /* System V semaphore set of the waits, or -1 */
};

#define RV_ACK 'A'
#define SEMS_SPSC 4   /* the four wait words */
#define SEMS_MPMC 6   /* and the two locks */

static void ring_init(struct ring *r)
{
	ipck__shm_init(&r->seg);
	ipck__shm_init(&r->ctl);
	r->sock = r->lsock = r->semid = -1;
	r->w = &ipck__futex_waitops;
}

static socklen_t rv_addr(struct sockaddr_un *a, uint64_t nonce)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "ipckit-ring-%016llx",
			 (unsigned long long)nonce);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

static ring_seg_fn seg_fn(enum shm_kind k)
{
	return k == SHM_SYSV ? ipck__svshm_seg : k == SHM_FILE ? ipck__mmap_seg : ipck__pshm_seg;
}

int ipck__ringconn_parse(struct ipck_url *u)
{
	struct ipck_shm s;
	uint64_t cap;
	if (ipck__ring_cap(u, &cap))
		return ipck__url_bad(u, "capacity: a power of two from %llu to %llu bytes",
				     (unsigned long long)RING_CAP_MIN, (unsigned long long)RING_CAP_MAX);
	return ipck__shm_url(u, &s);
}

/* ---- System V semaphore sets of svshm: ------------------------------------- */

static int semset_create(key_t key, int n, unsigned mode)
{
	unsigned short init[SEMS_MPMC] = {0, 0, 0, 0, 1, 1};
	int id = semget(key, n, IPC_CREAT | IPC_EXCL | (int)(mode & 0777));
	if (id < 0)
		return errno == EEXIST ? -EADDRINUSE : -errno;
	if (semctl(id, 0, SETALL, init) < 0) {
		int e = -errno;
		semctl(id, 0, IPC_RMID);
		return e;
	}
	return id;
}

/* A set the peer named: ours (or peer_uid's), with n semaphores. */
static int semset_check(const struct ipck_url *u, int id, int n)
{
	struct semid_ds ds;
	if (id < 0 || semctl(id, 0, IPC_STAT, &ds) < 0)
		return -EPROTO;
	if ((int)ds.sem_nsems != n)
		return -EPROTO;
	return ipck__check_owner(u, ds.sem_perm.uid);
}

/* ---- listener --------------------------------------------------------------- */

static int rv_listen_sock(struct ring *r)
{
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	for (int i = 0; i < 8; i++) {
		r->nonce = ipck__nonce();
		socklen_t len = rv_addr(&a, r->nonce);
		if (bind(fd, (struct sockaddr *)&a, len) == 0 && listen(fd, SOMAXCONN) == 0) {
			r->lsock = fd;
			return 0;
		}
		if (errno != EADDRINUSE)
			break;
	}
	int e = -errno;
	close(fd);
	return e;
}

static int ring_listen(ipck_chan *ch)
{
	struct ring *r = ipck__priv(ch);
	uint64_t cap;
	int e = ipck__ring_cap(&ch->url, &cap);
	if (!e)
		e = ipck__shm_url(&ch->url, &r->ctl);
	if (e)
		return e;
	bool mpmc = ch->url.mpmc, sysv = r->ctl.kind == SHM_SYSV;
	size_t size = mpmc ? ipck__ring_size(cap, true) : RING_HDR_SIZE;
	if ((e = ipck__shm_create(&r->ctl, size, ch->url.mode)))
		return e;
	e = ipck__shm_map(&r->ctl);
	if (!e && mpmc && sysv && (e = semset_create(r->ctl.key, SEMS_MPMC, ch->url.mode)) >= 0) {
		r->semid = e;
		e = 0;
	}
	if (!e && !mpmc)
		e = rv_listen_sock(r);
	if (e) {
		ipck__shm_remove(&r->ctl);
		ipck__shm_close(&r->ctl);
		return e;
	}
	struct ring_hdr *h = r->ctl.p;
	h->nonce = r->nonce;
	ipck__ring_format(h, cap, size, mpmc ? RING_MPMC : RING_CTL, r->semid);
	ch->max_msg = cap - REC_HDR;
	r->cap = cap;
	r->mpmc = mpmc;
	return 0;
}

/* Make, format and map the segment of one connection; its size in *size. */
static int conn_segment(ipck_chan *l, struct ring *c, size_t *size)
{
	struct ring *lr = ipck__priv(l);
	uint64_t cap = lr->cap;   /* not the header's: clients can write it */
	*size = ipck__ring_size(cap, false);
	c->seg.kind = lr->ctl.kind;
	int e = seg_fn(lr->ctl.kind)(&c->seg, &l->url, *size, ipck__nonce());
	if (!e)
		e = ipck__shm_map(&c->seg);
	if (!e && c->seg.kind == SHM_SYSV) {
		c->semid = semset_create(IPC_PRIVATE, SEMS_SPSC, l->url.mode);
		e = c->semid < 0 ? c->semid : 0;
		c->sem_owner = true;
		c->w = &ipck__sem_waitops;
	}
	if (!e)
		ipck__ring_format(c->seg.p, cap, *size, 0, c->semid);
	return e;
}

static int send_welcome(int sock, const struct ring *c, size_t size)
{
	struct rv_welcome w = {RING_MAGIC, RING_VERSION, size, c->seg.id, c->semid};
	struct iovec iov = {&w, sizeof(w)};
	union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr al; } u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	if (c->seg.fd >= 0) {
		m.msg_control = u.b;
		m.msg_controllen = sizeof(u.b);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &c->seg.fd, sizeof(int));
	}
	return sendmsg(sock, &m, MSG_NOSIGNAL) == (ssize_t)sizeof(w) ? 0 : -EPIPE;
}

static int peer_cred(int sock, const struct ipck_url *u, struct ucred *cr)
{
	socklen_t len = sizeof(*cr);
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, cr, &len) < 0)
		return -errno;
	return ipck__check_owner(u, cr->uid);
}

/* One accepted socket: segment, welcome, wait for the client's answer. */
static int serve_client(ipck_chan *l, ipck_chan *c, int sock, deadline_t dl)
{
	struct ring *cr = ipck__priv(c);
	struct ucred who;
	size_t size;
	char ack;
	int e = peer_cred(sock, &l->url, &who);
	if (!e)
		e = conn_segment(l, cr, &size);
	if (!e)
		e = ipck__ring_attach(c, 0);
	if (!e)
		e = ipck__ring_claim(c);
	if (!e)
		e = send_welcome(sock, cr, size);
	if (!e)
		e = ipck__wait_fd(c, sock, POLLIN, dl);
	if (!e && recv(sock, &ack, 1, MSG_DONTWAIT) != 1)
		e = -EPROTO;
	if (!e && ack != RV_ACK)
		e = -EPROTO;
	if (!e)
		e = ipck__watch_peer(c, who.pid);
	if (cr->seg.kind == SHM_SYSV && cr->seg.id >= 0)
		ipck__shm_remove(&cr->seg);   /* both attached, or never will be */
	return e;
}

static void conn_undo(struct ring *c)
{
	if (c->semid >= 0 && c->sem_owner)
		semctl(c->semid, 0, IPC_RMID);
	ipck__shm_close(&c->seg);
	ipck__close_fd(c->sock);
	ring_init(c);
}

static int mpmc_accept(ipck_chan *l, ipck_chan *c, int timeout_ms);

int ipck__ringconn_accept(ipck_chan *l, ipck_chan *c, int timeout_ms)
{
	struct ring *lr = ipck__priv(l), *cr = ipck__priv(c);
	deadline_t dl = ipck__deadline(timeout_ms);
	ring_init(cr);
	if (lr->cast)
		return ipck__cast_accept(l, c, timeout_ms);
	if (lr->mpmc)
		return mpmc_accept(l, c, timeout_ms);
	for (;;) {
		int e = ipck__wait_fd(l, lr->lsock, POLLIN, dl);
		if (e)
			return e;
		int s = accept4(lr->lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (s < 0 && (errno == EAGAIN || errno == ECONNABORTED || errno == EINTR))
			continue;
		if (s < 0)
			return -errno;
		cr->sock = s;
		/* A client that fails its part does not fail the listener. */
		deadline_t hs = ipck__deadline(l->url.timeout_ms);
		e = serve_client(l, c, s, dl >= 0 && dl < hs ? dl : hs);
		if (!e)
			return 0;
		conn_undo(cr);
		ipck__close_fd(c->peer_fd);
		c->peer_fd = -1;
		if (e != -EACCES && e != -EPROTO && e != -EPIPE && e != -ETIMEDOUT &&
		    e != -ECONNRESET)
			return e;
		if (ipck__ms_left(dl) == 0)
			return -ETIMEDOUT;
	}
}

/* ---- client ----------------------------------------------------------------- */

/* 0: a listener's object; -EAGAIN: being made (no magic yet); -EPROTO: not one. */
static int ctl_check(const struct ipck_shm *s)
{
	const struct ring_hdr *h = s->p;
	/* Acquire: pairs with the release of the magic in ipck__ring_format. */
	uint32_t magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
	if (magic == 0)
		return -EAGAIN;
	uint32_t fl = h->flags;
	if (magic != RING_MAGIC || (fl != RING_CTL && fl != RING_MPMC))
		return -EPROTO;
	return ipck__ring_check(h, s->size, fl);
}

/* Open the listener's object once it is ready: owner, size, magic checked. */
static int ctl_open(ipck_chan *ch, struct ipck_shm *s, deadline_t dl)
{
	for (unsigned i = 0;; i++) {
		int e = ipck__shm_url(&ch->url, s);
		if (!e)
			e = ipck__shm_open(s);
		if (e == -ENOENT)
			return -ECONNREFUSED;
		if (!e)
			e = ipck__check_owner(&ch->url, s->uid);
		if (!e && s->size >= RING_HDR_SIZE)
			e = ipck__shm_map(s);
		if (e) {
			ipck__shm_close(s);
			return e;
		}
		if (s->p && (e = ctl_check(s)) != -EAGAIN) {
			if (e)
				ipck__shm_close(s);
			return e;
		}
		ipck__shm_close(s);   /* being made: not sized or formatted yet */
		if (ipck__ms_left(dl) == 0)
			return -ECONNREFUSED;
		ipck__backoff(i, dl);
	}
}

static int rv_connect_sock(ipck_chan *ch, uint64_t nonce, deadline_t dl)
{
	struct ring *r = ipck__priv(ch);
	struct sockaddr_un a;
	socklen_t len = rv_addr(&a, nonce);
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -errno;
	r->sock = s;
	for (unsigned i = 0; connect(s, (struct sockaddr *)&a, len) < 0; i++) {
		if (errno == ECONNREFUSED || errno == ENOENT)
			return -ECONNREFUSED;   /* its object outlived it */
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		if (ipck__ms_left(dl) == 0)
			return -ETIMEDOUT;
		ipck__backoff(i, dl);   /* its backlog is full */
	}
	return 0;
}

static int recv_welcome(int sock, struct rv_welcome *w, int *fd)
{
	struct iovec iov = {w, sizeof(*w)};
	union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr al; } u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			   .msg_controllen = sizeof(u.b)};
	*fd = -1;
	ssize_t n = recvmsg(sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == ECONNRESET ? -ECONNREFUSED : -errno;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
	if (n == 0)
		return -ECONNREFUSED;   /* the listener closed us */
	if (n != sizeof(*w) || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    w->magic != RING_MAGIC || w->version != RING_VERSION)
		return -EPROTO;
	return 0;
}

/* The segment the welcome names: ours to use only if it checks out. */
static int take_segment(ipck_chan *ch, const struct rv_welcome *w, int fd, pid_t lpid)
{
	struct ring *r = ipck__priv(ch);
	int e;
	if (r->seg.kind == SHM_SYSV) {
		ipck__close_fd(fd);
		r->seg.id = w->shmid;
		e = w->shmid < 0 ? -EPROTO : ipck__shm_open(&r->seg);
		if (!e && r->seg.cpid != lpid)
			e = -EPROTO;
		if (!e && !(e = semset_check(&ch->url, w->semid, SEMS_SPSC))) {
			r->semid = w->semid;
			r->w = &ipck__sem_waitops;
		}
		r->sem_owner = false;   /* until attached: the listener undoes a failure */
	} else {
		r->seg.kind = SHM_MEMFD;   /* unnamed now, whatever it was made as */
		e = fd < 0 ? -EPROTO : ipck__shm_adopt_fd(&r->seg, fd);
	}
	if (!e)
		e = ipck__check_owner(&ch->url, r->seg.uid);
	if (!e && r->seg.size != w->size)
		e = -EPROTO;
	if (!e)
		e = ipck__shm_map(&r->seg);
	if (!e)
		e = ipck__ring_attach(ch, 1);
	if (!e && r->h->owner != lpid)
		e = -EPROTO;
	return e;
}

static int rv_connect(ipck_chan *ch, uint64_t nonce, deadline_t dl)
{
	struct ring *r = ipck__priv(ch);
	struct rv_welcome w;
	struct ucred who;
	int fd = -1;
	int e = rv_connect_sock(ch, nonce, dl);
	if (!e)
		e = peer_cred(r->sock, &ch->url, &who);
	if (!e)
		e = ipck__wait_fd(ch, r->sock, POLLIN, dl);
	if (e == -ETIMEDOUT)
		e = -ECONNREFUSED;   /* nobody accepted us in time */
	if (!e)
		e = recv_welcome(r->sock, &w, &fd);
	if (!e)
		e = take_segment(ch, &w, fd, who.pid);
	else
		ipck__close_fd(fd);
	if (!e)
		e = ipck__ring_claim(ch);
	if (!e && send(r->sock, (char[]){RV_ACK}, 1, MSG_NOSIGNAL) != 1)
		e = -ECONNREFUSED;
	r->sem_owner = !e && r->semid >= 0;   /* the last side to close removes it */
	if (!e)
		e = ipck__watch_peer(ch, who.pid);
	return e;
}

static int mpmc_join(ipck_chan *ch, struct ipck_shm *ctl)
{
	struct ring *r = ipck__priv(ch);
	r->seg = *ctl;
	ipck__shm_init(ctl);
	int e = ipck__ring_attach(ch, 1);
	int32_t semid = r->h ? r->h->semid : -1;
	if (!e && r->seg.kind == SHM_SYSV && !(e = semset_check(&ch->url, semid, SEMS_MPMC))) {
		r->semid = semid;
		r->w = &ipck__sem_waitops;
	}
	if (!e)
		e = ipck__ring_claim(ch);
	if (!e)
		atomic_fetch_add_explicit(&r->h->attached, 1, memory_order_release);
	return e;
}

static int ring_connect(ipck_chan *ch)
{
	struct ring *r = ipck__priv(ch);
	struct ipck_shm ctl;
	deadline_t dl = ipck__deadline(ch->url.timeout_ms);
	int e = ctl_open(ch, &ctl, dl);
	if (e)
		return e;
	const struct ring_hdr *h = ctl.p;
	if (h->flags == RING_MPMC) {
		e = mpmc_join(ch, &ctl);
	} else {
		uint64_t nonce = h->nonce;
		r->seg.kind = ctl.kind;
		ipck__shm_close(&ctl);
		e = rv_connect(ch, nonce, dl);
	}
	if (e)
		conn_undo(r);
	return e;
}

int ipck__ringconn_open(ipck_chan *ch, int flags)
{
	struct ring *r = ipck__priv(ch);
	ring_init(r);
	if (!ch->url.addr[0])
		return -EINVAL;   /* "pshm:" is for ipck_pair */
	if (ch->url.broadcast)
		return ch->url.mpmc ? -EINVAL : ipck__cast_open(ch, flags);
	return (flags & IPCK_LISTEN) ? ring_listen(ch) : ring_connect(ch);
}

/* ---- MPMC accept, close, unlink, pair ----------------------------------------- */

static int mpmc_accept(ipck_chan *l, ipck_chan *c, int timeout_ms)
{
	struct ring *lr = ipck__priv(l), *cr = ipck__priv(c);
	const struct ring_hdr *h = lr->ctl.p;
	deadline_t dl = ipck__deadline(timeout_ms);
	for (unsigned i = 0; atomic_load_explicit(&h->attached, memory_order_acquire) <= lr->accepted; i++) {
		if (ipck__ms_left(dl) == 0)
			return -ETIMEDOUT;
		ipck__backoff(i, dl);
	}
	cr->seg = lr->ctl;   /* a mapping of its own */
	cr->seg.p = NULL;
	cr->seg.created = false;
	cr->seg.fd = lr->ctl.fd < 0 ? -1 : fcntl(lr->ctl.fd, F_DUPFD_CLOEXEC, 0);
	int e = lr->ctl.fd >= 0 && cr->seg.fd < 0 ? -errno : ipck__shm_map(&cr->seg);
	if (!e)
		e = ipck__ring_attach(c, 0);
	if (!e && lr->semid >= 0) {
		cr->semid = lr->semid;
		cr->w = &ipck__sem_waitops;
	}
	if (!e)
		e = ipck__ring_claim(c);
	if (e) {
		cr->semid = -1;
		conn_undo(cr);
		return e;
	}
	lr->accepted++;
	return 0;
}

int ipck__ringconn_close(ipck_chan *ch)
{
	struct ring *r = ipck__priv(ch);
	int e = 0;
	if (r->cast)
		return ipck__cast_close(ch);
	if (ch->role == ROLE_LISTENER) {
		ipck__close_fd(r->lsock);
		if (r->semid >= 0 && semctl(r->semid, 0, IPC_RMID) < 0)
			e = -errno;
		int e2 = ipck__shm_remove(&r->ctl);
		int e3 = ipck__shm_close(&r->ctl);
		return e ? e : e2 ? e2 : e3;
	}
	bool last = ipck__ring_bye(ch);
	if (last && r->sem_owner && r->semid >= 0)
		semctl(r->semid, 0, IPC_RMID);
	e = ipck__shm_close(&r->seg);
	int e2 = ipck__close_fd(r->sock);
	return e ? e : e2;
}

int ipck__ringconn_unlink(const struct ipck_url *u)
{
	struct ipck_shm s;
	int e = ipck__shm_url(u, &s);
	if (e)
		return e;
	if (s.kind == SHM_SYSV && s.key != IPC_PRIVATE) {
		struct semid_ds ds;
		int id = semget(s.key, 0, 0);   /* an MPMC ring's semaphores, if any */
		if (id >= 0 && semctl(id, 0, IPC_STAT, &ds) == 0 && ds.sem_nsems == SEMS_MPMC)
			semctl(id, 0, IPC_RMID);
	}
	return ipck__shm_unlink(&s);
}

/* ipck_pair("pshm:"): a sealed memfd mapped by both ends, a socketpair bell. */
int ipck__ringconn_pair(ipck_chan *a, ipck_chan *b)
{
	struct ring *ra = ipck__priv(a), *rb = ipck__priv(b);
	int sv[2];
	uint64_t cap;
	if (a->url.addr[0])
		return -EINVAL;   /* the unnamed ring has no address: "pshm:" */
	ring_init(ra);
	ring_init(rb);
	int e = ipck__ring_cap(&a->url, &cap);
	if (e || a->url.mpmc || a->url.broadcast)
		return -EINVAL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return -errno;
	ra->sock = sv[0];
	rb->sock = sv[1];
	size_t size = ipck__ring_size(cap, false);
	ra->seg.kind = SHM_MEMFD;
	e = ipck__shm_create(&ra->seg, size, 0600);
	if (!e)
		e = ipck__shm_map(&ra->seg);
	if (!e) {
		ipck__ring_format(ra->seg.p, cap, size, 0, -1);
		rb->seg = ra->seg;
		rb->seg.p = NULL;
		rb->seg.fd = fcntl(ra->seg.fd, F_DUPFD_CLOEXEC, 0);
		e = rb->seg.fd < 0 ? -errno : ipck__shm_map(&rb->seg);
	}
	if (!e)
		e = ipck__ring_attach(a, 0);
	if (!e)
		e = ipck__ring_attach(b, 1);
	if (e) {
		conn_undo(ra);
		conn_undo(rb);
	}
	return e;
}
