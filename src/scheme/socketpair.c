/*
 * socketpair.c - "socketpair:": one AF_UNIX SOCK_SEQPACKET pair made by
 * ipck_pair before fork.  Bidirectional, keeps record boundaries; each
 * record carries a tag byte so an empty message differs from the end of the
 * peer (both read as 0 bytes on a seqpacket socket).  Nothing is named;
 * the pair ends when the last copy of either end closes.
 */
#include "../internal.h"
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

static int sp_parse(struct ipck_url *u)
{
	return u->addr[0] ? -EINVAL : 0;
}

static int sp_pair(ipck_chan *a, ipck_chan *b)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	int r = ipck__fd_init(a, sv[0], sv[0], FRAME_SEQPACKET);
	if (!r)
		r = ipck__fd_init(b, sv[1], sv[1], FRAME_SEQPACKET);
	if (r) {
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	a->is_sock = b->is_sock = true;
	return 0;
}

static int sp_open(ipck_chan *ch, int flags)
{
	(void)ch;
	(void)flags;
	return -EINVAL;
}

const struct ipck_scheme ipck__scheme_socketpair = {
	.info = {"socketpair", "a Unix seqpacket socket pair (ipck_pair before fork)",
		 IPCK_CAP_PAIR_ONLY},
	.parse = sp_parse,
	.open = sp_open,
	.pair = sp_pair,
	.send = ipck__fd_send,
	.recv = ipck__fd_recv,
	.pollfd = ipck__fd_pollfd,
	.close = ipck__fd_close,
};
