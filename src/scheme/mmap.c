/*
 * mmap.c - "mmap:/path": a ring in a regular file mapped MAP_SHARED, futex
 * waits.  The listener creates the file (0600, O_EXCL, O_NOFOLLOW) as its
 * rendezvous object and removes it on close; each connection's ring is an
 * unnamed file in the same directory (O_TMPFILE; where the file system
 * lacks it, a "path.<nonce>" file unlinked at once), passed over the
 * rendezvous socket.  The data never needs to reach the disk: msync is
 * never called, and the pages stay in the page cache.
 * Trap: a file can be truncated under the mapping (SIGBUS); sizes are
 * checked with fstat first.  On a network file system futexes and
 * MAP_SHARED coherence across machines do not hold: use a local one.
 */
#include "../ring.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int tmpfile_in(const char *path, unsigned mode)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	int fd = open(dirname(dir), O_TMPFILE | O_RDWR | O_CLOEXEC, mode & 0777);
	return fd < 0 ? -errno : fd;
}

int ipck__mmap_seg(struct ipck_shm *s, const struct ipck_url *u, size_t size, uint64_t nonce)
{
	ipck__shm_init(s);
	s->kind = SHM_FILE;
	int fd = tmpfile_in(u->addr, u->mode);
	if (fd == -EOPNOTSUPP || fd == -EISDIR) {
		int n = snprintf(s->name, sizeof(s->name), "%.4000s.%016llx", u->addr,
				 (unsigned long long)nonce);
		int e = n >= (int)sizeof(s->name) ? -ENAMETOOLONG : ipck__shm_create(s, size, u->mode);
		if (!e)
			e = ipck__shm_unlink(s);
		s->name[0] = '\0';
		if (e)
			ipck__shm_close(s);
		return e;
	}
	if (fd < 0)
		return fd;
	int e = fchmod(fd, u->mode & 07777) < 0 || ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
	if (!e)
		e = ipck__shm_adopt_fd(s, fd);
	if (e)
		close(fd);
	s->fd = e ? -1 : fd;
	s->created = true;
	return e;
}

const struct ipck_scheme ipck__scheme_mmap = {
	.info = {"mmap", "a ring in a regular file mapped MAP_SHARED, futex waits (zero-copy)",
		 IPCK_CAP_NAMED},
	.parse = ipck__ringconn_parse,
	RING_SLOTS,
};
