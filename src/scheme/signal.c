/*
 * signal.c - "signal:/path[?sig=SIGRTMIN+4]": messages carried by queued
 * realtime signals, 8 bytes each, read through a signalfd (src/sigchan.c
 * does the wire; this file the rendezvous).
 *
 * The listener creates /path (exclusively, 0600 or mode=, never through a
 * symlink), holds a flock on it while it listens, and writes into it
 *   "ipckit-signal 1 PID LID SIG\n"   (its pid, a random listener id, and
 *                                      the signal it receives on)
 * Its close removes the file, if the process that made it closes it.  A
 * connecting side opens the file without following a symlink, checks its
 * owner and that the lock is held (no lock: the listener crashed and the pid
 * may belong to anyone now; nothing is sent), opens a pidfd on PID, checks
 * the lock again (so the pidfd is the listener's), and sends HELLO with its
 * own signal; accept answers WELCOME.  Each side then knows the other's pid.
 *
 * Traps: the signal must be blocked in every thread of both processes, or
 * a thread that does not block it takes it and dies (the default action of
 * a realtime signal is to terminate).  Open and accept check that and block
 * it in the calling thread, and it stays blocked: a late signal from the
 * peer must wait in the queue, not kill.  See ipckit-signal(7).
 */
#include "../sigchan.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_SIG (SIGRTMIN + 4)

static int sg_parse(struct ipck_url *u)
{
	if (!u->addr[0])
		return -EINVAL;
	if (!u->sig)
		u->sig = DEFAULT_SIG;
	if (u->sig < SIGRTMIN || u->sig > SIGRTMAX)
		return -EINVAL;   /* only realtime signals queue every copy */
	return 0;
}

/* Undo a failed open or accept: ipck_open frees the handle only. */
static int sg_undo(ipck_chan *ch, int err)
{
	ipck__sigchan_release(ch);
	ipck__pollset_close(ch);
	ipck__close_fd(ch->peer_fd);
	ch->peer_fd = -1;
	return err;
}

/* ---- the listening side ------------------------------------------------ */

static int rv_create(ipck_chan *ch, struct sigchan *p)
{
	const char *path = ch->url.addr;
	char buf[96];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, ch->url.mode);
	if (fd < 0)
		return errno == EEXIST ? -EADDRINUSE : -errno;
	int n = snprintf(buf, sizeof(buf), "ipckit-signal 1 %d %u %d\n", (int)p->self, p->lid, p->sig);
	int r = 0;
	if (fchmod(fd, ch->url.mode) < 0 || flock(fd, LOCK_EX) < 0)
		r = -errno;
	else if (write(fd, buf, (size_t)n) != n)
		r = errno ? -errno : -EIO;
	if (r) {
		unlink(path);
		close(fd);
		return r;
	}
	p->file_fd = fd;
	return 0;
}

static int sg_listen(ipck_chan *ch)
{
	struct sigchan *p = ipck__priv(ch);
	p->listener = true;
	p->lid = (uint32_t)ipck__nonce() | 1;
	int r = ipck__sigchan_setup(ch, ch->url.sig);
	if (!r)
		r = rv_create(ch, p);
	return r ? sg_undo(ch, r) : 0;
}

/* ---- the connecting side ----------------------------------------------- */

struct rv {
	pid_t pid;
	uint32_t lid;
	int sig;
};

/* -EAGAIN while the listener is still writing the file. */
static int rv_parse(int fd, struct rv *v)
{
	char buf[96], nl = 0;
	int pid, sig;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (!memchr(buf, '\n', (size_t)n))
		return n < (ssize_t)sizeof(buf) - 1 ? -EAGAIN : -EPROTO;
	if (sscanf(buf, "ipckit-signal 1 %d %u %d%c", &pid, &v->lid, &sig, &nl) != 4 || nl != '\n')
		return -EPROTO;
	if (pid <= 0 || sig < SIGRTMIN || sig > SIGRTMAX)
		return -EPROTO;
	v->pid = pid;
	v->sig = sig;
	return 0;
}

/* The listener holds its lock: the file is not a leftover of a crash. */
static int rv_locked(int fd)
{
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		flock(fd, LOCK_UN);
		return -ECONNREFUSED;
	}
	return errno == EWOULDBLOCK ? 0 : -errno;
}

/* Open and read the rendezvous file; its descriptor in *fd on success. */
static int rv_open(const struct ipck_url *u, int *fd, struct rv *v)
{
	struct stat st;
	*fd = open(u->addr, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0)
		return errno == ENOENT ? -ECONNREFUSED : -errno;
	int r = fstat(*fd, &st) < 0 ? -errno : 0;
	if (!r && !S_ISREG(st.st_mode))
		r = -EPROTO;   /* not a rendezvous file */
	if (!r)
		r = ipck__check_owner(u, st.st_uid);
	if (!r)
		r = rv_parse(*fd, v);
	if (!r)
		r = rv_locked(*fd);
	if (r) {
		close(*fd);
		*fd = -1;
	}
	return r;
}

/* Find the listener and hold a pidfd on it; *fd keeps the file open. */
static int rv_find(ipck_chan *ch, struct sigchan *p, int *fd, deadline_t dl)
{
	struct rv v;
	int r;
	for (unsigned a = 0; (r = rv_open(&ch->url, fd, &v)) == -EAGAIN; a++) {
		if (!ipck__ms_left(dl))
			return -ECONNREFUSED;
		ipck__backoff(a, dl);
	}
	if (r)
		return r;
	r = ipck__watch_peer(ch, v.pid);
	if (!r && ipck__peer_gone(ch))
		r = -EPIPE;   /* signals need a live pidfd to be sent through */
	if (!r)
		r = rv_locked(*fd);   /* still held: the pidfd is the listener's */
	if (r == -EPIPE)
		r = -ECONNREFUSED;
	p->lid = v.lid;
	p->peer_sig = v.sig;
	return r;
}

/*
 * Wait for WELCOME.  A listener that closes drops its lock, and one that
 * dies ends its pidfd: both refuse us (a HELLO left unanswered in a closed
 * listener's queue would otherwise keep us waiting to the end).
 */
static int wait_welcome(ipck_chan *ch, struct sigchan *p, int fd, deadline_t dl)
{
	for (;;) {
		int r = ipck__sigchan_refill(p);
		if (p->welcomed)
			return 0;
		if (r)
			return r;
		if (ch->eof || ipck__peer_gone(ch) || rv_locked(fd))
			return -ECONNREFUSED;
		int left = ipck__ms_left(dl);
		if (left == 0)
			return -ETIMEDOUT;
		deadline_t slice = ipck__deadline(left < 0 || left > 100 ? 100 : left);
		r = ipck__wait_fd(ch, ch->poll_ep, POLLIN, slice);
		if (r && r != -EPIPE && r != -ETIMEDOUT)
			return r;
	}
}

static int sg_connect(ipck_chan *ch)
{
	struct sigchan *p = ipck__priv(ch);
	deadline_t dl = ipck__deadline(ch->url.timeout_ms);
	int fd = -1;
	int r = rv_find(ch, p, &fd, dl);
	if (!r)
		r = ipck__sigchan_setup(ch, ch->url.sig);
	if (!r)
		r = ipck__sigchan_put(p, K_HELLO, (unsigned)p->sig, p->lid, dl);
	if (r == -EPIPE)
		r = -ECONNREFUSED;
	if (!r)
		r = wait_welcome(ch, p, fd, dl);
	ipck__close_fd(fd);
	if (r && p->registered && !ipck__peer_gone(ch))
		ipck__sigchan_put(p, K_BYE, 0, p->lid, 0);   /* withdraws the HELLO */
	return r ? sg_undo(ch, r) : 0;
}

static int sg_open(ipck_chan *ch, int flags)
{
	return (flags & IPCK_LISTEN) ? sg_listen(ch) : sg_connect(ch);
}

/* ---- accept -------------------------------------------------------------- */

/* Set up conn for the client of HELLO h: 0, or -EAGAIN to skip that one. */
static int conn_setup(ipck_chan *l, ipck_chan *c, const struct sent *h)
{
	struct sigchan *lp = ipck__priv(l), *p = ipck__priv(c);
	int csig = (int)TAG_SEQ(h->tag);
	if (csig < SIGRTMIN || csig > SIGRTMAX || ipck__watch_peer(c, h->pid) ||
	    ipck__peer_gone(c))
		return -EAGAIN;   /* malformed, or the client is gone already */
	p->ch = c;
	p->peer_sig = csig;
	p->id = TAG_ID(h->tag);
	p->lid = lp->lid;
	p->self = getpid();
	p->uid = getuid();
	if (ipck__check_owner(&l->url, h->uid)) {
		ipck__sigchan_put(p, K_BYE, 0, 0, 0);   /* refused */
		ipck__close_fd(c->peer_fd);
		c->peer_fd = -1;
		return -EAGAIN;
	}
	int r = ipck__sigchan_setup(c, lp->sig);
	if (!r)
		r = ipck__sigchan_put(p, K_WELCOME, 0, lp->lid, ipck__deadline(1000));
	if (r)
		sg_undo(c, r);
	return r == -EPIPE ? -EAGAIN : r;
}

static int sg_accept(ipck_chan *l, ipck_chan *c, int timeout_ms)
{
	struct sigchan *lp = ipck__priv(l);
	deadline_t dl = ipck__deadline(timeout_ms);
	for (;;) {
		struct sent h;
		int r = ipck__sigchan_hello(lp, &h);
		if (r < 0)
			return r;
		if (r) {
			r = conn_setup(l, c, &h);
			if (r != -EAGAIN)
				return r;
			memset(ipck__priv(c), 0, sizeof(struct sigchan));
			continue;
		}
		r = ipck__wait_fd(l, l->poll_ep, POLLIN, dl);
		if (r)
			return r;
	}
}

/* ---- close, unlink, pollfd ------------------------------------------------ */

static int listener_close(ipck_chan *ch, struct sigchan *p)
{
	struct stat a, b;
	int r = 0;
	if (p->self == getpid() && fstat(p->file_fd, &a) == 0 &&
	    lstat(ch->url.addr, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		r = unlink(ch->url.addr) < 0 ? -errno : 0;
	int r2 = ipck__close_fd(p->file_fd);
	return r ? r : r2;
}

static int sg_close(ipck_chan *ch)
{
	struct sigchan *p = ipck__priv(ch);
	int r = 0;
	if (!p->listener && p->registered && p->self == getpid()) {
		deadline_t dl = ipck__deadline(1000);
		if (p->tx)
			r = ipck__sigchan_flush(p, dl);
		if (!ipck__sigchan_peer_left(p))
			ipck__sigchan_put(p, K_BYE, 0, 0, dl);   /* best effort */
	}
	if (p->listener && p->file_fd >= 0)
		r = listener_close(ch, p);
	ipck__sigchan_release(ch);
	return r;
}

static int sg_unlink(const struct ipck_url *u)
{
	struct stat st;
	if (lstat(u->addr, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EPROTO;   /* not a rendezvous file: leave it */
	int r = ipck__check_owner(u, st.st_uid);
	if (r)
		return r;
	return unlink(u->addr) < 0 ? -errno : 0;
}

static int sg_pollfd(const ipck_chan *ch)
{
	return ch->poll_ep;
}

const struct ipck_scheme ipck__scheme_signal = {
	.info = {"signal", "realtime signals with 8-byte values, read through a signalfd",
		 IPCK_CAP_NAMED},
	.opts = OPT_MODE | OPT_PEER_UID | OPT_TIMEOUT | OPT_SIG,
	.priv_size = sizeof(struct sigchan),
	.parse = sg_parse,
	.open = sg_open,
	.accept = sg_accept,
	.send = ipck__sigchan_send,
	.recv = ipck__sigchan_recv,
	.pollfd = sg_pollfd,
	.close = sg_close,
	.unlink = sg_unlink,
};
