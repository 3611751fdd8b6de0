/*
 * bench_tp.c - the measured transports that go through a public API: a
 * libipckit channel (any scheme of the table), and a peer library given by
 * the caller (struct ipck_bench_peer: ZeroMQ, NNG...).
 *
 * A pair-only scheme is made by ipck_pair in A before B is forked, and each
 * process closes the end it does not keep.  A named scheme is opened as a
 * listener by A after the fork, so B never holds a copy of the listener.
 */
#include "bench.h"
#include <errno.h>

#define ATTACH_TMO_MS 10000

static int chan_pair(struct blink *l)
{
	return l->pair ? ipck_pair(l->url, &l->ch, &l->other) : 0;
}

static int chan_listen(struct blink *l)
{
	return l->pair ? 0 : ipck_open(&l->other, l->url, IPCK_LISTEN);
}

static int chan_attach(struct blink *l, int side)
{
	int r;
	if (l->pair) {
		ipck_chan *keep = side ? l->other : l->ch;
		ipck_close(side ? l->ch : l->other);   /* the copy of the peer's end */
		l->ch = keep;
		l->other = NULL;
		r = 0;
	} else if (side == 0) {
		r = ipck_accept(l->other, &l->ch, ATTACH_TMO_MS);
	} else {
		r = ipck_open(&l->ch, l->url, 0);
	}
	if (!r)
		l->max_msg = ipck_max_msg(l->ch);
	return r;
}

static ssize_t chan_send(struct blink *l, const void *msg, size_t len, int tmo)
{
	return ipck_send(l->ch, msg, len, l->block ? -1 : tmo);
}

static ssize_t chan_recv(struct blink *l, void *buf, size_t len, int tmo)
{
	return ipck_recv(l->ch, buf, len, l->block ? -1 : tmo);
}

static void chan_close(struct blink *l, int side)
{
	ipck_close(l->ch);
	ipck_close(l->other);   /* A's listener */
	l->ch = l->other = NULL;
}

const struct btp ipck__btp_chan = {
	.pair = chan_pair,
	.listen = chan_listen,
	.attach = chan_attach,
	.send = chan_send,
	.recv = chan_recv,
	.close = chan_close,
};

/* ---- a peer library ----------------------------------------------------- */

static int peer_attach(struct blink *l, int side)
{
	l->max_msg = l->peer->max_msg;
	return l->peer->open(&l->ctx, l->dir, side);
}

static ssize_t peer_send(struct blink *l, const void *msg, size_t len, int tmo)
{
	(void)tmo;   /* a peer blocks; E's deadline ends a hung one */
	return l->peer->send(l->ctx, msg, len);
}

static ssize_t peer_recv(struct blink *l, void *buf, size_t len, int tmo)
{
	(void)tmo;
	return l->peer->recv(l->ctx, buf, len);
}

static void peer_close(struct blink *l, int side)
{
	if (l->ctx)
		l->peer->close(l->ctx);
	l->ctx = NULL;
}

const struct btp ipck__btp_peer = {
	.attach = peer_attach,
	.send = peer_send,
	.recv = peer_recv,
	.close = peer_close,
};
