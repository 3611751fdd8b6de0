/*
 * fifo.c - "fifo:/path": named pipes.  A FIFO is one-way, so a connection
 * uses two, "<path>.<pid>.<n>.c2s" and ".s2c", made by the connecting side;
 * the listener owns only the well-known FIFO at the path, through which
 * clients send their hello (24 bytes, below PIPE_BUF: never interleaved).
 *
 *   client: mkfifo c2s, s2c (0600, exclusive); open both; hello -> path
 *   server: read the hello; open c2s, s2c; check their owner; unlink both;
 *           welcome -> s2c (plain bytes before the stream framing starts)
 *
 * From the welcome on nothing is named any more: the kernel frees the pipes
 * with their last descriptor, and that close is what the peer sees (EOF,
 * EPIPE), as on pipe: and unix:.  No pidfd is watched: a copy of its ends
 * that the peer left in a child it forked keeps the channel open (the child
 * may go on with it), and a receive without deadline is one blocking read(2).
 * The listener removes the well-known FIFO on close if it is still the one
 * it made.
 *
 * Traps: an O_NONBLOCK open for writing fails with ENXIO while nobody reads,
 * and a read end reads EOF while nobody writes, so the listener holds a write
 * end of its own FIFO, and the client opens c2s O_RDWR for a moment so that
 * its O_WRONLY open succeeds before the server has opened the read end.
 * Opening a device has side effects: lstat first, open O_NOFOLLOW, and check
 * that fstat sees the same FIFO.
 *
 * raw=1: the one FIFO at exactly the path, no framing, no rendezvous: the
 * listener's accepted channel reads (a read end, once a writer came; it ends
 * when the writers leave), the connecting side writes.  `echo hi > path` is
 * a client.  Accept again once the previous channel saw its end: until then
 * both would read the same pipe.
 */
#include "../internal.h"
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

struct fifo_priv {
	dev_t dev;     /* listener: the well-known FIFO it made */
	ino_t ino;
	int hold_fd;   /* listener: a write end of its own FIFO (framed), or -1 */
	pid_t maker;   /* listener: the process that made it (a child's copy keeps it) */
};

static int fifo_parse(struct ipck_url *u)
{
	size_t n = strlen(u->addr), extra = u->raw ? 0 : IPCK_CONN_SUFFIX_MAX;
	const char *base = strrchr(u->addr, '/');
	base = base ? base + 1 : u->addr;
	if (!n || !*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return -EINVAL;
	if (n + extra >= PATH_MAX || strlen(base) + extra > NAME_MAX)
		return -EINVAL;
	return 0;
}

/*
 * Open the FIFO at path, never through a symlink and never anything but a
 * FIFO; with u, only one whose owner u accepts (checked before the open,
 * which the reader would notice).  Returns the descriptor (non-blocking)
 * with its stat in *st, -ELOOP for a symlink, -ECONNREFUSED for another kind
 * of file, -EACCES, or -errno.
 */
static int fifo_open_at(const char *path, int how, struct stat *st, const struct ipck_url *u)
{
	struct stat l;
	if (lstat(path, &l) < 0)
		return -errno;
	if (S_ISLNK(l.st_mode))
		return -ELOOP;
	if (!S_ISFIFO(l.st_mode))
		return -ECONNREFUSED;
	if (u && ipck__check_owner(u, l.st_uid))
		return -EACCES;
	int fd = open(path, how | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0 || st->st_dev != l.st_dev || st->st_ino != l.st_ino) {
		close(fd);
		return -ECONNREFUSED;   /* replaced between the two looks */
	}
	return fd;
}

/* Remove path if it is still the FIFO st describes. */
static void fifo_unlink_same(const char *path, const struct stat *st)
{
	struct stat l;
	if (lstat(path, &l) == 0 && l.st_dev == st->st_dev && l.st_ino == st->st_ino)
		unlink(path);
}

/* Make a FIFO at path, exclusively, with exactly mode, and open it. */
static int fifo_make(const char *path, unsigned mode, int how, struct stat *st)
{
	if (mkfifo(path, mode & 0600) < 0)
		return errno == EEXIST ? -EADDRINUSE : -errno;
	int fd = fifo_open_at(path, how, st, NULL);
	if (fd < 0)
		return fd;   /* not ours any more: leave it */
	if (fchmod(fd, mode) < 0) {
		int e = -errno;
		close(fd);
		fifo_unlink_same(path, st);
		return e;
	}
	return fd;
}

/*
 * Who the peer is (ipck_peer_pid).  Its end is watched by the kernel, not by
 * a pidfd: the channel ends when the last copy of the peer's ends closes, as
 * for pipe: and unix:, so a receive without deadline blocks in read(2).
 */
static int fifo_learn_peer(ipck_chan *ch, pid_t pid)
{
	if (pid <= 0)
		return -EPROTO;
	ch->peer_pid = pid;
	return 0;
}

/* ---- listener -------------------------------------------------------------- */

static int fifo_listen(ipck_chan *ch)
{
	struct fifo_priv *p = ipck__priv(ch);
	struct stat st, hs;
	p->hold_fd = -1;
	int fd = fifo_make(ch->url.addr, ch->url.mode, O_RDONLY, &st);
	if (fd < 0)
		return fd;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	p->maker = getpid();
	ch->fd = fd;
	ch->max_msg = IPCK_STREAM_MAX;
	if (ch->url.raw)
		return 0;   /* a write end of ours would hide the writer's EOF */
	p->hold_fd = fifo_open_at(ch->url.addr, O_WRONLY, &hs, NULL);
	if (p->hold_fd >= 0 && hs.st_ino == st.st_ino && hs.st_dev == st.st_dev)
		return 0;
	int e = p->hold_fd < 0 ? p->hold_fd : -ECONNREFUSED;
	ipck__close_fd(p->hold_fd);
	close(fd);
	fifo_unlink_same(ch->url.addr, &st);
	return e;
}

/* Read the next hello: 1, 0 for garbage (dropped), or -ETIMEDOUT / -errno. */
static int fifo_read_hello(ipck_chan *l, struct hello *h, deadline_t dl)
{
	unsigned char b[sizeof(*h)];
	for (;;) {
		ssize_t n = read(l->fd, b, sizeof(b));
		if (n > 0) {
			if (!ipck__hello_parse(h, b, (size_t)n, TAG_HELLO))
				return 1;
			while (read(l->fd, b, sizeof(b)) > 0)
				;   /* out of step: drop what is there to resync */
			return 0;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		int r = ipck__wait_fd(l, l->fd, POLLIN, dl);
		if (r)
			return r;
	}
}

/* Both per-connection FIFOs belong to the user the hello names, who may talk to us. */
static int fifo_check_peer(const struct ipck_url *u, const struct hello *h,
			   const struct stat *a, const struct stat *b)
{
	if (a->st_uid != h->uid || b->st_uid != h->uid)
		return -EACCES;
	return ipck__check_owner(u, a->st_uid);
}

static int fifo_welcome(int wfd, const struct hello *h)
{
	struct hello w;
	ipck__hello_make(&w, TAG_WELCOME, h->nonce);
	struct iovec iov = {&w, sizeof(w)};
	ssize_t n = ipck__write_nosig(wfd, &iov, 1);   /* an empty pipe takes it whole */
	return n == (ssize_t)sizeof(w) ? 0 : n < 0 ? (int)n : -EIO;
}

/*
 * The client of a hello died after making its FIFOs (it reads s2c from
 * before its hello on, so ENXIO says it is gone): nobody else knows their
 * names, so remove them, if they are the hello's user's and we may talk to it.
 */
static void fifo_remove_left(const ipck_chan *l, const struct hello *h, const char *c2s,
			     const struct stat *a, const char *s2c)
{
	struct stat b;
	if (a->st_uid != h->uid || ipck__check_owner(&l->url, a->st_uid))
		return;
	fifo_unlink_same(c2s, a);
	if (lstat(s2c, &b) == 0 && S_ISFIFO(b.st_mode) && b.st_uid == h->uid)
		fifo_unlink_same(s2c, &b);
}

/* Open the connection a hello announces and welcome its client. */
static int fifo_attach(ipck_chan *l, ipck_chan *c, const struct hello *h)
{
	char c2s[PATH_MAX], s2c[PATH_MAX];
	struct stat a, b;
	int rfd, wfd, r;

	if ((r = ipck__conn_name(c2s, sizeof(c2s), l->url.addr, h, "c2s")) ||
	    (r = ipck__conn_name(s2c, sizeof(s2c), l->url.addr, h, "s2c")))
		return r;
	rfd = fifo_open_at(c2s, O_RDONLY, &a, &l->url);
	if (rfd < 0)
		return rfd;
	wfd = fifo_open_at(s2c, O_WRONLY, &b, &l->url);   /* ENXIO: its client is gone */
	if (wfd < 0) {
		r = wfd;
		if (r == -ENXIO)
			fifo_remove_left(l, h, c2s, &a, s2c);
		goto out_rfd;
	}
	if ((r = fifo_check_peer(&l->url, h, &a, &b)))
		goto out_wfd;
	fifo_unlink_same(c2s, &a);   /* both sides hold both ends now (or the client died) */
	fifo_unlink_same(s2c, &b);
	if ((r = fifo_learn_peer(c, h->pid)))
		goto out_wfd;
	if ((r = fifo_welcome(wfd, h)) || (r = ipck__fd_init(c, rfd, wfd, FRAME_STREAM)))
		goto out_fds;
	return 0;
out_fds:
	c->fd = c->wfd = -1;
out_wfd:
	close(wfd);
out_rfd:
	close(rfd);
	return r;
}

/*
 * raw: the listener's read end is at end-of-file once its writers left;
 * open the FIFO again in its place (same number: ipck_pollfd gave it out).
 * The kernel hides POLLHUP on a read end opened while no writer is there
 * until one came and went, so the new end waits for the next writer.
 */
static int fifo_raw_refresh(ipck_chan *l)
{
	struct fifo_priv *p = ipck__priv(l);
	struct pollfd pf = {l->fd, POLLIN, 0};
	struct stat st;
	if (poll(&pf, 1, 0) < 0)
		return -errno;
	if (!(pf.revents & POLLHUP) || (pf.revents & POLLIN))
		return 0;
	int fresh = fifo_open_at(l->url.addr, O_RDONLY, &st, NULL);
	if (fresh < 0)
		return fresh;
	int r = 0;
	if (st.st_dev != p->dev || st.st_ino != p->ino)
		r = -ECONNRESET;   /* the path is not our FIFO any more */
	else if (dup3(fresh, l->fd, O_CLOEXEC) < 0)
		r = -errno;
	close(fresh);
	return r;
}

/* raw: a channel on the listener's read end once a writer came. */
static int fifo_accept_raw(ipck_chan *l, ipck_chan *c, int timeout_ms)
{
	int r = fifo_raw_refresh(l);
	if (!r)
		r = ipck__wait_fd(l, l->fd, POLLIN, ipck__deadline(timeout_ms));
	if (r)
		return r;
	int fd = fcntl(l->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = ipck__fd_init(c, fd, fd, FRAME_NONE);
	if (r) {
		close(fd);
		c->fd = c->wfd = -1;
		return r;
	}
	c->is_bytes = true;
	c->rx_only = true;   /* it reads: ipck_send is -ENOTSUP */
	c->max_msg = IPCK_STREAM_MAX;
	return 0;
}

static int fifo_accept(ipck_chan *l, ipck_chan *c, int timeout_ms)
{
	deadline_t dl = ipck__deadline(timeout_ms);
	struct hello h;
	if (l->url.raw)
		return fifo_accept_raw(l, c, timeout_ms);
	for (;;) {
		int r = fifo_read_hello(l, &h, dl);
		if (r < 0)
			return r;
		if (r > 0 && fifo_attach(l, c, &h) == 0)
			return 0;
		/* a client that left or lied: wait for the next one */
	}
}

/* ---- connecting side ------------------------------------------------------- */

/* Make both FIFOs of a connection: ch->fd reads s2c, ch->wfd writes c2s. */
static int fifo_make_pair(ipck_chan *ch, const char *c2s, const char *s2c,
			  struct stat *a, struct stat *b)
{
	struct stat w;
	int rw, r;
	ch->fd = fifo_make(s2c, ch->url.mode, O_RDONLY, b);
	if (ch->fd < 0)
		return ch->fd;
	rw = fifo_make(c2s, ch->url.mode, O_RDWR, a);   /* a reader, for a moment */
	if (rw < 0) {
		r = rw;
		goto out_s2c;
	}
	ch->wfd = fifo_open_at(c2s, O_WRONLY, &w, NULL);
	close(rw);
	if (ch->wfd >= 0 && w.st_dev == a->st_dev && w.st_ino == a->st_ino)
		return 0;
	r = ch->wfd < 0 ? ch->wfd : -ECONNREFUSED;
	ipck__close_fd(ch->wfd);
	fifo_unlink_same(c2s, a);
out_s2c:
	close(ch->fd);
	fifo_unlink_same(s2c, b);
	ch->fd = ch->wfd = -1;
	return r;
}

static int fifo_send_hello(ipck_chan *ch, int wk, const struct hello *h, deadline_t dl)
{
	struct iovec iov = {(void *)h, sizeof(*h)};
	for (;;) {
		ssize_t n = ipck__write_nosig(wk, &iov, 1);
		if (n == (ssize_t)sizeof(*h))
			return 0;
		if (n >= 0)
			return -EIO;   /* cannot happen below PIPE_BUF */
		if (n == -EPIPE)
			return -ECONNREFUSED;
		if (n != -EAGAIN && n != -EINTR)
			return (int)n;
		int r = ipck__wait_fd(ch, wk, POLLOUT, dl);
		if (r)
			return r;
	}
}

/*
 * Wait for the welcome on s2c.  The well-known FIFO stays open meanwhile: it
 * polls POLLERR once its listener is gone, which ends the wait early (it
 * stands in for the peer watch of ipck__wait_fd, not yet set up).
 */
static int fifo_await_welcome(ipck_chan *ch, int wk, const struct hello *h, deadline_t dl)
{
	struct hello w;
	unsigned char b[sizeof(w)];
	for (;;) {
		ch->peer_fd = wk;
		int r = ipck__wait_fd(ch, ch->fd, POLLIN, dl);
		ch->peer_fd = -1;
		if (r)
			return r == -EPIPE ? -ECONNREFUSED : r;
		ssize_t n = read(ch->fd, b, sizeof(b));
		if (n == 0)
			return -ECONNREFUSED;   /* the server opened s2c and left */
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -errno;
		if (ipck__hello_parse(&w, b, (size_t)n, TAG_WELCOME) || w.nonce != h->nonce)
			return -EPROTO;
		return fifo_learn_peer(ch, w.pid);
	}
}

static int fifo_connect_raw(ipck_chan *ch, int wk, const struct stat *st)
{
	int r = ipck__check_owner(&ch->url, st->st_uid);
	if (!r)
		r = ipck__fd_init(ch, wk, wk, FRAME_NONE);
	if (r) {
		close(wk);
		ch->fd = ch->wfd = -1;
		return r;
	}
	ch->is_bytes = true;
	ch->tx_only = true;   /* it writes: ipck_recv is -ENOTSUP */
	ch->max_msg = IPCK_STREAM_MAX;
	return 0;
}

static int fifo_connect(ipck_chan *ch)
{
	deadline_t dl = ipck__deadline(ch->url.timeout_ms);
	char c2s[PATH_MAX], s2c[PATH_MAX];
	struct stat st, a, b;
	struct hello h;

	int wk = fifo_open_at(ch->url.addr, O_WRONLY, &st, &ch->url);
	if (wk < 0)
		return wk == -ENXIO || wk == -ENOENT ? -ECONNREFUSED : wk;
	if (ch->url.raw)
		return fifo_connect_raw(ch, wk, &st);
	ipck__hello_make(&h, TAG_HELLO, ipck__conn_nonce());
	int r = ipck__check_owner(&ch->url, st.st_uid);
	if (!r && !(r = ipck__conn_name(c2s, sizeof(c2s), ch->url.addr, &h, "c2s")) &&
	    !(r = ipck__conn_name(s2c, sizeof(s2c), ch->url.addr, &h, "s2c")))
		r = fifo_make_pair(ch, c2s, s2c, &a, &b);
	if (r) {
		close(wk);
		return r;
	}
	r = fifo_send_hello(ch, wk, &h, dl);
	if (!r)
		r = fifo_await_welcome(ch, wk, &h, dl);
	close(wk);
	if (!r && !(r = ipck__fd_init(ch, ch->fd, ch->wfd, FRAME_STREAM)))
		return 0;
	fifo_unlink_same(c2s, &a);   /* the server never took them */
	fifo_unlink_same(s2c, &b);
	ipck__close_fd(ch->fd);
	ipck__close_fd(ch->wfd);
	ch->fd = ch->wfd = -1;
	return r;
}

/* ---- the rest ---------------------------------------------------------------- */

static int fifo_open(ipck_chan *ch, int flags)
{
	return (flags & IPCK_LISTEN) ? fifo_listen(ch) : fifo_connect(ch);
}

static int fifo_pollfd(const ipck_chan *ch)
{
	return ch->role == ROLE_LISTENER ? ch->fd : ipck__fd_pollfd(ch);
}

/* Is name "<base>.<pid>.<n>.c2s|s2c"?  Then *pid is its creator. */
static bool fifo_conn_name(const char *name, const char *base, pid_t *pid)
{
	size_t bl = strlen(base);
	unsigned long p, k;
	char dir[4];
	int used = 0;
	if (strncmp(name, base, bl) || name[bl] != '.')
		return false;
	if (sscanf(name + bl, ".%lu.%lu.%3[a-z2]%n", &p, &k, dir, &used) != 3 || name[bl + (size_t)used])
		return false;
	*pid = (pid_t)p;
	return p > 0 && (!strcmp(dir, "c2s") || !strcmp(dir, "s2c"));
}

/*
 * Remove the per-connection FIFOs of connectors that died before the
 * rendezvous took them (a SIGKILL between mkfifo and the welcome): ours,
 * FIFOs, and their creator's pid gone.  Returns how many went.
 */
static int fifo_sweep(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + 1 : 1, slash ? path : ".");
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d))) {
		struct stat st;
		pid_t pid;
		if (!fifo_conn_name(e->d_name, base, &pid) || kill(pid, 0) == 0 || errno != ESRCH)
			continue;   /* not one of ours, or its creator lives */
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISFIFO(st.st_mode) || st.st_uid != geteuid())
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

static int fifo_close(ipck_chan *ch)
{
	struct fifo_priv *p = ipck__priv(ch);
	if (ch->role != ROLE_LISTENER)
		return ipck__fd_close(ch);
	int r = ipck__close_fd(ch->fd);
	ipck__close_fd(p->hold_fd);
	struct stat st = {.st_dev = p->dev, .st_ino = p->ino};
	if (p->maker == getpid()) {
		fifo_unlink_same(ch->url.addr, &st);
		fifo_sweep(ch->url.addr);   /* connectors that died mid-rendezvous */
	}
	return r;
}

/* Remove the well-known FIFO (anything else at the path is left alone) and
 * the leftovers of dead connectors. */
static int fifo_unlink(const struct ipck_url *u)
{
	struct stat st;
	int swept = fifo_sweep(u->addr);
	if (lstat(u->addr, &st) < 0)
		return swept && errno == ENOENT ? 0 : -errno;
	if (!S_ISFIFO(st.st_mode))
		return -EEXIST;
	return unlink(u->addr) < 0 ? -errno : 0;
}

const struct ipck_scheme ipck__scheme_fifo = {
	.info = {"fifo", "named pipes, two per connection, met through one at the path",
		 IPCK_CAP_NAMED | IPCK_CAP_STREAM},
	.opts = OPT_MODE | OPT_PEER_UID | OPT_RAW | OPT_TIMEOUT,
	.priv_size = sizeof(struct fifo_priv),
	.parse = fifo_parse,
	.open = fifo_open,
	.accept = fifo_accept,
	.send = ipck__fd_send,
	.recv = ipck__fd_recv,
	.pollfd = fifo_pollfd,
	.close = fifo_close,
	.unlink = fifo_unlink,
};
