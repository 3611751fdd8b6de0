/*
 * pipe.c - "pipe:": two anonymous pipes, one per direction, made by
 * ipck_pair before fork.  No name, nothing to remove: the kernel frees a
 * pipe when its last descriptor closes, and that close is what the peer
 * sees as the end (EOF on read, EPIPE on write).
 * Trap: a write to a pipe with no reader raises SIGPIPE; fdio.c writes with
 * SIGPIPE blocked in the calling thread.  Writes up to PIPE_BUF are atomic,
 * larger ones may be split: the stream framing copes.
 */
#include "../internal.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static int pipe_parse(struct ipck_url *u)
{
	return u->addr[0] ? -EINVAL : 0;   /* "pipe:" has no address */
}

static int pipe_pair(ipck_chan *a, ipck_chan *b)
{
	int ab[2], ba[2];
	if (pipe2(ab, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(ba, O_CLOEXEC) < 0) {
		int e = -errno;
		close(ab[0]);
		close(ab[1]);
		return e;
	}
	enum frame_kind fk = a->url.raw ? FRAME_NONE : FRAME_STREAM;
	int r = ipck__fd_init(a, ba[0], ab[1], fk);
	if (!r)
		r = ipck__fd_init(b, ab[0], ba[1], fk);
	if (r) {
		ipck__fd_close(a);
		ipck__fd_close(b);
		return r;
	}
	a->is_bytes = b->is_bytes = a->url.raw;
	if (a->url.raw)
		a->max_msg = b->max_msg = IPCK_STREAM_MAX;
	return 0;
}

static int pipe_open(ipck_chan *ch, int flags)
{
	(void)ch;
	(void)flags;
	return -EINVAL;   /* unreachable: pair-only schemes are refused before */
}

const struct ipck_scheme ipck__scheme_pipe = {
	.info = {"pipe", "anonymous pipes, one per direction (ipck_pair before fork)",
		 IPCK_CAP_PAIR_ONLY | IPCK_CAP_STREAM},
	.opts = OPT_RAW,
	.parse = pipe_parse,
	.open = pipe_open,
	.pair = pipe_pair,
	.send = ipck__fd_send,
	.recv = ipck__fd_recv,
	.pollfd = ipck__fd_pollfd,
	.close = ipck__fd_close,
};
