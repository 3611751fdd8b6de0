/*
 * sock.c - listen, accept and connect for the socket schemes, with the
 * library's deadlines.  Every socket is non-blocking and close-on-exec.
 * Traps: accept4 may report a network error of the pending connection
 * (Linux passes them through): retry, as accept(2) says; a non-blocking
 * connect to a Unix stream listener whose backlog is full fails with EAGAIN
 * and nothing polls for room, so it is retried after a short sleep.
 */
#include "sock.h"
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

/* Errors accept4 passes through from the pending connection: try the next. */
static bool accept_retry(int e)
{
	switch (e) {
	case EINTR: case ECONNABORTED: case EPROTO: case ENETDOWN: case ENOPROTOOPT:
	case EHOSTDOWN: case ENONET: case EHOSTUNREACH: case ENETUNREACH:
		return true;
	default:
		return false;
	}
}

int ipck__sock_accept(ipck_chan *l, deadline_t dl)
{
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0)
			return fd;
		int e = errno;
		if (accept_retry(e))
			continue;
		if (e != EAGAIN)
			return -e;
		int r = ipck__wait_fd(l, l->fd, POLLIN, dl);
		if (r)
			return r;
	}
}

/* A connect in progress: wait for its end, then its result. */
static int connect_wait(ipck_chan *ch, int fd, deadline_t dl)
{
	int r = ipck__wait_fd(ch, fd, POLLOUT, dl);
	if (r)
		return r;
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

int ipck__sock_connect(ipck_chan *ch, int fd, const struct sockaddr *a, socklen_t len,
		       deadline_t dl)
{
	for (unsigned attempt = 0;; attempt++) {
		if (connect(fd, a, len) == 0)
			return 0;
		int e = errno;
		if (e == EINPROGRESS || e == EALREADY || e == EINTR)
			return connect_wait(ch, fd, dl);
		if (e != EAGAIN)
			return -e;
		if (ipck__ms_left(dl) == 0)   /* a full Unix backlog, still */
			return -ETIMEDOUT;
		ipck__backoff(attempt, dl);
	}
}

int ipck__sock_bufs(int fd, size_t msg)
{
	/* The kernel doubles the value and caps it at net.core.[rw]mem_max. */
	int want = (int)(4 * msg);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want)) < 0)
		return -errno;
	return 0;
}

bool ipck__sock_loopback(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)a;
		return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
	}
	if (a->sa_family == AF_INET6) {
		const struct in6_addr *s = &((const struct sockaddr_in6 *)a)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(s) || (IN6_IS_ADDR_V4MAPPED(s) && s->s6_addr[12] == 127);
	}
	return false;
}
