/*
 * unix.c - Unix domain sockets: "unix:/path" (stream), "unix-seqpacket:/path",
 * "unix-dgram:/path" and "abstract:name" (stream, abstract namespace).
 *
 * The listener creates the socket file with bind(), sets its mode to 0600
 * (or mode=) right after, and removes it at close if it is still the file it
 * bound, and only in the process that bound it.  ipck_unlink removes a left
 * socket file.  An abstract name has no file and no permissions: it goes
 * with its socket, and anyone in the network namespace may connect.  So
 * both sides check the other's uid (SO_PEERCRED, SCM_CREDENTIALS for
 * unix-dgram): another user is refused with -EACCES unless peer_uid= names it.
 * Traps: bind() fails on a file left by a listener that died; it is replaced
 * only after a connect probe is refused, and a probe that reached a live
 * stream listener leaves a closed connection in its queue, which accept
 * skips.  bind() gives the new file the socket's own mode less the umask,
 * so the socket is made 0600 before bind (no moment with a wider mode, even
 * under umask 0) and the file gets its exact mode= right after.
 * unix-dgram has no connection: dgram.c makes one (HELLO / WELCOME).
 * unix-dgram ?mailbox=1: many senders, one receiver, the listener's own
 * socket; a sender connects its socket to the path and sends, between a
 * HELLO datagram at its open and a BYE at its close (for ipck_accept:
 * mailbox.c), and learns the receiver's close from the kernel
 * (ECONNREFUSED: -EPIPE).
 */
#include "../sock.h"
#include "../mailbox.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

extern const struct ipck_scheme ipck__scheme_unix_seqpacket;
extern const struct ipck_scheme ipck__scheme_unix_dgram;
extern const struct ipck_scheme ipck__scheme_abstract;

static int uxd_conn_sock(const ipck_chan *l, const struct sockaddr *peer, socklen_t len);

static const struct dgram_rdv uxd_rdv = {
	.creds = true,
	.max_msg = IPCK_DGRAM_MAX - sizeof(struct dgram_hdr),
	.conn_sock = uxd_conn_sock,
};

static int ux_type(const ipck_chan *ch)
{
	if (ch->sc == &ipck__scheme_unix_seqpacket)
		return SOCK_SEQPACKET;
	return ch->sc == &ipck__scheme_unix_dgram ? SOCK_DGRAM : SOCK_STREAM;
}

static bool ux_abstract(const ipck_chan *ch)
{
	return ch->sc == &ipck__scheme_abstract;
}

static size_t ux_max(const ipck_chan *ch)
{
	switch (ux_type(ch)) {
	case SOCK_STREAM:    return IPCK_STREAM_MAX;
	case SOCK_SEQPACKET: return IPCK_DGRAM_MAX - !ch->url.raw;   /* the tag byte */
	default:             return ch->url.raw ? IPCK_DGRAM_MAX : uxd_rdv.max_msg;
	}
}

static int ux_parse(struct ipck_url *u)
{
	size_t n = strlen(u->addr);   /* a path and its NUL, or NUL and a name */
	if (u->raw && u->mailbox)
		return -EINVAL;
	if (n == 0)
		return ipck__url_bad(u, "no socket path or name");
	if (n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return ipck__url_bad(u, "socket path longer than %zu bytes (sun_path)",
				     sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	return 0;
}

static socklen_t ux_addr(const ipck_chan *ch, struct sockaddr_un *sun)
{
	size_t n = strlen(ch->url.addr);
	bool abs = ux_abstract(ch);
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path + abs, ch->url.addr, n);   /* abstract: a NUL first */
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static int ux_socket(int type)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	return fd < 0 ? -errno : fd;
}

static int set_passcred(int fd, int on)
{
	return setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0 ? -errno : 0;
}

/* Bind to a fresh abstract name the kernel picks, so the peer can answer. */
static int ux_autobind(int fd)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	return bind(fd, (struct sockaddr *)&sun, sizeof(sa_family_t)) < 0 ? -errno : 0;
}

/* What a client checks at the path before it connects. */
static int ux_check_file(const struct ipck_url *u)
{
	struct stat st;
	if (lstat(u->addr, &st) < 0)
		return errno == ENOENT ? -ECONNREFUSED : -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	return ipck__check_owner(u, st.st_uid);
}

/* The other end of a connected stream or seqpacket: its uid, its pid. */
static int ux_peer(ipck_chan *ch, int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;
	int r = ipck__check_owner(&ch->url, uc.uid);
	if (!r)
		ch->peer_pid = uc.pid;
	return r;
}

/* Make ch a channel on the connected socket fd (closed on failure). */
static int ux_conn_init(ipck_chan *ch, int fd)
{
	int type = ux_type(ch);
	enum frame_kind fk = ch->url.raw ? FRAME_NONE
			   : type == SOCK_STREAM ? FRAME_STREAM : FRAME_SEQPACKET;
	int r = ux_peer(ch, fd);
	if (!r && type == SOCK_SEQPACKET)
		r = ipck__sock_bufs(fd, IPCK_DGRAM_MAX);
	if (!r)
		r = ipck__fd_init(ch, fd, fd, fk);
	if (r) {
		close(fd);
		return r;
	}
	ch->is_sock = true;
	ch->is_bytes = ch->url.raw && type == SOCK_STREAM;
	ch->max_msg = ux_max(ch);
	return 0;
}

static int ux_connect(ipck_chan *ch)
{
	struct sockaddr_un sun;
	socklen_t len = ux_addr(ch, &sun);
	int r = ux_abstract(ch) ? 0 : ux_check_file(&ch->url);
	if (r)
		return r;
	int fd = ux_socket(ux_type(ch));
	if (fd < 0)
		return fd;
	r = ipck__sock_connect(ch, fd, (struct sockaddr *)&sun, len,
			       ipck__deadline(ch->url.timeout_ms));
	if (r) {
		close(fd);
		return r == -ENOENT ? -ECONNREFUSED : r;   /* removed since lstat */
	}
	return ux_conn_init(ch, fd);
}

/* A mailbox sender's HELLO (open) or BYE (close): a datagram of the tag and
 * its nonce (the kernel tells its pid). */
static int uxd_mb_ctl(ipck_chan *ch, int tag, deadline_t dl)
{
	struct dgram_hdr h = {.tag = (uint8_t)tag};
	unsigned char body[IPCK_MB_CTL_LEN];
	struct iovec iov[2] = {{&h, sizeof(h)}, {body, sizeof(body)}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
	ipck__mb_body(ch, body);
	for (;;) {
		if (sendmsg(ch->fd, &m, MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return errno == ECONNREFUSED ? -EPIPE : -errno;
		int r = ipck__wait_fd(ch, ch->fd, POLLOUT, dl);
		if (r)
			return r;
	}
}

static int uxd_connect(ipck_chan *ch)
{
	struct sockaddr_un sun;
	socklen_t len = ux_addr(ch, &sun);
	int r = ux_check_file(&ch->url);
	if (r)
		return r;
	int fd = ux_socket(SOCK_DGRAM);
	if (fd < 0)
		return fd;
	r = ux_autobind(fd) ?: ipck__sock_bufs(fd, IPCK_DGRAM_MAX);
	if (!r && (ch->url.raw || ch->url.mailbox)) {   /* no greeting: a default destination */
		r = connect(fd, (struct sockaddr *)&sun, len) < 0 ? -errno : 0;
		if (!r)
			r = ipck__fd_init(ch, fd, fd, ch->url.raw ? FRAME_NONE : FRAME_DGRAM);
		if (!r && ch->url.mailbox) {   /* it is there once the receiver knows */
			ipck__mb_sender_init(ch);
			r = uxd_mb_ctl(ch, TAG_HELLO, ipck__deadline(ch->url.timeout_ms));
			r = r == -EPIPE ? -ECONNREFUSED : r;
		}
	} else if (!r) {
		r = set_passcred(fd, 1) ?: ipck__dgram_connect(ch, fd, (struct sockaddr *)&sun, len,
							   &uxd_rdv,
							   ipck__deadline(ch->url.timeout_ms));
		if (!r)   /* the WELCOME's credentials are checked: no more needed */
			r = set_passcred(fd, 0);
	}
	if (r) {
		close(fd);
		ipck__close_fd(ch->peer_fd);
		ch->peer_fd = -1;
		return r == -ENOENT ? -ECONNREFUSED : r;
	}
	ch->is_sock = true;
	ch->max_msg = ux_max(ch);
	return 0;
}

/* Listener side of unix-dgram: a socket for one peer, connected to it. */
static int uxd_conn_sock(const ipck_chan *l, const struct sockaddr *peer, socklen_t len)
{
	(void)l;
	int fd = ux_socket(SOCK_DGRAM);
	if (fd < 0)
		return fd;
	int r = ux_autobind(fd) ?: ipck__sock_bufs(fd, IPCK_DGRAM_MAX);
	if (!r && connect(fd, peer, len) < 0)
		r = -errno;
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

/* Is anybody listening at the socket file?  Connect and see: 0 if not. */
static int ux_probe(int type, const struct sockaddr_un *sun, socklen_t len)
{
	int fd = ux_socket(type);
	if (fd < 0)
		return fd;
	int e = connect(fd, (const struct sockaddr *)sun, len) < 0 ? errno : 0;
	close(fd);
	return e == ECONNREFUSED || e == ENOENT ? 0 : -EADDRINUSE;
}

/* bind() found something at the path: remove it if it is a dead socket of ours. */
static int ux_clear_stale(const ipck_chan *ch, const struct sockaddr_un *sun, socklen_t len)
{
	struct stat st, again;
	if (lstat(ch->url.addr, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EADDRINUSE;   /* never remove what is not a socket */
	int r = ipck__check_owner(&ch->url, st.st_uid) ?: ux_probe(ux_type(ch), sun, len);
	if (r)
		return r;
	if (lstat(ch->url.addr, &again) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (again.st_dev != st.st_dev || again.st_ino != st.st_ino)
		return -EADDRINUSE;   /* replaced while we probed */
	return unlink(ch->url.addr) < 0 && errno != ENOENT ? -errno : 0;
}

/* Remove the socket file if this process bound it and it is still that file. */
static void ux_unbind(ipck_chan *ch)
{
	struct sock_priv *p = ipck__priv(ch);
	struct stat st;
	if (p->binder != getpid())
		return;
	p->binder = 0;
	if (lstat(ch->url.addr, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == p->dev && st.st_ino == p->ino)
		unlink(ch->url.addr);
}

/* After bind: remember which file is ours, then give it its mode. */
static int ux_own_file(ipck_chan *ch)
{
	struct sock_priv *p = ipck__priv(ch);
	struct stat st;
	if (lstat(ch->url.addr, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
		return -EADDRINUSE;   /* not the file bind made: somebody swapped it */
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	p->binder = getpid();
	if (fchmodat(AT_FDCWD, ch->url.addr, ch->url.mode, AT_SYMLINK_NOFOLLOW) < 0) {
		int e = -errno;
		ux_unbind(ch);
		return e;
	}
	return 0;
}

static int ux_bind(ipck_chan *ch, int fd)
{
	struct sockaddr_un sun;
	socklen_t len = ux_addr(ch, &sun);
	if (!ux_abstract(ch) && fchmod(fd, ch->url.mode & 0600) < 0)
		return -errno;   /* the file is born no wider than 0600 */
	int r = bind(fd, (struct sockaddr *)&sun, len) < 0 ? -errno : 0;
	if (ux_abstract(ch))
		return r;
	if (r == -EADDRINUSE) {
		r = ux_clear_stale(ch, &sun, len);
		if (!r)
			r = bind(fd, (struct sockaddr *)&sun, len) < 0 ? -errno : 0;
	}
	return r ? r : ux_own_file(ch);
}

static int ux_listen(ipck_chan *ch)
{
	int type = ux_type(ch);
	int fd = ux_socket(type);
	if (fd < 0)
		return fd;
	int r = 0;
	if (type == SOCK_DGRAM)
		r = set_passcred(fd, 1) ?: ipck__sock_bufs(fd, IPCK_DGRAM_MAX);
	if (!r)
		r = ux_bind(ch, fd);
	if (!r && type != SOCK_DGRAM && listen(fd, SOMAXCONN) < 0)
		r = -errno;
	if (r) {
		ux_unbind(ch);
		close(fd);
		return r;
	}
	ch->fd = fd;
	ch->is_sock = true;
	ch->max_msg = ux_max(ch);
	return 0;
}

static int ux_open(ipck_chan *ch, int flags)
{
	if (flags & IPCK_LISTEN)
		return ux_listen(ch);
	return ux_type(ch) == SOCK_DGRAM ? uxd_connect(ch) : ux_connect(ch);
}

/* A connection already closed without a word: a prober's, skip it. */
static bool ux_hung_up(int fd)
{
	char b;
	return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

static int ux_accept(ipck_chan *l, ipck_chan *c, int timeout_ms)
{
	deadline_t dl = ipck__deadline(timeout_ms);
	for (;;) {
		int fd = ipck__sock_accept(l, dl);
		if (fd < 0)
			return fd;
		if (!l->url.raw && !ux_abstract(l) && ux_hung_up(fd)) {
			close(fd);
			continue;
		}
		return ux_conn_init(c, fd);
	}
}

static int uxd_accept(ipck_chan *l, ipck_chan *c, int timeout_ms)
{
	deadline_t dl = ipck__deadline(timeout_ms);
	if (l->url.raw)
		return ipck__dgram_accept_raw(l, c, &uxd_rdv, dl);
	return ipck__dgram_accept(l, c, &uxd_rdv, dl);
}

/*
 * A raw seqpacket peer's end and an empty record both read as 0 bytes, and
 * nothing tells them apart; take 0 as the end, as a read(2) loop would.
 */
static ssize_t ux_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms)
{
	if (ch->url.mailbox)
		return ipck__dgram_mailbox_recv(ch, buf, cap, timeout_ms);
	ssize_t n = ipck__fd_recv(ch, buf, cap, timeout_ms);
	if (n == 0 && ch->url.raw && ux_type(ch) == SOCK_SEQPACKET) {
		ch->eof = true;
		return -EPIPE;
	}
	return n;
}

/* A mailbox sender: the receiver's socket is gone (the kernel refuses). */
static ssize_t ux_send(ipck_chan *ch, const void *msg, size_t len, int timeout_ms)
{
	if (!ch->url.mailbox)
		return ipck__fd_send(ch, msg, len, timeout_ms);
	ssize_t n = ch->eof ? -EPIPE : ipck__fd_send(ch, msg, len, timeout_ms);
	return n == -ECONNRESET ? -EPIPE : n;
}

static int ux_pollfd(const ipck_chan *ch)
{
	if (ch->url.mailbox)   /* the listener: senders have none (chan.c) */
		return ipck__dgram_mailbox_pollfd((ipck_chan *)ch);
	return ipck__fd_pollfd(ch);
}

static int ux_close(ipck_chan *ch)
{
	struct sock_priv *p = ipck__priv(ch);
	if (ch->role == ROLE_LISTENER)
		ux_unbind(ch);
	if (ipck__mb_says_bye(ch))
		uxd_mb_ctl(ch, TAG_BYE, ipck__deadline(1000));
	if (ch->url.mailbox)
		ch->eof = true;   /* no goodbye of fdio.c's: it has its own */
	free(p->mb_buf);
	return ipck__fd_close(ch);
}

/* Remove a socket file left behind: a socket, never anything else. */
static int ux_unlink(const struct ipck_url *u)
{
	struct stat st;
	if (lstat(u->addr, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	int r = ipck__check_owner(u, st.st_uid);
	if (r)
		return r;
	return unlink(u->addr) < 0 ? -errno : 0;
}

/* An abstract name leaves nothing behind: it goes with its last socket. */
static int abs_unlink(const struct ipck_url *u)
{
	(void)u;
	return -ENOENT;
}

#define UX_OPS                                                       \
	.priv_size = sizeof(struct sock_priv), .parse = ux_parse,    \
	.open = ux_open, .send = ux_send, .recv = ux_recv,             \
	.pollfd = ux_pollfd, .close = ux_close

const struct ipck_scheme ipck__scheme_unix = {
	.info = {"unix", "Unix stream socket at a path", IPCK_CAP_NAMED | IPCK_CAP_STREAM},
	.opts = OPT_MODE | OPT_PEER_UID | OPT_RAW | OPT_TIMEOUT,
	.accept = ux_accept, .unlink = ux_unlink, UX_OPS,
};

const struct ipck_scheme ipck__scheme_unix_seqpacket = {
	.info = {"unix-seqpacket", "Unix seqpacket socket at a path", IPCK_CAP_NAMED},
	.opts = OPT_MODE | OPT_PEER_UID | OPT_RAW | OPT_TIMEOUT,
	.accept = ux_accept, .unlink = ux_unlink, UX_OPS,
};

const struct ipck_scheme ipck__scheme_unix_dgram = {
	.info = {"unix-dgram", "Unix datagram socket at a path, one socket per peer",
		 IPCK_CAP_NAMED},
	.opts = OPT_MODE | OPT_PEER_UID | OPT_RAW | OPT_TIMEOUT | OPT_MAILBOX,
	.accept = uxd_accept, .unlink = ux_unlink, UX_OPS,
};

const struct ipck_scheme ipck__scheme_abstract = {
	.info = {"abstract", "Unix stream socket with an abstract name (no file)",
		 IPCK_CAP_NAMED | IPCK_CAP_STREAM},
	.opts = OPT_PEER_UID | OPT_RAW | OPT_TIMEOUT,
	.accept = ux_accept, .unlink = abs_unlink, UX_OPS,
};
