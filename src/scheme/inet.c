/*
 * inet.c - "tcp://host:port" and "udp://host:port": IPv4, IPv6 in brackets
 * ("[::1]"), host names through getaddrinfo (the first address that works).
 *
 * Nothing named is left behind: the port goes with the socket.  The kernel
 * cannot tell the peer's pid over IP: tcp reports 0; udp takes the pid a
 * peer claims in its greeting, only from a loopback address, and watches it
 * (pidfd), which is how a SIGKILLed udp peer is noticed at all.
 * tcp: stream framing, TCP_NODELAY, SO_REUSEADDR on the listener (a restart
 * does not wait for TIME_WAIT); timeout= bounds the connect.
 * udp: the rendezvous of dgram.c gives every peer its own socket, connected
 * both ways.  udp may drop messages: a gap in the sequence numbers counts
 * in ipck_stats().dropped; a message lost at the end of a burst cannot be
 * counted.  An ICMP "port unreachable" makes the next call -ECONNRESET.
 * Traps: without IP_RECVERR an unconnected udp socket never hears that
 * nobody listens, so the client sets it while it waits for the WELCOME; no
 * SO_REUSEADDR on a udp listener, where it would let two share a port.
 */
#include "../sock.h"
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UDP_MAX 65507u   /* 65535 - IPv4 header (20) - UDP header (8) */

extern const struct ipck_scheme ipck__scheme_udp;

static int udp_conn_sock(const ipck_chan *l, const struct sockaddr *peer, socklen_t len);

static const struct dgram_rdv udp_rdv = {
	.creds = false,
	.resend_ms = 200,
	.max_msg = UDP_MAX - sizeof(struct dgram_hdr),
	.conn_sock = udp_conn_sock,
};

/* "//host:port" or "//[v6]:port" into host and port; -EINVAL if malformed. */
static int in_split(const char *addr, char *host, size_t cap, unsigned *port)
{
	const char *h = addr + 2, *colon;
	size_t hn;
	if (strncmp(addr, "//", 2))
		return -EINVAL;
	if (*h == '[') {
		const char *end = strchr(++h, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		hn = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(h, ':');
		if (!colon)
			return -EINVAL;
		hn = (size_t)(colon - h);
		if (memchr(h, ':', hn))
			return -EINVAL;   /* an IPv6 address needs its brackets */
	}
	const char *p = colon + 1;
	size_t pn = strlen(p);
	if (hn == 0 || hn >= cap || pn == 0 || pn > 5 || strspn(p, "0123456789") != pn)
		return -EINVAL;
	unsigned long v = strtoul(p, NULL, 10);
	if (v > 65535)
		return -EINVAL;
	memcpy(host, h, hn);
	host[hn] = '\0';
	*port = (unsigned)v;
	return 0;
}

static int in_parse(struct ipck_url *u)
{
	char host[NI_MAXHOST];
	unsigned port;
	return in_split(u->addr, host, sizeof(host), &port);
}

static int gai_errno(int e)
{
	switch (e) {
	case EAI_SYSTEM:     return errno ? -errno : -EIO;
	case EAI_MEMORY:     return -ENOMEM;
	case EAI_AGAIN:      return -EAGAIN;
	case EAI_NONAME: case EAI_NODATA: case EAI_ADDRFAMILY:
		return -ENXIO;   /* no such host, or no address of that kind */
	default:             return -EINVAL;
	}
}

static int in_resolve(const ipck_chan *ch, bool listen, struct addrinfo **res)
{
	char host[NI_MAXHOST], serv[8];
	unsigned port;
	int type = ch->sc == &ipck__scheme_udp ? SOCK_DGRAM : SOCK_STREAM;
	if (in_split(ch->url.addr, host, sizeof(host), &port))
		return -EINVAL;
	if (!listen && port == 0)
		return -EINVAL;   /* a client needs a real port */
	snprintf(serv, sizeof(serv), "%u", port);
	struct addrinfo hints = {.ai_socktype = type,
				 .ai_flags = AI_NUMERICSERV | (listen ? AI_PASSIVE : 0)};
	int e = getaddrinfo(host, serv, &hints, res);
	return e ? gai_errno(e) : 0;
}

/* Of the errors met trying each address, keep the most telling. */
static int in_worse(int kept, int r)
{
	return !kept || kept == -EAFNOSUPPORT || kept == -EADDRNOTAVAIL ? r : kept;
}

static int in_socket(const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	return fd < 0 ? -errno : fd;
}

/* A listening (tcp) or bound (udp) socket at one address: fd or -errno. */
static int in_bind_one(const struct addrinfo *ai)
{
	int fd = in_socket(ai), one = 1, r = 0;
	if (fd < 0)
		return fd;
	if (ai->ai_socktype == SOCK_STREAM)
		r = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ? -errno : 0;
	else
		r = ipck__sock_bufs(fd, UDP_MAX);
	if (!r && bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		r = -errno;
	if (!r && ai->ai_socktype == SOCK_STREAM && listen(fd, SOMAXCONN) < 0)
		r = -errno;
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

static size_t in_max(const ipck_chan *ch)
{
	if (ch->sc != &ipck__scheme_udp)
		return IPCK_STREAM_MAX;
	return ch->url.raw ? UDP_MAX : udp_rdv.max_msg;
}

static int in_listen(ipck_chan *ch)
{
	struct addrinfo *res;
	int r = in_resolve(ch, true, &res), fd = -1;
	if (r)
		return r;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = in_bind_one(ai);
		if (fd < 0)
			r = in_worse(r, fd);
	}
	freeaddrinfo(res);
	if (fd < 0)
		return r;
	ch->fd = fd;
	ch->is_sock = true;
	ch->max_msg = in_max(ch);
	return 0;
}

/* ---- tcp ------------------------------------------------------------------ */

/* Make ch a channel on the connected tcp socket fd (closed on failure). */
static int tcp_conn_init(ipck_chan *ch, int fd)
{
	int one = 1;
	int r = setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ? -errno : 0;
	if (!r)
		r = ipck__fd_init(ch, fd, fd, ch->url.raw ? FRAME_NONE : FRAME_STREAM);
	if (r) {
		close(fd);
		return r;
	}
	ch->is_sock = true;
	ch->is_bytes = ch->url.raw;
	ch->max_msg = IPCK_STREAM_MAX;
	return 0;
}

/* One address: connect a new socket and make ch a channel on it. */
static int tcp_try(ipck_chan *ch, const struct addrinfo *ai, deadline_t dl)
{
	int fd = in_socket(ai);
	if (fd < 0)
		return fd;
	int r = ipck__sock_connect(ch, fd, ai->ai_addr, ai->ai_addrlen, dl);
	if (r) {
		close(fd);
		return r;
	}
	return tcp_conn_init(ch, fd);
}

static int tcp_accept(ipck_chan *l, ipck_chan *c, int timeout_ms)
{
	int fd = ipck__sock_accept(l, ipck__deadline(timeout_ms));
	return fd < 0 ? fd : tcp_conn_init(c, fd);
}

/* ---- udp ------------------------------------------------------------------ */

/* ICMP errors on an unconnected socket: on while waiting for the WELCOME. */
static int udp_recverr(int fd, int family, int on)
{
	int level = family == AF_INET6 ? SOL_IPV6 : SOL_IP;
	int opt = family == AF_INET6 ? IPV6_RECVERR : IP_RECVERR;
	if (setsockopt(fd, level, opt, &on, sizeof(on)) < 0)
		return -errno;
	char b;
	while (!on && recv(fd, &b, 1, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0)
		;   /* drop the queued reports */
	return 0;
}

/* Greet the listener at one address from a new socket. */
static int udp_try(ipck_chan *ch, const struct addrinfo *ai, deadline_t dl)
{
	int fd = in_socket(ai);
	if (fd < 0)
		return fd;
	int r = ipck__sock_bufs(fd, UDP_MAX);
	if (!r && ch->url.raw) {
		r = connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 ? -errno : 0;
		if (!r)
			r = ipck__fd_init(ch, fd, fd, FRAME_NONE);
	} else if (!r) {
		r = udp_recverr(fd, ai->ai_family, 1) ?:
		    ipck__dgram_connect(ch, fd, ai->ai_addr, ai->ai_addrlen, &udp_rdv, dl);
		if (!r)
			r = udp_recverr(fd, ai->ai_family, 0);
	}
	if (r) {
		close(fd);
		ipck__close_fd(ch->peer_fd);
		ch->peer_fd = -1;
		ch->peer_pid = 0;
		return r;
	}
	ch->is_sock = true;
	ch->max_msg = in_max(ch);
	return 0;
}

/* Listener side: a socket for one peer at the listener's address, new port. */
static int udp_conn_sock(const ipck_chan *l, const struct sockaddr *peer, socklen_t len)
{
	struct sockaddr_storage me;
	socklen_t mlen = sizeof(me);
	if (getsockname(l->fd, (struct sockaddr *)&me, &mlen) < 0)
		return -errno;
	if (me.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&me)->sin6_port = 0;
	else
		((struct sockaddr_in *)&me)->sin_port = 0;
	int fd = socket(me.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int r = ipck__sock_bufs(fd, UDP_MAX);
	if (!r && (bind(fd, (struct sockaddr *)&me, mlen) < 0 || connect(fd, peer, len) < 0))
		r = -errno;
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

static int udp_accept(ipck_chan *l, ipck_chan *c, int timeout_ms)
{
	deadline_t dl = ipck__deadline(timeout_ms);
	if (l->url.raw)
		return ipck__dgram_accept_raw(l, c, &udp_rdv, dl);
	return ipck__dgram_accept(l, c, &udp_rdv, dl);
}

/* ---- both ------------------------------------------------------------------ */

/* Try each address of the host in turn, until one connects. */
static int in_connect(ipck_chan *ch)
{
	int (*try)(ipck_chan *, const struct addrinfo *, deadline_t) =
		ch->sc == &ipck__scheme_udp ? udp_try : tcp_try;
	deadline_t dl = ipck__deadline(ch->url.timeout_ms);
	struct addrinfo *res;
	int r = in_resolve(ch, false, &res), e = -ENXIO;
	if (r)
		return r;
	for (struct addrinfo *ai = res; ai && e && r != -ETIMEDOUT; ai = ai->ai_next) {
		e = try(ch, ai, dl);
		if (e)
			r = e == -ETIMEDOUT ? e : in_worse(r, e);
	}
	freeaddrinfo(res);
	return e ? r : 0;
}

static int in_open(ipck_chan *ch, int flags)
{
	return flags & IPCK_LISTEN ? in_listen(ch) : in_connect(ch);
}

/* Nothing named: a port is freed with its socket. */
static int in_unlink(const struct ipck_url *u)
{
	(void)u;
	return -ENOENT;
}

const struct ipck_scheme ipck__scheme_tcp = {
	.info = {"tcp", "TCP connection, IPv4 or IPv6", IPCK_CAP_STREAM | IPCK_CAP_NETWORK},
	.opts = OPT_RAW | OPT_TIMEOUT,
	.priv_size = sizeof(struct sock_priv),
	.parse = in_parse,
	.open = in_open,
	.accept = tcp_accept,
	.send = ipck__fd_send,
	.recv = ipck__fd_recv,
	.pollfd = ipck__fd_pollfd,
	.close = ipck__fd_close,
	.unlink = in_unlink,
};

const struct ipck_scheme ipck__scheme_udp = {
	.info = {"udp", "UDP datagrams, one socket per peer; may drop (counted)",
		 IPCK_CAP_LOSSY | IPCK_CAP_NETWORK},
	.opts = OPT_RAW | OPT_TIMEOUT,
	.priv_size = sizeof(struct sock_priv),
	.parse = in_parse,
	.open = in_open,
	.accept = udp_accept,
	.send = ipck__fd_send,
	.recv = ipck__fd_recv,
	.pollfd = ipck__fd_pollfd,
	.close = ipck__fd_close,
	.unlink = in_unlink,
};
