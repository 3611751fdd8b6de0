/*
 * bench_raw_net.c - reference rows for TCP and UDP over the loopback: the
 * system calls made directly (bench_raw.c says how).  TCP runs with
 * TCP_NODELAY on both ends, as anything timing small messages must.  UDP's
 * listener learns the peer from its first datagram, then both are connected.
 */
#include "bench.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int in_listen(struct blink *l, int type)
{
	struct sockaddr_in a = loopback(l->port);
	int one = 1, fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 1) < 0)) {
		int e = -errno;
		close(fd);
		return e;
	}
	l->fd[2] = fd;
	return 0;
}

static int tcp_listen(struct blink *l) { return in_listen(l, SOCK_STREAM); }

static int tcp_attach(struct blink *l, int side)
{
	struct sockaddr_in a = loopback(l->port);
	int one = 1, fd;
	if (side == 0) {
		fd = accept4(l->fd[2], NULL, NULL, SOCK_CLOEXEC);
		close(l->fd[2]);
		l->fd[2] = -1;
	} else if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0 &&
		   connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		return -errno;
	l->fd[0] = l->fd[1] = fd;
	l->max_msg = 64u << 20;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

const struct btp ipck__btp_raw_tcp = {
	.listen = tcp_listen, .attach = tcp_attach, .send = ipck__braw_write_all,
	.recv = ipck__braw_read_all, .close = ipck__braw_close,
};

static int udp_listen(struct blink *l) { return in_listen(l, SOCK_DGRAM); }

static int udp_attach(struct blink *l, int side)
{
	struct sockaddr_in a = loopback(l->port);
	socklen_t alen = sizeof(a);
	char hello = 'h';
	int fd = side ? socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) : l->fd[2];
	if (fd < 0)
		return -errno;
	l->fd[0] = l->fd[1] = fd;
	l->fd[2] = -1;
	l->id = -2;              /* no receive timeout set yet */
	l->max_msg = 65507;      /* IPv4's largest UDP payload */
	if (side == 1) {
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    send(fd, &hello, 1, 0) < 0)
			return -errno;
		return 0;
	}
	if (recvfrom(fd, &hello, 1, 0, (struct sockaddr *)&a, &alen) < 0 ||
	    connect(fd, (struct sockaddr *)&a, alen) < 0)
		return -errno;
	return 0;
}

const struct btp ipck__btp_raw_udp = {
	.listen = udp_listen, .attach = udp_attach, .send = ipck__braw_send,
	.recv = ipck__braw_recv, .close = ipck__braw_close,
};
