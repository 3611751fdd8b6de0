/*
 * fdpass.c - open descriptors carried with messages (SCM_RIGHTS) on Unix
 * socket channels: ipck_send_fds and ipck_recv_fds over fdio.c's framing.
 *
 * Sending attaches the descriptors to the first sendmsg of a message, the one
 * that carries its frame header.  Receiving asks for control data on every
 * stream read of a Unix socket channel (MSG_CMSG_CLOEXEC), so that no
 * descriptor is lost to read-ahead or silently dropped by a plain read; a
 * record read for ipck_recv (no descriptors wanted) may skip it (fdio.c).
 *
 * Records (seqpacket, datagram): descriptors come with their record.
 *
 * Byte streams: the kernel gives the descriptors of a sendmsg to the first
 * read that touches that sendmsg's first byte, and ends that read within the
 * same sendmsg (unix_stream_read_generic).  So the descriptors that came with
 * a read of stream bytes [lo, hi) belong to the last frame that begins in
 * [lo, hi): the frame at P with lo <= P < hi and P + frame length >= hi.
 * Read-ahead may hold several batches; they wait in a queue until their
 * frame's header is parsed (ipck__fds_claim).  Descriptors that belong to no
 * frame (a peer that attached them mid-frame) are closed.  Positions count
 * from the first batch; bytes read before it have negative positions.
 *
 * Trap: when the control buffer is too small, or our descriptor table is
 * full, the kernel drops descriptors and sets MSG_CTRUNC; the message is
 * then reported -EMFILE and whatever did arrive is closed.
 */
#include "internal.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Descriptors received and not yet delivered, per channel (ch->fdq). */
struct fdq {
	struct fdbatch *q;    /* stream batches waiting for their frame, oldest first */
	size_t nq, capq;
	struct fdbatch cur;   /* those of the message being received, or held */
	int64_t in;           /* stream bytes read since the queue was made */
};

/* Room for the most descriptors a message can carry, and credentials. */
union cmsg_room {
	char buf[CMSG_SPACE(IPCK_MAX_FDS * sizeof(int)) + CMSG_SPACE(32)];
	struct cmsghdr align;
};

bool ipck__fd_can_pass(const ipck_chan *ch)
{
	int dom = 0;
	socklen_t len = sizeof(dom);
	if (!ch->is_sock || ch->fd < 0)
		return false;
	return getsockopt(ch->fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) == 0 && dom == AF_UNIX;
}

void ipck__fdbatch_close(struct fdbatch *b)
{
	for (size_t i = 0; i < b->n; i++)
		close(b->fds[i]);
	free(b->fds);
	*b = (struct fdbatch){0};
}

ssize_t ipck__sendmsg_fds(int fd, struct iovec *iov, int cnt, const int *fds, size_t nfds)
{
	union cmsg_room c;
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
	if (nfds) {
		m.msg_control = c.buf;
		m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *h = CMSG_FIRSTHDR(&m);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(h), fds, nfds * sizeof(int));
	}
	ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	return n < 0 ? -errno : n;
}

/* Gather every SCM_RIGHTS descriptor of m into b; close them all on failure. */
static void cmsg_collect(struct msghdr *m, struct fdbatch *b)
{
	size_t total = 0;
	struct cmsghdr *h;
	for (h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR(m, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
			total += (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	b->lost = (m->msg_flags & MSG_CTRUNC) != 0;
	if (!total)
		return;
	b->fds = malloc(total * sizeof(int));
	for (h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR(m, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (b->fds)
				b->fds[b->n++] = fd;
			else
				close(fd);   /* no memory: not one of them may leak */
		}
	}
	if (!b->fds)
		b->lost = true;
}

ssize_t ipck__recvmsg_fds(int fd, struct msghdr *m, int flags, struct fdbatch *b)
{
	union cmsg_room c;
	*b = (struct fdbatch){0};
	m->msg_control = c.buf;
	m->msg_controllen = sizeof(c.buf);
	ssize_t n = recvmsg(fd, m, flags | MSG_CMSG_CLOEXEC);
	int e = errno;
	if (n >= 0)
		cmsg_collect(m, b);
	m->msg_control = NULL;
	m->msg_controllen = 0;
	return n < 0 ? -e : n;
}

static struct fdq *fdq_get(ipck_chan *ch)
{
	if (!ch->fdq)
		ch->fdq = calloc(1, sizeof(*ch->fdq));
	return ch->fdq;
}

/* Queue the batch of a stream read; without memory the channel fails. */
static void fdq_push(ipck_chan *ch, struct fdbatch *b)
{
	struct fdq *q = fdq_get(ch);
	if (q && q->nq == q->capq) {
		size_t cap = q->capq ? 2 * q->capq : 4;
		struct fdbatch *nb = realloc(q->q, cap * sizeof(*nb));
		if (nb) {
			q->q = nb;
			q->capq = cap;
		}
	}
	if (!q || q->nq == q->capq) {
		ipck__fdbatch_close(b);
		ch->err = -ENOMEM;
		return;
	}
	q->q[q->nq++] = *b;
}

ssize_t ipck__stream_read(ipck_chan *ch, void *p, size_t n, int flags)
{
	struct iovec iov = {p, n};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	struct fdbatch b;
	ssize_t r = ipck__recvmsg_fds(ch->fd, &m, flags, &b);
	if (r <= 0)
		return r;
	if (b.n || b.lost) {
		struct fdq *q = fdq_get(ch);
		int64_t at = q ? q->in : 0;
		b.lo = at;
		b.hi = at + r;
		fdq_push(ch, &b);
	}
	if (ch->fdq)
		ch->fdq->in += r;
	return r;
}

void ipck__fds_claim(ipck_chan *ch, size_t avail, size_t frame_len)
{
	struct fdq *q = ch->fdq;
	if (!q)
		return;
	int64_t p = q->in - (int64_t)avail;
	size_t drop = 0;
	while (drop < q->nq && q->q[drop].hi <= p)
		ipck__fdbatch_close(&q->q[drop++]);   /* orphans: no frame of theirs */
	if (drop < q->nq) {
		struct fdbatch *b = &q->q[drop];
		if (b->lo <= p && p < b->hi && p + (int64_t)frame_len >= b->hi) {
			ipck__fdbatch_close(&q->cur);   /* nothing there, normally */
			q->cur = *b;
			drop++;
		}
	}
	q->nq -= drop;
	memmove(q->q, q->q + drop, q->nq * sizeof(*q->q));
}

int ipck__fds_fit(ipck_chan *ch, struct fdwant *w)
{
	size_t n = ch->fdq ? ch->fdq->cur.n : 0;
	if (!w || n <= w->room)
		return 0;
	*w->n = n;
	return -EMSGSIZE;
}

/* Give b's descriptors to w, or close them when w is NULL: 0 or -EMFILE. */
static int batch_give(struct fdbatch *b, struct fdwant *w)
{
	if (w)
		*w->n = 0;
	if (!w || b->lost) {
		bool lost = w && b->lost;
		ipck__fdbatch_close(b);
		return lost ? -EMFILE : 0;
	}
	if (b->n)
		memcpy(w->fds, b->fds, b->n * sizeof(int));
	*w->n = b->n;
	free(b->fds);
	*b = (struct fdbatch){0};
	return 0;
}

int ipck__fds_take(ipck_chan *ch, struct fdwant *w)
{
	struct fdbatch none = {0};
	return batch_give(ch->fdq ? &ch->fdq->cur : &none, w);
}

int ipck__fds_set(ipck_chan *ch, struct fdbatch *b)
{
	if (!b->n && !b->lost)
		return 0;
	struct fdq *q = fdq_get(ch);
	if (!q) {
		ipck__fdbatch_close(b);
		return -ENOMEM;
	}
	ipck__fdbatch_close(&q->cur);   /* nothing there, normally */
	q->cur = *b;
	return 0;
}

void ipck__fds_free(ipck_chan *ch)
{
	struct fdq *q = ch->fdq;
	if (!q)
		return;
	for (size_t i = 0; i < q->nq; i++)
		ipck__fdbatch_close(&q->q[i]);
	ipck__fdbatch_close(&q->cur);
	free(q->q);
	free(q);
	ch->fdq = NULL;
}
