/*
 * fdio.c - whole messages over a file descriptor, for every scheme that is
 * "a descriptor plus a framing rule": pipe, fifo, socketpair, unix*, tcp, udp.
 *
 *   FRAME_STREAM     u32 little-endian length, then the payload.  Reads go
 *                    through a buffer so that small messages cost one read
 *                    each batch; a message larger than the buffer is read
 *                    straight into the caller's buffer.
 *   FRAME_SEQPACKET  one tag byte then the payload, one record per message;
 *                    the tag tells an empty message from the end of the peer.
 *   FRAME_DGRAM      struct dgram_hdr (sequence number, tag), then payload.
 *   FRAME_NONE       raw: bytes as they come, or one datagram per message.
 *
 * Pipes and FIFOs are non-blocking; timeouts are poll deadlines.  Sockets
 * stay blocking and send with MSG_DONTWAIT; a receive blocks in recvmsg
 * under SO_RCVTIMEO (may_block), one system call per message as a plain
 * program makes, and falls back to a poll wait when that runs out.
 * A record larger than the caller's buffer overflows into a spill buffer
 * and is held for the next call (-EMSGSIZE), so no peek is needed.  A stream
 * message is never delivered or sent in part: a send that ran out of time
 * after its first byte keeps the rest and flushes it before anything else
 * (the message is accepted), and a receive that ran out of time mid-message
 * keeps what it has for the next call.
 *
 * On Unix sockets, descriptors may ride with a message (fdpass.c): they are
 * attached to the sendmsg carrying the frame header, and every stream read
 * collects them, so they come out with the message they were sent with; a
 * held record keeps its descriptors (in ch->fdq) until it is delivered.
 * A record read for ipck_recv (which closes them) into a buffer of at most
 * FLAT_MAX bytes is a plain recv(2) with no control buffer: the kernel drops
 * the descriptors, and a record held then has none.  Sockets that cannot
 * carry descriptors (tcp, udp) always use send(2)/recv(2); a small frame is
 * copied whole to go out in one send(2) (sendmsg costs more than the copy).
 * Pipes and FIFOs write with pwritev2(RWF_NOSIGNAL) where the kernel has it
 * (6.18), else with SIGPIPE blocked around write(2) (util.c).
 */
#include "internal.h"
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define RX_CAP (64u << 10)

int ipck__fd_init(ipck_chan *ch, int rfd, int wfd, enum frame_kind fk)
{
	struct stat st;
	ch->fd = rfd;
	ch->wfd = wfd;
	ch->frame = fk;
	if (fstat(rfd, &st) < 0)
		return -errno;
	ch->is_sock = S_ISSOCK(st.st_mode);
	int r = ipck__set_nonblock(rfd, !ch->is_sock);
	if (!r && wfd != rfd)
		r = ipck__set_nonblock(wfd, !ch->is_sock);
	if (r)
		return r;
	switch (fk) {
	case FRAME_STREAM:    ch->max_msg = IPCK_STREAM_MAX; break;
	case FRAME_SEQPACKET: ch->max_msg = IPCK_DGRAM_MAX - 1; break;
	case FRAME_DGRAM:     ch->max_msg = IPCK_DGRAM_MAX - sizeof(struct dgram_hdr); break;
	case FRAME_NONE:      ch->max_msg = IPCK_DGRAM_MAX; break;
	}
	if (fk == FRAME_STREAM) {
		ch->rx.buf = malloc(RX_CAP);
		if (!ch->rx.buf)
			return -ENOMEM;
		ch->rx.cap = RX_CAP;
	}
	return 0;
}

/* The descriptors a send carries until its first byte is written. */
struct fdsend {
	const int *fds;
	size_t n;
};

/* A frame up to this size is copied whole and written with send(2). */
#define FLAT_MAX 2048

/*
 * send(2) of a small frame gathered in one buffer: sendmsg costs a copy of
 * the msghdr and the iovec on every call, more than copying a small frame.
 * (Pipes and FIFOs write with pwritev2 for its RWF_NOSIGNAL, which takes
 * the iovec anyway.)
 */
static ssize_t fd_write_flat(ipck_chan *ch, const struct iovec *iov, int cnt, size_t total)
{
	unsigned char b[FLAT_MAX];
	size_t off = 0;
	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len)   /* an empty message may have no buffer */
			memcpy(b + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	ssize_t n = send(ch->wfd, b, total, MSG_NOSIGNAL | MSG_DONTWAIT);
	return n < 0 ? -errno : n;
}

static ssize_t fd_writev(ipck_chan *ch, struct iovec *iov, int cnt, const struct fdsend *fs)
{
	size_t total = 0;
	for (int i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	if (!ch->is_sock)   /* pwritev2 takes the iovec as it is */
		return ipck__write_nosig(ch->wfd, iov, cnt);
	if (total <= FLAT_MAX && !(fs && fs->n))
		return fd_write_flat(ch, iov, cnt, total);
	if (fs && fs->n)
		return ipck__sendmsg_fds(ch->wfd, iov, cnt, fs->fds, fs->n);
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
	ssize_t n = sendmsg(ch->wfd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	return n < 0 ? -errno : n;
}

static int io_err(ipck_chan *ch, int e)
{
	if (e == -EPIPE || e == -ECONNRESET || e == -ECONNREFUSED || e == -ENOTCONN) {
		ch->eof = true;
		return e == -EPIPE ? -EPIPE : -ECONNRESET;
	}
	return e;
}

/* Skip n written bytes in iov. */
static void iov_advance(struct iovec **iov, int *cnt, size_t n)
{
	while (*cnt && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	if (*cnt) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}

/* Keep the unwritten rest of a stream message for the next call. */
static int tx_keep(ipck_chan *ch, const struct iovec *iov, int cnt)
{
	size_t n = 0;
	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	unsigned char *b = malloc(n);
	if (!b)
		return -ENOMEM;
	for (size_t off = 0, i = 0; i < (size_t)cnt; off += iov[i].iov_len, i++)
		memcpy(b + off, iov[i].iov_base, iov[i].iov_len);
	ch->tx = (struct txbuf){.buf = b, .len = n, .off = 0};
	return 0;
}

/*
 * Write all of iov.  Returns total, -ETIMEDOUT with nothing written, or an
 * error.  A stream write that times out part-way keeps its rest (tx_keep)
 * and counts as done.
 */
static ssize_t write_all(ipck_chan *ch, struct iovec *iov, int cnt, size_t total, deadline_t dl,
			 struct fdsend fs)
{
	size_t done = 0;
	while (done < total) {
		ssize_t n = fd_writev(ch, iov, cnt, &fs);
		if (n >= 0) {
			fs.n = 0;   /* the descriptors went with the first bytes */
			done += (size_t)n;
			iov_advance(&iov, &cnt, (size_t)n);
			if (done < total)
				IPCK_CRASH_POINT("torn");
			continue;
		}
		if (n != -EAGAIN)
			return io_err(ch, (int)n);
		int r = ipck__wait_fd(ch, ch->wfd, POLLOUT, dl);
		if (r == -ETIMEDOUT && done > 0)
			return tx_keep(ch, iov, cnt) ?: (ssize_t)total;
		if (r == -EPIPE)
			return io_err(ch, -EPIPE);
		if (r)
			return r;
	}
	return (ssize_t)total;
}

/*
 * Write the kept rest of a stream message in place: a reader slower than the
 * writer takes it in many pieces, and each piece only moves the offset.
 * 0 when all of it went, -ETIMEDOUT (the rest still kept), or the error.
 */
static int tx_flush(ipck_chan *ch, deadline_t dl)
{
	struct txbuf *t = &ch->tx;
	int r = 0;
	while (!r && t->off < t->len) {
		struct iovec iov = {t->buf + t->off, t->len - t->off};
		ssize_t n = fd_writev(ch, &iov, 1, NULL);
		if (n >= 0)
			t->off += (size_t)n;
		else if (n != -EAGAIN)
			r = io_err(ch, (int)n);
		else if ((r = ipck__wait_fd(ch, ch->wfd, POLLOUT, dl)) == -EPIPE)
			r = io_err(ch, -EPIPE);
	}
	if (r == -ETIMEDOUT)
		return r;
	free(t->buf);
	*t = (struct txbuf){0};
	return r;
}

ssize_t ipck__fd_send_fds(ipck_chan *ch, const void *msg, size_t len,
			  const int *fds, size_t nfds, int timeout_ms)
{
	deadline_t dl = ipck__deadline(timeout_ms);
	struct iovec iov[2];
	unsigned char tag = TAG_DATA;
	uint32_t hdr32;
	struct dgram_hdr dh;
	int cnt = 0;

	if (ch->eof && ch->frame != FRAME_NONE)
		return -EPIPE;   /* an ipckit peer that ended never reads again (raw: half-close) */
	if (ch->tx.buf) {
		int r = tx_flush(ch, dl);
		if (r)
			return r;
	}
	switch (ch->frame) {
	case FRAME_STREAM:
		hdr32 = htole32((uint32_t)len);
		iov[cnt++] = (struct iovec){&hdr32, 4};
		break;
	case FRAME_SEQPACKET:
		iov[cnt++] = (struct iovec){&tag, 1};
		break;
	case FRAME_DGRAM:
		dh = (struct dgram_hdr){.seq = htole32(ch->tx_seq), .tag = TAG_DATA};
		iov[cnt++] = (struct iovec){&dh, sizeof(dh)};
		break;
	case FRAME_NONE:
		break;
	}
	iov[cnt++] = (struct iovec){(void *)msg, len};
	size_t total = len + (cnt == 2 ? iov[0].iov_len : 0);
	ssize_t r = write_all(ch, iov, cnt, total, dl, (struct fdsend){fds, nfds});
	if (r < 0)
		return r;
	ch->tx_seq++;
	return (ssize_t)len;
}

ssize_t ipck__fd_send(ipck_chan *ch, const void *msg, size_t len, int timeout_ms)
{
	return ipck__fd_send_fds(ch, msg, len, NULL, 0, timeout_ms);
}

/*
 * Several messages in one write on a framed stream: each its length word,
 * then its bytes.  Returns n, or the error of write_all (nothing sent on
 * -ETIMEDOUT; a write cut by the deadline keeps its rest, as for one).
 */
ssize_t ipck__fd_send_many(ipck_chan *ch, const struct iovec *msgs, size_t n, int timeout_ms)
{
	deadline_t dl = ipck__deadline(timeout_ms);
	struct iovec iov[2 * IPCK__MANY];
	uint32_t hdr[IPCK__MANY];
	size_t total = 0;

	if (ch->frame != FRAME_STREAM || n > IPCK__MANY)
		return -EINVAL;
	if (ch->eof)
		return -EPIPE;
	if (ch->tx.buf) {
		int r = tx_flush(ch, dl);
		if (r)
			return r;
	}
	for (size_t i = 0; i < n; i++) {
		hdr[i] = htole32((uint32_t)msgs[i].iov_len);
		iov[2 * i] = (struct iovec){&hdr[i], 4};
		iov[2 * i + 1] = msgs[i];
		total += 4 + msgs[i].iov_len;
	}
	ssize_t r = write_all(ch, iov, (int)(2 * n), total, dl, (struct fdsend){NULL, 0});
	return r < 0 ? r : (ssize_t)n;
}

/* Send the goodbye of a datagram scheme so the peer sees -EPIPE; best effort. */
void ipck__fd_bye(ipck_chan *ch)
{
	/* Connected streams and seqpackets end by themselves when the last copy
	 * of the descriptor closes; a goodbye there could come from a copy left
	 * in a forked process and end the channel too early. */
	struct dgram_hdr dh = {.seq = htole32(ch->tx_seq), .tag = TAG_BYE};
	struct iovec iov = {&dh, sizeof(dh)};
	if (ch->frame == FRAME_DGRAM)
		fd_writev(ch, &iov, 1, NULL);
}

/* ---- receiving ----------------------------------------------------------- */

/* A read blocked in the kernel looks at the peer watch this often. */
#define PEER_SLICE_MS 50

/*
 * Arm SO_RCVTIMEO for a wait of at most ms (0: forever).  The value set
 * stays while it is no longer than ms and at least half of it, so a run of
 * calls with one timeout costs one setsockopt.
 */
static bool sock_arm(ipck_chan *ch, int ms)
{
	int t = ch->rcv_tmo;
	if (ms ? t > 0 && t <= ms && t >= ms / 2 : t == 0)
		return true;
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	if (setsockopt(ch->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return false;
	ch->rcv_tmo = ms;
	return true;
}

/*
 * May this read block in the kernel?  A pipe only with no deadline and no
 * pidfd to watch beside it.  A socket whenever time is left: SO_RCVTIMEO
 * bounds the wait by the deadline, and by PEER_SLICE_MS when a pidfd is
 * watched; a read that ran out (EAGAIN) goes on in rx_wait's poll, which
 * watches the pidfd and keeps the exact deadline.  So a message that comes
 * in time costs one system call, as in a plain blocking program.
 */
static bool may_block(ipck_chan *ch, deadline_t dl, bool gone)
{
	if (!ch->is_sock || gone)
		return !gone && dl < 0 && ch->peer_fd < 0;
	int ms = dl < 0 ? 0 : ipck__ms_left(dl);
	if (dl >= 0 && ms == 0)
		return false;
	if (ch->peer_fd >= 0 && (ms == 0 || ms > PEER_SLICE_MS))
		ms = PEER_SLICE_MS;
	return sock_arm(ch, ms);
}

/* Can descriptors come on this socket (AF_UNIX)?  Asked once. */
static bool fds_may_come(ipck_chan *ch)
{
	if (!ch->fds_dom)
		ch->fds_dom = ipck__fd_can_pass(ch) ? 1 : -1;
	return ch->fds_dom > 0;
}

/* recv(2), cheaper than recvmsg: for a socket that carries no descriptors. */
static ssize_t plain_recv(ipck_chan *ch, void *buf, size_t n, int flags)
{
	ssize_t r = recv(ch->fd, buf, n, flags);
	return r < 0 ? -errno : r;
}

/*
 * A pipe has no per-call "don't wait" flag: its read end is switched to
 * blocking for a wait without deadline and back for the others, and only
 * when the kind of call changes, so a run of calls of one kind costs no
 * fcntl.  The read end is this channel's alone.
 */
static int pipe_mode(ipck_chan *ch, bool block)
{
	if (ch->rd_block == block)
		return 0;
	int r = ipck__set_nonblock(ch->fd, !block);
	if (!r)
		ch->rd_block = block;
	return r;
}

/*
 * read(2) on a pipe; on a socket a recvmsg that keeps the descriptors it
 * meets for their frame; > 0, 0 at EOF, or -errno.
 */
static ssize_t fd_read(ipck_chan *ch, void *buf, size_t n, bool block)
{
	if (!ch->is_sock) {
		int e = pipe_mode(ch, block);
		if (e)
			return e;
	}
	for (;;) {
		int fl = block ? 0 : MSG_DONTWAIT;
		ssize_t r = !ch->is_sock ? read(ch->fd, buf, n)
			  : fds_may_come(ch) ? ipck__stream_read(ch, buf, n, fl)
			  : plain_recv(ch, buf, n, fl);
		if (r < 0 && !ch->is_sock)
			r = -errno;
		if (r != -EINTR)
			return r;
		if (ch->is_sock)
			return -EAGAIN;   /* maybe a timed wait: rx_wait goes on with the time left */
	}
}

static size_t rx_avail(const struct rxbuf *rx)
{
	return rx->end - rx->start;
}

/* A whole message (or a bad header, which does not block either) is buffered. */
static bool rx_complete(const ipck_chan *ch)
{
	const struct rxbuf *rx = &ch->rx;
	size_t a = rx_avail(rx);
	uint32_t l;
	if (rx->have_hdr)
		return a >= rx->hdr_len;
	if (a < 4)
		return false;
	memcpy(&l, rx->buf + rx->start, 4);
	l = le32toh(l);
	return l > ch->max_msg || a - 4 >= l;
}

/* Read what the descriptor has into the buffer: > 0, 0 at EOF, or -errno. */
static ssize_t rx_fill(ipck_chan *ch, bool block)
{
	struct rxbuf *rx = &ch->rx;
	if (rx->start == rx->end) {
		rx->start = rx->end = 0;
	} else if (rx->end == rx->cap) {
		memmove(rx->buf, rx->buf + rx->start, rx_avail(rx));
		rx->end -= rx->start;
		rx->start = 0;
	}
	ssize_t n = fd_read(ch, rx->buf + rx->end, rx->cap - rx->end, block);
	if (n > 0)
		rx->end += (size_t)n;
	return n;
}

/* Keep the first got bytes of a len-byte message for the next call. */
static int rx_keep(ipck_chan *ch, const void *part, size_t got, size_t len)
{
	struct rxbuf *rx = &ch->rx;
	if (rx->cap < len) {
		unsigned char *b = realloc(rx->buf, len);
		if (!b)
			return -ENOMEM;
		rx->buf = b;
		rx->cap = len;
	}
	memcpy(rx->buf, part, got);
	rx->start = 0;
	rx->end = got;
	return 0;
}

/* EAGAIN handling shared by the receive loops: 0 to try again, or the error. */
static int rx_wait(ipck_chan *ch, deadline_t dl, bool *gone)
{
	if (*gone)
		return io_err(ch, -EPIPE);
	int r = ipck__wait_fd(ch, ch->fd, POLLIN, dl);
	if (r == -EPIPE) {   /* the peer exited: read what it left, then fail */
		*gone = true;
		return 0;
	}
	return r;
}

/* A message larger than the buffer goes straight into the caller's buffer. */
static ssize_t stream_recv_big(ipck_chan *ch, unsigned char *buf, size_t len, deadline_t dl,
			       struct fdwant *w)
{
	struct rxbuf *rx = &ch->rx;
	size_t got = rx_avail(rx);
	bool gone = false;
	int e;

	memcpy(buf, rx->buf + rx->start, got);
	rx->start = rx->end = 0;
	while (got < len) {
		ssize_t n = fd_read(ch, buf + got, len - got, may_block(ch, dl, gone));
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		e = n == 0 ? -EPIPE : (int)n;
		if (e == -EAGAIN && !(e = rx_wait(ch, dl, &gone)))
			continue;
		int k = rx_keep(ch, buf, got, len);
		if (k)
			return ch->err = k;
		return io_err(ch, e);
	}
	rx->have_hdr = false;
	e = ipck__fds_take(ch, w);
	return e ? e : (ssize_t)len;
}

/*
 * rx_fill for stream_recv.  A read that may not block (a pipe or FIFO with a
 * deadline: no kernel timeout on a pipe) waits in poll first when the last
 * receive had to wait: in a request-reply exchange the answer is never there
 * yet, and poll-then-read saves the read that would say EAGAIN.  *waited:
 * this call has waited (or will, on -EAGAIN), so its next read goes straight
 * in.
 */
static ssize_t rx_fill_waiting(ipck_chan *ch, deadline_t dl, bool *gone, bool *waited)
{
	bool block = may_block(ch, dl, *gone);
	if (!block && ch->rd_dry && !*waited && !*gone) {
		*waited = true;
		int r = rx_wait(ch, dl, gone);
		if (r)
			return r;
	}
	ssize_t n = rx_fill(ch, block);
	if (n == -EAGAIN)
		*waited = true;
	else if (n > 0)
		ch->rd_dry = *waited;
	return n;
}

static ssize_t stream_recv(ipck_chan *ch, void *buf, size_t cap, deadline_t dl,
			   struct fdwant *w)
{
	struct rxbuf *rx = &ch->rx;
	bool gone = false, waited = false;
	for (;;) {
		if (!rx->have_hdr && rx_avail(rx) >= 4) {
			uint32_t l;
			memcpy(&l, rx->buf + rx->start, 4);
			l = le32toh(l);
			if (l > ch->max_msg)
				return ch->err = -EPROTO;   /* never allocate for a liar */
			ipck__fds_claim(ch, rx_avail(rx), 4 + (size_t)l);
			rx->start += 4;
			rx->have_hdr = true;
			rx->hdr_len = l;
		}
		if (rx->have_hdr) {
			size_t len = rx->hdr_len;
			if (len > cap || ipck__fds_fit(ch, w)) {
				ch->next_size = (ssize_t)len;
				return -EMSGSIZE;
			}
			if (rx_avail(rx) >= len) {
				memcpy(buf, rx->buf + rx->start, len);
				rx->start += len;
				rx->have_hdr = false;
				int e = ipck__fds_take(ch, w);
				return e ? e : (ssize_t)len;
			}
			if (len > rx->cap)
				return stream_recv_big(ch, buf, len, dl, w);
		}
		ssize_t n = rx_fill_waiting(ch, dl, &gone, &waited);
		if (n > 0)
			continue;
		if (n == 0)   /* EOF; a torn last frame is dropped, never delivered */
			return io_err(ch, -EPIPE);
		if (n != -EAGAIN)
			return io_err(ch, (int)n);
		int r = rx_wait(ch, dl, &gone);
		if (r)
			return r;
	}
}

static ssize_t held_take(ipck_chan *ch, void *buf, size_t cap, struct fdwant *w);
static ssize_t held_keep(ipck_chan *ch, const void *buf, size_t cap, size_t len);

/* One read of a raw stream; on a socket, with the descriptors that came. */
static ssize_t raw_read(ipck_chan *ch, void *buf, size_t cap, bool block, struct fdbatch *b)
{
	struct iovec iov = {buf, cap};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	*b = (struct fdbatch){0};
	for (;;) {
		int fl = block ? 0 : MSG_DONTWAIT;
		ssize_t n = !ch->is_sock ? read(ch->fd, buf, cap)
			  : fds_may_come(ch) ? ipck__recvmsg_fds(ch->fd, &m, fl, b)
			  : plain_recv(ch, buf, cap, fl);
		if (n < 0 && !ch->is_sock)
			n = -errno;
		if (n != -EINTR)
			return n;
		if (ch->is_sock)
			return -EAGAIN;   /* as in fd_read */
	}
}

/* A record (or raw read) of n bytes in buf came with b: deliver or hold it. */
static ssize_t rec_deliver(ipck_chan *ch, void *buf, size_t cap, size_t n, struct fdbatch *b,
			   struct fdwant *w)
{
	if (!w)
		ipck__fdbatch_close(b);   /* ipck_recv closes them, held or not (as rec_recv_flat) */
	int e = ipck__fds_set(ch, b);
	if (e)
		return e;
	if (n > cap)
		return held_keep(ch, buf, cap, n);
	if (ipck__fds_fit(ch, w))   /* too many descriptors: hold it all */
		return held_keep(ch, buf, n, n);
	e = ipck__fds_take(ch, w);
	return e ? e : (ssize_t)n;
}

/* Raw stream: whatever bytes are there, up to cap, as one message. */
static ssize_t raw_stream_recv(ipck_chan *ch, void *buf, size_t cap, deadline_t dl,
			       struct fdwant *w)
{
	bool gone = false;
	if (ch->held.buf)
		return held_take(ch, buf, cap, w);
	for (;;) {
		struct fdbatch b;
		ssize_t n = raw_read(ch, buf, cap, may_block(ch, dl, gone), &b);
		if (n > 0 || (n == 0 && cap == 0))
			return rec_deliver(ch, buf, cap, (size_t)n, &b, w);
		ipck__fdbatch_close(&b);
		if (n == 0)
			return io_err(ch, -EPIPE);
		if (n != -EAGAIN)
			return io_err(ch, (int)n);
		int r = rx_wait(ch, dl, &gone);
		if (r)
			return r;
	}
}

static size_t hdr_size(enum frame_kind fk)
{
	return fk == FRAME_SEQPACKET ? 1 : fk == FRAME_DGRAM ? sizeof(struct dgram_hdr) : 0;
}

/* Deliver the held record, or -EMSGSIZE while it (or its descriptors) does not fit. */
static ssize_t held_take(ipck_chan *ch, void *buf, size_t cap, struct fdwant *w)
{
	struct held *h = &ch->held;
	if (h->len > cap || ipck__fds_fit(ch, w)) {
		ch->next_size = (ssize_t)h->len;
		return -EMSGSIZE;
	}
	size_t n = h->len;
	memcpy(buf, h->buf, n);
	free(h->buf);
	h->buf = NULL;
	h->len = 0;
	int e = ipck__fds_take(ch, w);
	return e ? e : (ssize_t)n;
}

/* A record of len bytes overflowed cap into the spill buffer: hold it. */
static ssize_t held_keep(ipck_chan *ch, const void *buf, size_t cap, size_t len)
{
	unsigned char *b = malloc(len);
	if (!b)
		return ch->err = -ENOMEM;
	memcpy(b, buf, cap);
	if (len > cap)
		memcpy(b + cap, ch->held.spill, len - cap);
	ch->held.buf = b;
	ch->held.len = len;
	ch->next_size = (ssize_t)len;
	return -EMSGSIZE;
}

/* What a received record means: its length, -EAGAIN to skip it, or an error. */
static ssize_t rec_check(ipck_chan *ch, const struct dgram_hdr *h, ssize_t n, int mflags)
{
	size_t hl = hdr_size(ch->frame);
	bool cut = mflags & MSG_TRUNC;   /* data larger than max_msg: not one of ours */
	if (!hl)
		return cut ? (ch->err = -EPROTO) : n;
	if (n == 0 && ch->frame == FRAME_SEQPACKET)
		return io_err(ch, -EPIPE);   /* end of the connection */
	if ((size_t)n < hl)
		return ch->err = -EPROTO;
	uint8_t tag = ch->frame == FRAME_SEQPACKET ? *(const uint8_t *)h : h->tag;
	if (tag == TAG_BYE)
		return io_err(ch, -EPIPE);
	if (tag != TAG_DATA)   /* a control datagram (a resent WELCOME): cut or not, skip it */
		return ch->frame == FRAME_DGRAM ? -EAGAIN : (ch->err = -EPROTO);
	if (cut)
		return ch->err = -EPROTO;
	if (ch->frame == FRAME_DGRAM) {
		uint32_t seq = le32toh(h->seq);
		if ((int32_t)(seq - ch->rx_seq) < 0)
			return -EAGAIN;                    /* a duplicate */
		ch->st.dropped += seq - ch->rx_seq;
		ch->rx_seq = seq + 1;
	}
	return n - (ssize_t)hl;
}

static int spill_get(ipck_chan *ch)
{
	if (!ch->held.spill)
		ch->held.spill = malloc(ch->max_msg + sizeof(struct dgram_hdr));
	return ch->held.spill ? 0 : -ENOMEM;
}

/*
 * One read of a record: its payload length (delivered, or held: -EMSGSIZE),
 * -EAGAIN / -EINTR when nothing came (the caller waits), or an error.
 * *skip: a record that is not a message (rec_check), read the next.
 */
typedef ssize_t rec_read_fn(ipck_chan *ch, void *buf, size_t cap, int flags,
			    struct fdwant *w, bool *skip);

/*
 * A record into a small buffer, when no descriptor can be wanted: recv(2)
 * of the whole record into the spill buffer, then a copy of the payload
 * (at most FLAT_MAX bytes, or a held record).  recvmsg costs more than the
 * copy.  Descriptors sent to a caller of ipck_recv (w NULL) are dropped by
 * the kernel here, never installed: as closed as the contract says.
 */
static ssize_t rec_read_flat(ipck_chan *ch, void *buf, size_t cap, int flags,
			     struct fdwant *w, bool *skip)
{
	size_t hl = hdr_size(ch->frame), room = ch->max_msg + hl;
	struct dgram_hdr h = {0};
	(void)w;
	ssize_t n = plain_recv(ch, ch->held.spill, room, flags | MSG_TRUNC);
	if (n < 0)
		return n == -EAGAIN || n == -EINTR ? n : io_err(ch, (int)n);
	memcpy(&h, ch->held.spill, (size_t)n < hl ? (size_t)n : hl);
	bool cut = (size_t)n > room;
	n = rec_check(ch, &h, cut ? (ssize_t)room : n, cut ? MSG_TRUNC : 0);
	*skip = n == -EAGAIN;
	if (n < 0)
		return n;
	if ((size_t)n > cap)
		return held_keep(ch, ch->held.spill + hl, (size_t)n, (size_t)n);
	if (n)   /* an empty message may come with no buffer */
		memcpy(buf, ch->held.spill + hl, (size_t)n);
	return n;
}

/* A record straight into the caller's buffer, its overflow into the spill buffer. */
static ssize_t rec_read_iov(ipck_chan *ch, void *buf, size_t cap, int flags,
			    struct fdwant *w, bool *skip)
{
	struct dgram_hdr h;
	size_t hl = hdr_size(ch->frame);
	bool spill = cap < ch->max_msg;
	struct iovec iov[3] = {{&h, hl}, {buf, cap}, {ch->held.spill, ch->max_msg - cap}};
	struct msghdr m = {.msg_iov = hl ? iov : iov + 1, .msg_iovlen = (hl ? 1u : 0u) + 1u + spill};
	struct fdbatch b;
	ssize_t n = ipck__recvmsg_fds(ch->fd, &m, flags, &b);
	if (n < 0)
		return n == -EAGAIN || n == -EINTR ? n : io_err(ch, (int)n);
	n = rec_check(ch, &h, n, m.msg_flags);
	if (n >= 0)
		return rec_deliver(ch, buf, cap, (size_t)n, &b, w);
	ipck__fdbatch_close(&b);
	*skip = n == -EAGAIN;
	return n;
}

static ssize_t rec_recv(ipck_chan *ch, void *buf, size_t cap, deadline_t dl, struct fdwant *w)
{
	bool flat = cap <= FLAT_MAX && (!w || !fds_may_come(ch)), gone = false;
	rec_read_fn *rd = flat ? rec_read_flat : rec_read_iov;
	if (ch->held.buf)
		return held_take(ch, buf, cap, w);
	if (ch->eof)
		return -EPIPE;
	if (cap > ch->max_msg)
		cap = ch->max_msg;   /* a larger record is cut (MSG_TRUNC): not one of ours */
	if ((flat || cap < ch->max_msg) && spill_get(ch))
		return -ENOMEM;
	for (;;) {
		bool skip = false;
		ssize_t n = rd(ch, buf, cap, may_block(ch, dl, gone) ? 0 : MSG_DONTWAIT, w, &skip);
		if (skip)
			continue;
		if (n != -EAGAIN && n != -EINTR)   /* EINTR: as in fd_read */
			return n;
		int r = rx_wait(ch, dl, &gone);
		if (r)
			return r;
	}
}

/* Would a receive return without the descriptor: a buffered message, or the end? */
static bool rx_ready(const ipck_chan *ch)
{
	if (ch->frame == FRAME_STREAM)
		return rx_complete(ch);
	return ch->held.buf != NULL || ch->eof;   /* rec_recv answers these at once */
}

ssize_t ipck__fd_recv_fds(ipck_chan *ch, void *buf, size_t cap, struct fdwant *w,
			  int timeout_ms)
{
	deadline_t dl = ipck__deadline(timeout_ms);
	ssize_t n;
	if (w)
		*w->n = 0;
	if (ch->frame == FRAME_STREAM)
		n = stream_recv(ch, buf, cap, dl, w);
	else if (ch->frame == FRAME_NONE && ch->is_bytes)
		n = raw_stream_recv(ch, buf, cap, dl, w);
	else
		n = rec_recv(ch, buf, cap, dl, w);
	ipck__poll_mark(ch, rx_ready(ch));
	return n;
}

ssize_t ipck__fd_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms)
{
	return ipck__fd_recv_fds(ch, buf, cap, NULL, timeout_ms);
}

int ipck__fd_pollfd(const ipck_chan *cch)
{
	ipck_chan *ch = (ipck_chan *)cch;   /* the pollset is made on demand */
	if (ch->role == ROLE_LISTENER)
		return ch->fd;
	int r = ipck__pollset(ch, ch->fd);
	if (r >= 0)
		ipck__poll_mark(ch, rx_ready(ch));
	return r;
}

int ipck__fd_close(ipck_chan *ch)
{
	int r = 0;
	if (ch->tx.buf) {
		r = tx_flush(ch, ipck__deadline(1000));
		free(ch->tx.buf);
	}
	if (!ch->eof && ch->wfd >= 0)
		ipck__fd_bye(ch);
	free(ch->rx.buf);
	free(ch->held.buf);
	free(ch->held.spill);
	ipck__fds_free(ch);
	int r1 = ipck__close_fd(ch->fd);
	int r2 = ch->wfd != ch->fd ? ipck__close_fd(ch->wfd) : 0;
	ch->fd = ch->wfd = -1;
	return r ? r : r1 ? r1 : r2;
}
