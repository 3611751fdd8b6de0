/*
 * flog.c - append-only logs of checksummed records, for "file:".
 *
 * A log is a 64-byte head (magic, version, the reader's saved position) and
 * records: struct frec, then the payload.  Records are only ever appended,
 * each by one pwritev under a write lock on the log's first byte; nothing
 * is rewritten but the saved position.  A writer killed mid-record leaves a
 * prefix of it: its length runs past the end of the file, or its checksum
 * fails, so the reader never delivers it, and the next writer to attach
 * (flog_writer) cuts it off before appending.
 *
 * Locks are fcntl record locks: open file description (OFD) locks where the
 * file system has them, so that two channels of one process do not share
 * them, and classic POSIX locks otherwise (closing any descriptor of the
 * file then drops every lock the process holds on it).  Over NFS they go
 * through the lock manager, and taking one revalidates the client's cache.
 */
#include "flog.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- locks ----------------------------------------------------------------- */

static int flk_try(int fd, bool *classic, short type, off_t at)
{
	struct flock l = {.l_type = type, .l_whence = SEEK_SET, .l_start = at, .l_len = 1};
	if (!*classic) {
		if (fcntl(fd, F_OFD_SETLK, &l) == 0)
			return 0;
		if (errno != EINVAL)
			return errno == EACCES ? -EAGAIN : -errno;
		*classic = true;   /* no OFD locks on this file system */
	}
	if (fcntl(fd, F_SETLK, &l) == 0)
		return 0;
	return errno == EACCES ? -EAGAIN : -errno;
}

/* Try and back off rather than F_SETLKW, which has no timeout. */
int ipck__flk_lock(int fd, bool *classic, short type, off_t at, deadline_t dl)
{
	for (unsigned i = 0;; i++) {
		int r = flk_try(fd, classic, type, at);
		if (r != -EAGAIN && r != -EINTR)
			return r;
		if (dl >= 0 && ipck__now_ns() >= dl)
			return -ETIMEDOUT;
		ipck__backoff(i, dl);
	}
}

void ipck__flk_unlock(int fd, bool classic, off_t at)
{
	struct flock l = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = at, .l_len = 1};
	fcntl(fd, classic ? F_SETLK : F_OFD_SETLK, &l);   /* cannot fail on a held lock */
}

int ipck__flk_held(int fd, bool classic, off_t at, off_t len)
{
	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = at, .l_len = len};
	if (fcntl(fd, classic ? F_GETLK : F_OFD_GETLK, &l) < 0)
		return -errno;
	return l.l_type != F_UNLCK;
}

/* ---- the head -------------------------------------------------------------- */

int ipck__flog_pread(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EAGAIN;   /* not there (yet) */
		got += (size_t)r;
	}
	return 0;
}

int ipck__flog_pwrite(int fd, const void *buf, size_t n, uint64_t off)
{
	struct iovec iov = {(void *)buf, n};
	while (iov.iov_len) {
		ssize_t r = pwritev(fd, &iov, 1, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		iov.iov_base = (char *)iov.iov_base + r;
		iov.iov_len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int ipck__flog_init(int fd)
{
	struct flog_hdr h = {.magic = htole32(FLOG_MAGIC), .version = htole32(FLOG_VERSION),
			     .saved_off = htole64(FLOG_START)};
	return ipck__flog_pwrite(fd, &h, sizeof(h), 0);
}

static int head_read(int fd, struct flog_hdr *h)
{
	int r = ipck__flog_pread(fd, h, sizeof(*h), 0);
	if (r)
		return r == -EAGAIN ? -EPROTO : r;
	if (le32toh(h->magic) != FLOG_MAGIC || le32toh(h->version) != FLOG_VERSION)
		return -EPROTO;
	h->saved_off = le64toh(h->saved_off);
	h->saved_seq = le64toh(h->saved_seq);
	return h->saved_off < FLOG_START ? -EPROTO : 0;
}

int ipck__flog_check(int fd)
{
	struct flog_hdr h;
	return head_read(fd, &h);
}

int ipck__flog_reader(struct flog *lg, bool from_start)
{
	struct flog_hdr h;
	struct stat st;
	int r = head_read(lg->fd, &h);
	if (r)
		return r;
	if (fstat(lg->fd, &st) < 0)
		return -errno;
	if (h.saved_off > (uint64_t)st.st_size)
		return -EPROTO;   /* a position past the end: never write there */
	lg->off = from_start ? FLOG_START : h.saved_off;
	lg->seq = from_start ? 0 : h.saved_seq;
	return 0;
}

/* ---- records --------------------------------------------------------------- */

static uint32_t rec_crc(const struct frec *le_head, const void *payload, size_t len)
{
	struct frec h = *le_head;
	h.crc = 0;
	return ipck__crc32c(ipck__crc32c(0, &h, sizeof(h)), payload, len);
}

ssize_t ipck__flog_read(struct flog *lg, void *buf, size_t cap, struct frec *h)
{
	struct frec le;
	unsigned char last;
	int r = ipck__flog_pread(lg->fd, &le, sizeof(le), lg->off);
	if (r)
		return r;
	h->magic = le32toh(le.magic);
	h->len = le32toh(le.len);
	h->seq = le64toh(le.seq);
	h->gen = le64toh(le.gen);
	h->tag = le32toh(le.tag);
	h->crc = le32toh(le.crc);
	if (h->magic != FREC_MAGIC || h->len > IPCK_STREAM_MAX)
		return -EAGAIN;   /* not a record (a torn or stale tail) */
	if (h->len > cap) {   /* only for a record that is all there */
		r = ipck__flog_pread(lg->fd, &last, 1, lg->off + sizeof(le) + h->len - 1);
		return r ? r : -EMSGSIZE;
	}
	r = ipck__flog_pread(lg->fd, buf, h->len, lg->off + sizeof(le));
	if (r)
		return r;
	if (rec_crc(&le, buf, h->len) != h->crc)
		return -EAGAIN;   /* torn: never delivered */
	return h->seq == lg->seq ? (ssize_t)h->len : -EPROTO;
}

void ipck__flog_consume(struct flog *lg, const struct frec *h)
{
	lg->off += sizeof(struct frec) + h->len;
	lg->seq++;
	uint64_t saved[2] = {htole64(lg->off), htole64(lg->seq)};
	ipck__flog_pwrite(lg->fd, saved, sizeof(saved), offsetof(struct flog_hdr, saved_off));
	/* best effort: a lost save replays records, it never skips one */
}

ssize_t ipck__flog_append(struct flog *lg, uint32_t tag, uint64_t gen, const void *msg, size_t len)
{
	struct frec h = {.magic = htole32(FREC_MAGIC), .len = htole32((uint32_t)len),
			 .seq = htole64(lg->seq), .gen = htole64(gen), .tag = htole32(tag)};
	h.crc = htole32(rec_crc(&h, msg, len));
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)msg, len}}, *v = iov;
	int cnt = 2;
	uint64_t off = lg->off;
	while (cnt) {
		ssize_t n = pwritev(lg->fd, v, cnt, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {   /* ENOSPC, EFBIG...: take back what was written */
			int e = -errno;
			while (ftruncate(lg->fd, (off_t)lg->off) < 0 && errno == EINTR)
				;
			return e;
		}
		off += (uint64_t)n;
		size_t k = (size_t)n;
		while (cnt && k >= v->iov_len) {   /* a short write: go on after it */
			k -= v->iov_len;
			v++;
			cnt--;
		}
		if (cnt) {
			v->iov_base = (char *)v->iov_base + k;
			v->iov_len -= k;
		}
	}
	lg->off = off;
	lg->seq++;
	return (ssize_t)len;
}

/* Is the record at lg->off whole and valid?  Its length with the head, or 0. */
static size_t rec_valid(struct flog *lg, unsigned char **scratch, size_t *scap)
{
	struct frec le;
	if (ipck__flog_pread(lg->fd, &le, sizeof(le), lg->off))
		return 0;
	uint32_t len = le32toh(le.len);
	if (le32toh(le.magic) != FREC_MAGIC || len > IPCK_STREAM_MAX || le64toh(le.seq) != lg->seq)
		return 0;
	if (len > *scap) {
		unsigned char *b = realloc(*scratch, len);
		if (!b)
			return 0;
		*scratch = b;
		*scap = len;
	}
	if (ipck__flog_pread(lg->fd, *scratch, len, lg->off + sizeof(le)))
		return 0;
	return rec_crc(&le, *scratch, len) == le32toh(le.crc) ? sizeof(le) + len : 0;
}

int ipck__flog_writer(struct flog *lg)
{
	unsigned char *scratch = NULL;
	size_t scap = 0, n;
	struct stat st;
	int r = ipck__flog_reader(lg, false);   /* records before the saved one are valid */
	if (r)
		return r;
	while ((n = rec_valid(lg, &scratch, &scap))) {
		lg->off += n;
		lg->seq++;
	}
	free(scratch);
	if (fstat(lg->fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size > lg->off && ftruncate(lg->fd, (off_t)lg->off) < 0)
		return -errno;   /* the torn tail of a writer that died */
	return 0;
}
