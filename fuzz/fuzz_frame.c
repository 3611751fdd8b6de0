/*
 * fuzz_frame.c - the receive side of the descriptor framings (src/fdio.c)
 * fed arbitrary bytes by a hostile writer, checked against a reference model.
 *
 * Input: byte 0 picks the framing (stream over a pipe or a stream socket,
 * seqpacket, dgram, raw pipe, raw dgram); then a program of operations:
 *   op & 3 == 0   write (op >> 2) bytes taken from the input
 *   op & 3 == 1   write a record of u16 (+65536 if op & 4) bytes from the input
 *   op & 3 == 2   ipck_recv with a buffer of caps[op >> 2] bytes, timeout 0
 *   op == 3       the writer closes its end
 *   op & 3 == 3   ipck_recv (as 2), then ipck_pollfd must agree
 * Writes are the raw bytes a peer puts on the descriptor: headers, tags,
 * lengths and sequence numbers are the input's.  The model (below) says what
 * every ipck_recv must return, byte for byte; buffers are allocated to the
 * exact capacity so a write past it is caught by ASan, and the channel may
 * never hold more than max_msg for one message.
 */
#include "fuzz.h"
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum fmode { M_PIPE_STREAM, M_SOCK_STREAM, M_SEQPACKET, M_DGRAM, M_PIPE_RAW, M_DGRAM_RAW, M_COUNT };

static const size_t fz_caps[] = {0, 1, 3, 4, 5, 7, 8, 9, 63, 255, 4095, 4096, 4097,
				 65527, 65528, 65529, 65535, 65536, 65537, 1u << 20, IPCK_STREAM_MAX};
#define NCAPS (sizeof(fz_caps) / sizeof(fz_caps[0]))

extern const struct ipck_scheme ipck__scheme_socketpair;   /* a descriptor scheme's slots */

struct rec {
	unsigned char *p;
	size_t n;
};

/* What the writer has put on the descriptor and the reader has not consumed. */
struct model {
	enum fmode m;
	size_t max_msg, hl;      /* the channel's max_msg and header length */
	unsigned char *bytes;    /* stream: every byte written */
	size_t len, pos, bcap;
	struct rec *recs;        /* packets: every record written */
	size_t nrec, rpos, rcap;
	struct rec held;         /* a record consumed for a too-small buffer */
	bool have_held, closed, eof;
	int sticky;              /* the error the channel keeps (-EPROTO) */
	uint32_t rx_seq;
};

static bool is_stream(enum fmode m)
{
	return m == M_PIPE_STREAM || m == M_SOCK_STREAM || m == M_PIPE_RAW;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

static void model_add(struct model *md, const unsigned char *p, size_t n)
{
	if (is_stream(md->m)) {
		if (md->len + n > md->bcap)
			md->bytes = xrealloc(md->bytes, md->bcap = 2 * (md->len + n));
		memcpy(md->bytes + md->len, p, n);
		md->len += n;
		return;
	}
	if (md->nrec == md->rcap)
		md->recs = xrealloc(md->recs, (md->rcap = 2 * md->rcap + 8) * sizeof(struct rec));
	unsigned char *c = xrealloc(NULL, n);
	memcpy(c, p, n);
	md->recs[md->nrec++] = (struct rec){c, n};
}

/* Stream framing: u32 length, payload.  *out: the expected bytes. */
static long long expect_stream(struct model *md, size_t cap, const unsigned char **out)
{
	size_t avail = md->len - md->pos;
	const unsigned char *p = md->bytes ? md->bytes + md->pos : NULL;
	if (md->m == M_PIPE_RAW) {
		if (cap == 0)
			return 0;
		if (!avail)
			return md->closed ? -EPIPE : -ETIMEDOUT;
		size_t n = avail < cap ? avail : cap;
		*out = p;
		md->pos += n;
		return (long long)n;
	}
	if (avail < 4)
		return md->closed ? -EPIPE : -ETIMEDOUT;
	uint32_t l = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	if (l > md->max_msg)
		return md->sticky = -EPROTO;
	if (l > cap)
		return -EMSGSIZE;
	if (avail - 4 < l)
		return md->closed ? -EPIPE : -ETIMEDOUT;
	*out = p + 4;
	md->pos += 4 + (size_t)l;
	return l;
}

/* One record as rec_check in fdio.c reads it: a length, 0 to skip, or an error. */
static long long model_record(struct model *md, const struct rec *r, bool *skip)
{
	bool cut = r->n > md->hl + md->max_msg;   /* MSG_TRUNC: never delivered */
	*skip = false;
	if (md->m == M_DGRAM_RAW)
		return cut ? (md->sticky = -EPROTO) : (long long)r->n;
	if (r->n == 0 && md->m == M_SEQPACKET) {
		md->eof = true;
		return -EPIPE;
	}
	if (r->n < md->hl)
		return md->sticky = -EPROTO;
	uint8_t tag = md->m == M_SEQPACKET ? r->p[0] : r->p[4];
	if (tag == TAG_BYE) {
		md->eof = true;
		return -EPIPE;
	}
	if (tag != TAG_DATA && md->m == M_DGRAM)
		return *skip = true, 0;
	if (tag != TAG_DATA || cut)
		return md->sticky = -EPROTO;
	if (md->m == M_DGRAM) {
		uint32_t seq = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 |
			       (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
		if ((int32_t)(seq - md->rx_seq) < 0)
			return *skip = true, 0;
		md->rx_seq = seq + 1;
	}
	return (long long)(r->n - md->hl);
}

static long long expect_packet(struct model *md, size_t cap, const unsigned char **out)
{
	if (md->have_held) {
		if (md->held.n > cap)
			return -EMSGSIZE;
		md->have_held = false;
		*out = md->held.p;
		return (long long)md->held.n;
	}
	if (md->eof)
		return -EPIPE;
	while (md->rpos < md->nrec) {
		const struct rec *r = &md->recs[md->rpos++];
		bool skip;
		long long n = model_record(md, r, &skip);
		if (skip)
			continue;
		if (n < 0)
			return n;
		*out = r->p + md->hl;
		if ((size_t)n > cap) {
			md->held = (struct rec){r->p + md->hl, (size_t)n};
			md->have_held = true;
			return -EMSGSIZE;
		}
		return n;
	}
	if (md->closed && md->m == M_SEQPACKET)
		return md->eof = true, -EPIPE;
	return -ETIMEDOUT;   /* a closed dgram socket pair just stays empty */
}

static long long model_expect(struct model *md, size_t cap, const unsigned char **out)
{
	if (md->sticky)
		return md->sticky;
	return is_stream(md->m) ? expect_stream(md, cap, out) : expect_packet(md, cap, out);
}

/* ---- the channel under test ---------------------------------------------- */

static ipck_chan *fz_open(enum fmode m, int *wfd)
{
	static const int types[M_COUNT] = {0, SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM, 0, SOCK_DGRAM};
	static const enum frame_kind fks[M_COUNT] = {FRAME_STREAM, FRAME_STREAM, FRAME_SEQPACKET,
						     FRAME_DGRAM, FRAME_NONE, FRAME_NONE};
	int fds[2];
	if (types[m] ? socketpair(AF_UNIX, types[m] | SOCK_CLOEXEC, 0, fds) : pipe2(fds, O_CLOEXEC))
		abort();
	ipck_chan *ch = ipck__chan_new(&ipck__scheme_socketpair, NULL);
	if (!ch || ipck__fd_init(ch, fds[0], fds[0], fks[m]))
		abort();
	ch->role = ROLE_PAIR;
	ch->is_bytes = m == M_PIPE_RAW;
	if (fcntl(fds[1], F_SETFL, O_NONBLOCK) < 0)
		abort();
	*wfd = fds[1];
	return ch;
}

static void fz_write(struct model *md, int wfd, const unsigned char *p, size_t n)
{
	ssize_t w;
	if (md->closed || (n == 0 && is_stream(md->m)))
		return;
	if (md->m == M_PIPE_STREAM || md->m == M_PIPE_RAW)
		w = write(wfd, p, n);
	else
		w = send(wfd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w > 0 || (w == 0 && !is_stream(md->m)))
		model_add(md, p, (size_t)w);
}

/*
 * Every ipck_recv as the model says.  With poll_too, first: when a receive
 * with a large enough buffer would not block, ipck_pollfd polls readable.
 */
static void fz_recv(struct model *md, ipck_chan *ch, size_t ci, bool poll_too)
{
	static unsigned char *bufs[NCAPS];   /* each exactly its size: ASan sees overruns */
	size_t cap = fz_caps[ci];
	unsigned char *buf = bufs[ci] ? bufs[ci] : (bufs[ci] = xrealloc(NULL, cap));
	const unsigned char *want = NULL;
	if (poll_too) {
		struct model copy = *md;
		long long e = model_expect(&copy, ch->max_msg, &want);
		struct pollfd p = {.fd = ipck_pollfd(ch), .events = POLLIN};
		FUZZ_CHECK(p.fd >= 0);
		if (e != -ETIMEDOUT)
			FUZZ_EQ(poll(&p, 1, 0), 1);
	}
	long long e = model_expect(md, cap, &want);
	ssize_t r = ipck_recv(ch, buf, cap, 0);
	FUZZ_EQ(r, e);
	if (r > 0)
		FUZZ_CHECK(!memcmp(buf, want, (size_t)r));
	FUZZ_CHECK(r <= (ssize_t)cap && r <= (ssize_t)ch->max_msg);
	if (r == -EMSGSIZE)
		FUZZ_CHECK(ipck_next_size(ch) > (ssize_t)cap && (size_t)ipck_next_size(ch) <= ch->max_msg);
	FUZZ_CHECK(ch->rx.cap <= (ch->max_msg > (64u << 10) ? ch->max_msg : (64u << 10)));
	FUZZ_CHECK(ch->held.len <= ch->max_msg);
}

static void model_free(struct model *md)
{
	for (size_t i = 0; i < md->nrec; i++)
		free(md->recs[i].p);
	free(md->recs);
	free(md->bytes);
}

int fuzz_frame(const uint8_t *d, size_t n)
{
	if (n < 1)
		return 0;
	struct model md = {.m = (enum fmode)(d[0] % M_COUNT)};
	int wfd;
	ipck_chan *ch = fz_open(md.m, &wfd);
	md.max_msg = ch->max_msg;
	md.hl = md.m == M_SEQPACKET ? 1 : md.m == M_DGRAM ? sizeof(struct dgram_hdr) : 0;
	size_t i = 1;
	while (i < n) {
		uint8_t op = d[i++];
		size_t len = op >> 2;
		switch (op & 3) {
		case 1:
			len = i + 2 <= n ? (size_t)d[i] | (size_t)d[i + 1] << 8 : 0;
			len += (op & 4) ? 65536 : 0;
			i += 2;
			/* fall through */
		case 0:
			len = i >= n ? 0 : len < n - i ? len : n - i;
			fz_write(&md, wfd, d + (i < n ? i : n), len);
			i += len;
			break;
		case 3:
			if (op == 3) {
				md.closed = true;
				close(wfd);
				wfd = -1;
				break;
			}
			/* fall through */
		case 2:
			fz_recv(&md, ch, (op >> 2) % NCAPS, (op & 3) == 3);
			break;
		}
	}
	if (wfd >= 0)
		close(wfd);
	ipck_close(ch);
	model_free(&md);
	return 0;
}
