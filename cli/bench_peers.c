/*
 * bench_peers.c - other libraries measured beside ipckit: ZeroMQ and NNG,
 * each a PAIR socket over ipc:// in the run's private directory.
 *
 * The plain build compiles this file with neither, so `ipckit` needs only
 * libc.  mk/bench.mk compiles it again with -DHAVE_ZMQ / -DHAVE_NNG when
 * the libraries are installed and links build/bench/ipckit with them.
 * Contexts are made after fork, in each process (neither library survives
 * a fork).
 */
#include "bench.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef HAVE_ZMQ
#include <zmq.h>

struct zpeer { void *ctx, *sock; };

static int z_open(void **out, const char *dir, int side)
{
	char url[300];
	struct zpeer *z = calloc(1, sizeof(*z));
	if (!z)
		return -ENOMEM;
	snprintf(url, sizeof(url), "ipc://%s/zmq.sock", dir);
	z->ctx = zmq_ctx_new();
	z->sock = z->ctx ? zmq_socket(z->ctx, ZMQ_PAIR) : NULL;
	if (!z->sock || (side ? zmq_connect(z->sock, url) : zmq_bind(z->sock, url)) != 0) {
		int e = -zmq_errno();
		if (z->sock)
			zmq_close(z->sock);
		if (z->ctx)
			zmq_ctx_term(z->ctx);
		free(z);
		return e;
	}
	*out = z;
	return 0;
}

static ssize_t z_send(void *ctx, const void *msg, size_t len)
{
	struct zpeer *z = ctx;
	int n;
	while ((n = zmq_send(z->sock, msg, len, 0)) < 0 && zmq_errno() == EINTR)
		;
	return n < 0 ? -zmq_errno() : n;
}

static ssize_t z_recv(void *ctx, void *buf, size_t cap)
{
	struct zpeer *z = ctx;
	int n;
	while ((n = zmq_recv(z->sock, buf, cap, 0)) < 0 && zmq_errno() == EINTR)
		;
	if (n < 0)
		return -zmq_errno();
	return (size_t)n > cap ? -EMSGSIZE : n;
}

static void z_close(void *ctx)
{
	struct zpeer *z = ctx;
	int linger = 0;
	zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_close(z->sock);
	zmq_ctx_term(z->ctx);
	free(z);
}

static const struct ipck_bench_peer zmq_peer = {
	"zmq", 64u << 20, z_open, z_send, z_recv, z_close, NULL,
};
#endif

#ifdef HAVE_NNG
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

struct npeer { nng_socket s; };

static int n_open(void **out, const char *dir, int side)
{
	char url[300];
	struct npeer *p = calloc(1, sizeof(*p));
	int r;
	if (!p)
		return -ENOMEM;
	snprintf(url, sizeof(url), "ipc://%s/nng.sock", dir);
	if ((r = nng_pair1_open(&p->s)) == 0) {
		nng_socket_set_size(p->s, NNG_OPT_RECVMAXSZ, 0);   /* no limit */
		/* pair1 queues no message by default: each send waits for the
		 * receiver's hand-off.  Queues on both sides, as ZeroMQ has. */
		nng_socket_set_int(p->s, NNG_OPT_SENDBUF, 1024);
		nng_socket_set_int(p->s, NNG_OPT_RECVBUF, 1024);
		r = side ? nng_dial(p->s, url, NULL, NNG_FLAG_NONBLOCK) : nng_listen(p->s, url, NULL, 0);
		if (r)
			nng_close(p->s);
	}
	if (r) {
		free(p);
		return -EPROTO;
	}
	*out = p;
	return 0;
}

static ssize_t n_send(void *ctx, const void *msg, size_t len)
{
	struct npeer *p = ctx;
	return nng_send(p->s, (void *)msg, len, 0) ? -EPROTO : (ssize_t)len;
}

static ssize_t n_recv(void *ctx, void *buf, size_t cap)
{
	struct npeer *p = ctx;
	size_t n = cap;
	return nng_recv(p->s, buf, &n, 0) ? -EPROTO : (ssize_t)n;
}

static void n_close(void *ctx)
{
	struct npeer *p = ctx;
	nng_close(p->s);
	free(p);
}

static const struct ipck_bench_peer nng_peer = {
	"nng", 64u << 20, n_open, n_send, n_recv, n_close, NULL,
};
#endif

const struct ipck_bench_peer *const cli_bench_peers[] = {
#ifdef HAVE_ZMQ
	&zmq_peer,
#endif
#ifdef HAVE_NNG
	&nng_peer,
#endif
	NULL,
};
