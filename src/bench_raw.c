/*
 * bench_raw.c - the reference rows: the same system calls a libipckit
 * scheme makes, made directly, the way a short program would make them:
 * blocking descriptors, one write or send per message, read(2) until
 * the message is whole on a byte stream (the receiver knows its length, so
 * no framing), msgsnd/msgrcv with two message types, two POSIX queues.
 * A write that could raise SIGPIPE is made the way a program that must not
 * die of it makes it, as the library does: send(2) with MSG_NOSIGNAL on a
 * socket, pwritev2(2) with RWF_NOSIGNAL (Linux 6.18, the same guard for a
 * pipe) on pipes and FIFOs, where the kernel has it.
 * The difference to the library's row is the library's cost.
 *
 * After attach, fd[0] is this side's read end and fd[1] its write end.
 */
#include "bench.h"
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- descriptors ---------------------------------------------------------- */

/* A stream socket: send(2) with MSG_NOSIGNAL until the message is out. */
ssize_t ipck__braw_write_all(struct blink *l, const void *msg, size_t len, int tmo)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = send(l->fd[1], (const char *)msg + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return (ssize_t)len;
}

/* A pipe or FIFO: pwritev2 with RWF_NOSIGNAL; write(2) on an older kernel. */
static ssize_t pipe_write_all(struct blink *l, const void *msg, size_t len, int tmo)
{
	static int nosig = 1;
	size_t done = 0;
	while (done < len) {
		struct iovec v = {(char *)msg + done, len - done};
		ssize_t n = nosig ? pwritev2(l->fd[1], &v, 1, -1, RWF_NOSIGNAL)
				  : write(l->fd[1], v.iov_base, v.iov_len);
		if (n < 0 && nosig && errno == EOPNOTSUPP)
			nosig = 0;
		else if (n < 0 && errno != EINTR)
			return -errno;
		else if (n > 0)
			done += (size_t)n;
	}
	return (ssize_t)len;
}

ssize_t ipck__braw_read_all(struct blink *l, void *buf, size_t len, int tmo)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(l->fd[0], (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EPIPE;
		done += (size_t)n;
	}
	return (ssize_t)len;
}

ssize_t ipck__braw_send(struct blink *l, const void *msg, size_t len, int tmo)
{
	ssize_t n;
	while ((n = send(l->fd[1], msg, len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n < 0 ? -errno : n;
}

/* One datagram or record; a lossy socket waits at most tmo (SO_RCVTIMEO). */
ssize_t ipck__braw_recv(struct blink *l, void *buf, size_t len, int tmo)
{
	if (l->lossy && tmo != l->id) {
		struct timeval tv = {tmo / 1000, (tmo % 1000) * 1000};
		if (setsockopt(l->fd[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
			return -errno;
		l->id = tmo;
	}
	ssize_t n;
	while ((n = recv(l->fd[0], buf, len, 0)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	return n;
}

/* Keep this side's descriptors (fd[2k], fd[2k+1] made before fork), close the rest. */
static int keep_pair(struct blink *l, int side)
{
	int k = side * 2, o = 2 - k;
	close(l->fd[o]);
	if (l->fd[o + 1] != l->fd[o])
		close(l->fd[o + 1]);
	l->fd[0] = l->fd[k];
	l->fd[1] = l->fd[k + 1];
	l->fd[2] = l->fd[3] = -1;
	return 0;
}

void ipck__braw_close(struct blink *l, int side)
{
	for (int i = 0; i < 4; i++)
		if (l->fd[i] >= 0 && (i == 0 || l->fd[i] != l->fd[0]))
			close(l->fd[i]);
	l->fd[0] = l->fd[1] = l->fd[2] = l->fd[3] = -1;
}

/* ---- pipe, socketpair ----------------------------------------------------- */

static int pipe_pair(struct blink *l)
{
	int ab[2], ba[2];
	if (pipe(ab) < 0)
		return -errno;
	if (pipe(ba) < 0) {
		int e = -errno;
		close(ab[0]);
		close(ab[1]);
		return e;
	}
	l->fd[0] = ba[0], l->fd[1] = ab[1];   /* A */
	l->fd[2] = ab[0], l->fd[3] = ba[1];   /* B */
	l->max_msg = 64u << 20;
	return 0;
}

static int sp_pair(struct blink *l)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return -errno;
	l->fd[0] = l->fd[1] = sv[0];
	l->fd[2] = l->fd[3] = sv[1];
	l->max_msg = 64u << 10;   /* as ipckit's socketpair: wmem limits records */
	return 0;
}

const struct btp ipck__btp_raw_pipe = {
	.pair = pipe_pair, .attach = keep_pair, .send = pipe_write_all,
	.recv = ipck__braw_read_all, .close = ipck__braw_close,
};

const struct btp ipck__btp_raw_socketpair = {
	.pair = sp_pair, .attach = keep_pair, .send = ipck__braw_send,
	.recv = ipck__braw_recv, .close = ipck__braw_close,
};

/* ---- fifo ----------------------------------------------------------------- */

static void fifo_path(const struct blink *l, char *p, size_t cap, char dir)
{
	snprintf(p, cap, "%.*s.%c", (int)cap - 3, l->path, dir);
}

static int fifo_listen(struct blink *l)
{
	char a[sizeof(l->path) + 4], b[sizeof(l->path) + 4];
	fifo_path(l, a, sizeof(a), 'a');
	fifo_path(l, b, sizeof(b), 'b');
	if (mkfifo(a, 0600) < 0)
		return -errno;
	if (mkfifo(b, 0600) < 0) {
		int e = -errno;
		unlink(a);
		return e;
	}
	return 0;
}

/* Both sides open "a" (A to B) first, then "b": no deadlock. */
static int fifo_attach(struct blink *l, int side)
{
	char a[sizeof(l->path) + 4], b[sizeof(l->path) + 4];
	fifo_path(l, a, sizeof(a), 'a');
	fifo_path(l, b, sizeof(b), 'b');
	int fa = open(a, (side ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
	if (fa < 0)
		return -errno;
	int fb = open(b, (side ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fb < 0) {
		int e = -errno;
		close(fa);
		return e;
	}
	l->fd[0] = side ? fa : fb;
	l->fd[1] = side ? fb : fa;
	l->max_msg = 64u << 20;
	if (side == 0) {
		unlink(a);
		unlink(b);
	}
	return 0;
}

const struct btp ipck__btp_raw_fifo = {
	.listen = fifo_listen, .attach = fifo_attach, .send = pipe_write_all,
	.recv = ipck__braw_read_all, .close = ipck__braw_close,
};

/* ---- unix sockets --------------------------------------------------------- */

static socklen_t un_addr(struct sockaddr_un *a, const char *path, const char *suffix)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path, sizeof(a->sun_path), "%s%s", path, suffix);
	return n > 0 && (size_t)n < sizeof(a->sun_path) ? sizeof(*a) : 0;  /* 0: EINVAL */
}

static int un_listen(struct blink *l, int type)
{
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, un_addr(&a, l->path, "")) < 0 ||
	    (type != SOCK_DGRAM && listen(fd, 1) < 0)) {
		int e = -errno;
		close(fd);
		return e;
	}
	l->fd[2] = fd;   /* the listener (or A's datagram socket) */
	return 0;
}

static int un_stream_listen(struct blink *l) { return un_listen(l, SOCK_STREAM); }
static int un_seq_listen(struct blink *l) { return un_listen(l, SOCK_SEQPACKET); }

static int un_connect(struct blink *l, int type, size_t max)
{
	struct sockaddr_un a;
	int fd;
	if (l->fd[2] >= 0) {   /* A: accept on the listener */
		fd = accept4(l->fd[2], NULL, NULL, SOCK_CLOEXEC);
		close(l->fd[2]);
		l->fd[2] = -1;
		unlink(l->path);
	} else {
		fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&a, un_addr(&a, l->path, "")) < 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		return -errno;
	l->fd[0] = l->fd[1] = fd;
	l->max_msg = max;
	return 0;
}

static int un_stream_attach(struct blink *l, int side)
{
	return un_connect(l, SOCK_STREAM, 64u << 20);
}

static int un_seq_attach(struct blink *l, int side)
{
	return un_connect(l, SOCK_SEQPACKET, 64u << 10);
}

const struct btp ipck__btp_raw_unix = {
	.listen = un_stream_listen, .attach = un_stream_attach, .send = ipck__braw_write_all,
	.recv = ipck__braw_read_all, .close = ipck__braw_close,
};

const struct btp ipck__btp_raw_seqpacket = {
	.listen = un_seq_listen, .attach = un_seq_attach, .send = ipck__braw_send,
	.recv = ipck__braw_recv, .close = ipck__braw_close,
};

/* Datagrams: A is bound at url, B at url.b; each connects to the other. */
static int dgram_listen(struct blink *l) { return un_listen(l, SOCK_DGRAM); }

static int dgram_attach(struct blink *l, int side)
{
	struct sockaddr_un a;
	int fd = side ? socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) : l->fd[2];
	if (fd < 0)
		return -errno;
	l->fd[0] = l->fd[1] = fd;
	l->fd[2] = -1;
	l->max_msg = 64u << 10;
	if (side && bind(fd, (struct sockaddr *)&a, un_addr(&a, l->path, ".b")) < 0)
		return -errno;
	const char *peer = side ? "" : ".b";
	for (int i = 0; i < 2000; i++) {   /* B binds after we were told to go */
		if (connect(fd, (struct sockaddr *)&a, un_addr(&a, l->path, peer)) == 0)
			return 0;
		if (errno != ENOENT && errno != ECONNREFUSED)
			break;
		usleep(1000);
	}
	return -errno;
}

const struct btp ipck__btp_raw_dgram = {
	.listen = dgram_listen, .attach = dgram_attach, .send = ipck__braw_send,
	.recv = ipck__braw_recv, .close = ipck__braw_close,
};
