/*
 * shm.c - shared memory segments: POSIX (shm_open), System V (shmget) and
 * mapped files, created exclusively with the mode asked for (umask does not
 * apply: an fchmod follows), opened only after a size and owner check, and
 * removed only when the name still means the object this process made.
 * The public ipck_shm_* functions are the bottom of this file.
 *
 * Traps: a POSIX or file segment can be truncated by anyone who can write
 * it, and touching a page beyond the end then raises SIGBUS: the size is
 * checked with fstat before mapping, and unnamed segments (memfd) are
 * sealed.  A System V segment removed with IPC_RMID lives on until its last
 * detach, so a ring marks its connection segment removed as soon as both
 * sides are attached.
 */
#include "shm.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

void ipck__shm_init(struct ipck_shm *s)
{
	memset(s, 0, sizeof(*s));
	s->fd = s->id = -1;
	s->key = IPC_PRIVATE;
}

static int parse_long(const char *a, long long lo, long long hi, long long *out)
{
	char *end;
	if (!*a || *a == '-' || *a == '+' || *a == ' ')
		return -EINVAL;
	errno = 0;
	long long v = strtoll(a, &end, 0);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int posix_name_ok(const char *a)
{
	size_t n = strlen(a);
	return a[0] == '/' && n >= 2 && n <= NAME_MAX && !strchr(a + 1, '/');
}

int ipck__shm_url(const struct ipck_url *u, struct ipck_shm *s)
{
	const char *sc = u->sc->info.name, *a = u->addr;
	long long v;

	ipck__shm_init(s);
	if (!strcmp(sc, "pshm")) {
		if (!posix_name_ok(a))
			return -EINVAL;
		s->kind = SHM_POSIX;
	} else if (!strcmp(sc, "mmap")) {
		if (!*a)
			return -EINVAL;
		s->kind = SHM_FILE;
	} else if (!strcmp(sc, "svshm")) {
		s->kind = SHM_SYSV;
		if (!strncmp(a, "id=", 3)) {
			if (parse_long(a + 3, 0, INT32_MAX, &v))
				return -EINVAL;
			s->id = (int)v;
		} else {
			/* A key is any non-zero 32-bit value: 0x7e001200 or -1. */
			if (parse_long(a, 1, UINT32_MAX, &v))
				return -EINVAL;
			s->key = (key_t)(uint32_t)v;
		}
		return 0;
	} else {
		return -EINVAL;
	}
	if (strlen(a) >= sizeof(s->name))
		return -EINVAL;
	strcpy(s->name, a);
	return 0;
}

static int fd_stat(struct ipck_shm *s)
{
	struct stat st;
	if (fstat(s->fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	s->size = (size_t)st.st_size;
	s->uid = st.st_uid;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
}

int ipck__shm_adopt_fd(struct ipck_shm *s, int fd)
{
	s->fd = fd;
	return fd_stat(s);
}

static int fd_create(struct ipck_shm *s, size_t size, unsigned mode)
{
	int fl = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = s->kind == SHM_POSIX ? shm_open(s->name, fl, mode & 0777)
				      : open(s->name, fl, mode & 0777);
	if (fd < 0)
		return errno == EEXIST ? -EADDRINUSE : -errno;
	s->fd = fd;
	s->created = true;
	int r = fchmod(fd, mode & 07777) < 0 ? -errno : 0;
	if (!r && ftruncate(fd, (off_t)size) < 0)
		r = -errno;
	if (!r)
		r = fd_stat(s);
	if (r) {
		s->kind == SHM_POSIX ? shm_unlink(s->name) : unlink(s->name);
		close(fd);
		s->fd = -1;
	}
	return r;
}

static int sysv_stat(struct ipck_shm *s)
{
	struct shmid_ds ds;
	if (shmctl(s->id, IPC_STAT, &ds) < 0)
		return errno == EINVAL || errno == EIDRM ? -ENOENT : -errno;
	s->size = ds.shm_segsz;
	s->uid = ds.shm_perm.uid;
	s->cpid = ds.shm_cpid;
	s->key = ds.shm_perm.__key;
	return 0;
}

int ipck__shm_create(struct ipck_shm *s, size_t size, unsigned mode)
{
	if (!size)
		return -EINVAL;
	if (s->kind == SHM_POSIX || s->kind == SHM_FILE)
		return fd_create(s, size, mode);
	if (s->kind == SHM_MEMFD) {
		int fd = memfd_create("ipckit", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd < 0)
			return -errno;
		s->fd = fd;
		s->created = true;
		int r = ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
		if (!r && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
			r = -errno;
		if (!r)
			r = fd_stat(s);
		if (r) {
			close(fd);
			s->fd = -1;
		}
		return r;
	}
	if (s->id >= 0)
		return -EINVAL;   /* "svshm:id=N" names an existing segment */
	int id = shmget(s->key, size, IPC_CREAT | IPC_EXCL | (int)(mode & 0777));
	if (id < 0)
		return errno == EEXIST ? -EADDRINUSE : -errno;
	s->id = id;
	s->created = true;
	return sysv_stat(s);
}

int ipck__shm_open(struct ipck_shm *s)
{
	if (s->kind == SHM_SYSV) {
		if (s->id < 0) {
			int id = shmget(s->key, 0, 0);
			if (id < 0)
				return errno == ENOENT ? -ENOENT : -errno;
			s->id = id;
		}
		return sysv_stat(s);
	}
	int fl = O_RDWR | O_NOFOLLOW | O_CLOEXEC;
	int fd = s->kind == SHM_POSIX ? shm_open(s->name, fl, 0) : open(s->name, fl);
	if (fd < 0)
		return errno == ELOOP ? -EACCES : -errno;
	s->fd = fd;
	int r = fd_stat(s);
	if (r) {
		close(fd);
		s->fd = -1;
	}
	return r;
}

int ipck__shm_map(struct ipck_shm *s)
{
	if (s->p)
		return 0;
	if (!s->size)
		return -EINVAL;
	if (s->kind == SHM_SYSV) {
		void *p = shmat(s->id, NULL, 0);
		if (p == (void *)-1)
			return errno == EINVAL || errno == EIDRM ? -ENOENT : -errno;
		s->p = p;
		return 0;
	}
	void *p = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	s->p = p;
	return 0;
}

int ipck__shm_close(struct ipck_shm *s)
{
	int r = 0;
	if (s->p && s->kind == SHM_SYSV && shmdt(s->p) < 0)
		r = -errno;
	else if (s->p && s->kind != SHM_SYSV && munmap(s->p, s->size) < 0)
		r = -errno;
	s->p = NULL;
	int r2 = ipck__close_fd(s->fd);
	s->fd = -1;
	return r ? r : r2;
}

/* The name still leads to the object we hold (not a newer one). */
static bool same_object(const struct ipck_shm *s)
{
	struct stat st;
	char path[PATH_MAX + 16];
	if (s->kind == SHM_POSIX)
		snprintf(path, sizeof(path), "/dev/shm%s", s->name);
	else
		snprintf(path, sizeof(path), "%s", s->name);
	return lstat(path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino;
}

int ipck__shm_remove(struct ipck_shm *s)
{
	if (s->kind == SHM_SYSV)
		return shmctl(s->id, IPC_RMID, NULL) < 0 && errno != EINVAL && errno != EIDRM ? -errno : 0;
	if (s->kind == SHM_MEMFD || !s->name[0] || !same_object(s))
		return 0;
	int r = s->kind == SHM_POSIX ? shm_unlink(s->name) : unlink(s->name);
	return r < 0 && errno != ENOENT ? -errno : 0;
}

int ipck__shm_unlink(const struct ipck_shm *s)
{
	if (s->kind == SHM_SYSV) {
		int id = s->id >= 0 ? s->id : shmget(s->key, 0, 0);
		if (id < 0 || shmctl(id, IPC_RMID, NULL) < 0)
			return errno == EINVAL || errno == EIDRM ? -ENOENT : -errno;
		return 0;
	}
	int r = s->kind == SHM_POSIX ? shm_unlink(s->name) : unlink(s->name);
	return r < 0 ? -errno : 0;
}

/* ---- public primitives ---------------------------------------------------- */

static int shm_new(ipck_shm **out, const char *url, struct ipck_url *u)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	int r = ipck__url_parse(url, u);
	if (r)
		return r;
	if (u->set & ~(unsigned)(OPT_MODE | OPT_PEER_UID))
		return -EINVAL;
	ipck_shm *s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	r = ipck__shm_url(u, s);
	if (r) {
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

IPCK_API int ipck_shm_create(ipck_shm **out, const char *url, size_t size)
{
	struct ipck_url u;
	int r = shm_new(out, url, &u);
	if (r)
		return r;
	r = ipck__shm_create(*out, size, u.mode);
	if (r) {
		free(*out);
		*out = NULL;
	}
	return r;
}

IPCK_API int ipck_shm_open(ipck_shm **out, const char *url)
{
	struct ipck_url u;
	int r = shm_new(out, url, &u);
	if (r)
		return r;
	r = ipck__shm_open(*out);
	if (!r)
		r = ipck__check_owner(&u, (*out)->uid);
	if (r) {
		ipck__shm_close(*out);
		free(*out);
		*out = NULL;
	}
	return r;
}

IPCK_API int ipck_shm_map(ipck_shm *s, void **ptr)
{
	if (!s || !ptr)
		return -EINVAL;
	int r = ipck__shm_map(s);
	*ptr = r ? NULL : s->p;
	return r;
}

IPCK_API ssize_t ipck_shm_size(const ipck_shm *s)
{
	return s ? (ssize_t)s->size : -EINVAL;
}

IPCK_API int ipck_shm_close(ipck_shm *s)
{
	if (!s)
		return 0;
	int r = ipck__shm_close(s);
	free(s);
	return r;
}

IPCK_API int ipck_shm_unlink(const char *url)
{
	ipck_shm *s;
	struct ipck_url u;
	int r = shm_new(&s, url, &u);
	if (r)
		return r;
	r = ipck__shm_unlink(s);
	free(s);
	return r;
}
