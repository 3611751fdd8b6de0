/*
 * inspect_posix.c - POSIX shared memory, named semaphores and message
 * queues.
 *
 * glibc keeps shared memory as /dev/shm/NAME and a named semaphore as
 * /dev/shm/sem.NAME (a mapped sem_t); their owner, mode, size and times are
 * the file's.  Queues live in the mqueue filesystem of the caller's IPC
 * namespace, which is visible only where it is mounted: /dev/mqueue is used
 * when mounted; otherwise a privileged caller gets a detached private mount
 * (fsopen + fsmount: nothing appears in any mount table and it goes away with
 * its descriptor), or, on kernels without fsmount, a forked child's private
 * mount namespace passes back a directory descriptor.  Without privilege
 * only the queues processes hold open are found, and opts->missing says so.
 *
 * Trap: read(2) on a queue file (its "QSIZE:" line) sets the queue's ctime,
 * so no ctime is reported for queues; mtime (last send or receive) stays
 * true.  Opening a queue file does not touch it.
 */
#include "inspect.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEVSHM "/dev/shm"

/* ---- the mqueue directory ----------------------------------------------- */

/* The first mqueue mount of /proc/self/mountinfo, opened; -ENOENT if none. */
static int mq_mounted(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	char *l = NULL, mnt[PATH_MAX];
	size_t cap = 0;
	int fd = -ENOENT;
	while (fd < 0 && getline(&l, &cap, f) > 0) {
		char *sep = strstr(l, " - mqueue ");
		if (!sep || sscanf(l, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
	}
	free(l);
	fclose(f);
	return fd;
}

#if defined(SYS_fsopen) && defined(SYS_fsmount) && defined(SYS_fsconfig)
/* A detached mount of the caller's mqueue fs (Linux 5.2+, CAP_SYS_ADMIN). */
static int mq_detached(void)
{
	int fs = (int)syscall(SYS_fsopen, "mqueue", 1 /* FSOPEN_CLOEXEC */);
	if (fs < 0)
		return -errno;
	int r = -EIO, mnt = -1;
	if (syscall(SYS_fsconfig, fs, 6 /* FSCONFIG_CMD_CREATE */, NULL, NULL, 0) < 0)
		r = -errno;
	else if ((mnt = (int)syscall(SYS_fsmount, fs, 1 /* FSMOUNT_CLOEXEC */, 0)) < 0)
		r = -errno;
	else if ((r = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = -errno;
	if (mnt >= 0)
		close(mnt);
	close(fs);
	return r;
}
#else
static int mq_detached(void)
{
	return -ENOSYS;
}
#endif

/*
 * The older way: a child makes its own private mount namespace, mounts the
 * mqueue fs over /tmp there (nobody else sees it) and sends the directory
 * descriptor back; the mount outlives the namespace as long as the
 * descriptor lives.  The child only makes system calls (fork-safe); the
 * caller may see its SIGCHLD.  Only kernels without fsmount (before 5.2)
 * come here.
 */
static int mq_child(int sock)
{
	int fd;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("mqueue", "/tmp", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ||
	    (fd = open("/tmp", O_RDONLY | O_DIRECTORY)) < 0)
		return 1;
	char c = 0;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u = {0};
	struct iovec iov = {&c, 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			   .msg_controllen = sizeof(u.b)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m, MSG_NOSIGNAL) == 1 ? 0 : 1;
}

static int mq_forked(void)
{
	int sv[2];
	if (geteuid() != 0)
		return -EPERM;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid == 0)
		_exit(mq_child(sv[1]));
	close(sv[1]);
	int fd = -EPERM;
	if (pid > 0) {
		char c;
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(int))];
		} u;
		struct iovec iov = {&c, 1};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
				   .msg_controllen = sizeof(u.b)};
		struct cmsghdr *cm;
		if (recvmsg(sv[0], &m, MSG_CMSG_CLOEXEC) == 1 && (cm = CMSG_FIRSTHDR(&m)) &&
		    cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	} else {
		fd = -errno;
	}
	close(sv[0]);
	return fd;
}

static int mq_dir(void)
{
	int fd = mq_mounted();
	if (fd < 0)
		fd = mq_detached();
	if (fd < 0 && fd != -EPERM)
		fd = mq_forked();
	return fd;
}

/* ---- filling objects ---------------------------------------------------- */

static void fill_stat(struct iobj *ob, const struct stat *st)
{
	ob->o.fields |= IPCK_F_UID | IPCK_F_MODE | IPCK_F_CTIME | IPCK_F_MTIME;
	ob->o.uid = st->st_uid;
	ob->o.gid = st->st_gid;
	ob->o.mode = st->st_mode & 0777;
	ob->o.ctime = st->st_ctim.tv_sec;
	ob->o.mtime = st->st_mtim.tv_sec;
}

/* fd: an open queue (any mqueue file descriptor is an mqd_t). */
static void mq_fill(struct iobj *ob, int fd)
{
	struct stat st;
	struct mq_attr a;
	char buf[128];
	if (fstat(fd, &st) == 0) {
		fill_stat(ob, &st);
		ob->o.fields &= ~IPCK_F_CTIME;   /* see the trap above */
	}
	if (mq_getattr(fd, &a) == 0) {
		ob->o.fields |= IPCK_F_MESSAGES | IPCK_F_SIZE;
		ob->o.messages = a.mq_curmsgs;
		ob->o.size = (unsigned long long)a.mq_maxmsg * (unsigned long long)a.mq_msgsize;
	}
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	unsigned long long q;
	if (n > 0) {
		buf[n] = '\0';
		if (sscanf(buf, "QSIZE:%llu", &q) == 1) {
			ob->o.fields |= IPCK_F_BYTES;
			ob->o.bytes = q;
		}
	}
}

/* A semaphore's value, read through a read-only mapping of its file. */
static void sem_fill(struct iobj *ob, int dfd, const char *file)
{
	int fd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (off_t)sizeof(sem_t)) {
		void *p = mmap(NULL, sizeof(sem_t), PROT_READ, MAP_SHARED, fd, 0);
		int v;
		if (p != MAP_FAILED) {
			if (sem_getvalue(p, &v) == 0) {
				ob->o.fields |= IPCK_F_VALUE;
				ob->o.value = v;
			}
			munmap(p, sizeof(sem_t));
		}
	}
	close(fd);
}

/* One file of /dev/shm: a segment, or a semaphore "sem.NAME". */
static int devshm_entry(struct insp *in, int dfd, const char *file)
{
	bool sem = !strncmp(file, "sem.", 4) && file[4];
	int kind = sem ? IPCK_KIND_PSEM : IPCK_KIND_PSHM;
	const char *name = sem ? file + 4 : file;
	struct stat st;
	if (!insp_want(in, kind) || fstatat(dfd, file, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode))
		return 0;
	int idx = ipck__obj_new(in, kind);
	if (idx < 0)
		return idx;
	struct iobj *ob = &in->obj[idx];
	fill_stat(ob, &st);
	ob->o.fields |= IPCK_F_SIZE;
	ob->o.size = (unsigned long long)st.st_size;
	ob->key = ipck__file_key(st.st_dev, st.st_ino);
	if (sem)
		sem_fill(ob, dfd, file);
	int r = ipck__obj_name(ob, "/%s", name);
	return r ? r : ipck__obj_url(ob, "%s:/%s", ipck_kind_name(kind), name);
}

static int mq_entry(struct insp *in, int dfd, const char *file)
{
	int idx = ipck__obj_new(in, IPCK_KIND_PMSG);
	if (idx < 0)
		return idx;
	struct iobj *ob = &in->obj[idx];
	struct stat st;
	if (fstatat(dfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		fill_stat(ob, &st);
		ob->o.fields &= ~IPCK_F_CTIME;
		ob->key = ipck__file_key(st.st_dev, st.st_ino);
	}
	int fd = openat(dfd, file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		mq_fill(ob, fd);
		close(fd);
	}
	int r = ipck__obj_name(ob, "/%s", file);
	return r ? r : ipck__obj_url(ob, "pmsg:/%s", file);
}

static int list_dir(struct insp *in, int dfd, int (*entry)(struct insp *, int, const char *))
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	struct dirent *e;
	int r = 0;
	while (!r && (e = readdir(d)))
		if (e->d_name[0] != '.')
			r = entry(in, dfd, e->d_name);
	closedir(d);
	return r;
}

int ipck__posix_list(struct insp *in)
{
	int r = 0;
	if (insp_want(in, IPCK_KIND_PSHM) || insp_want(in, IPCK_KIND_PSEM)) {
		int dfd = open(DEVSHM, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			r = list_dir(in, dfd, devshm_entry);
			close(dfd);
		}
	}
	if (r || !insp_want(in, IPCK_KIND_PMSG))
		return r;
	in->mq_dir = mq_dir();
	if (in->mq_dir < 0) {
		in->mq_dir = -1;
		in->opts->missing |= IPCK_MISSING_PMSG;   /* held queues come as orphans */
		return 0;
	}
	return list_dir(in, in->mq_dir, mq_entry);
}

/* A /dev/shm file or a queue that only processes know: unlinked, or new. */
int ipck__posix_orphan(struct insp *in, const struct ref *r)
{
	bool mq = r->type == REF_MQ;
	bool sem = !mq && !strncmp(r->path, "sem.", 4) && r->path[4];
	int kind = mq ? IPCK_KIND_PMSG : sem ? IPCK_KIND_PSEM : IPCK_KIND_PSHM;
	if (!insp_want(in, kind))
		return -ENOENT;
	int idx = ipck__obj_new(in, kind);
	if (idx < 0)
		return idx;
	struct iobj *ob = &in->obj[idx];
	const char *name = mq ? r->path + 1 : sem ? r->path + 4 : r->path;
	ob->o.deleted = r->deleted;
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/fd/%d", (int)r->pid, r->fd);
	int fd = r->fd >= 0 ? open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC) : -1;
	struct stat st;
	if (fd >= 0 && mq)
		mq_fill(ob, fd);
	else if (fd >= 0 && fstat(fd, &st) == 0) {
		fill_stat(ob, &st);
		ob->o.fields |= IPCK_F_SIZE;
		ob->o.size = (unsigned long long)st.st_size;
	}
	if (fd >= 0)
		close(fd);
	int e = ipck__obj_name(ob, "/%s", name);
	if (!e && !r->deleted)
		e = ipck__obj_url(ob, "%s:/%s", ipck_kind_name(kind), name);
	return e ? e : idx;
}

/* ---- removal ------------------------------------------------------------ */

/* "/name": one component, as shm_open, sem_open and mq_open want it. */
static bool posix_name(const char *addr)
{
	size_t n = strlen(addr);
	return addr[0] == '/' && n > 1 && n < NAME_MAX - 4 && !strchr(addr + 1, '/') &&
	       strcmp(addr, "/.") && strcmp(addr, "/..");
}

static int owner_ok(const struct stat *st, unsigned flags)
{
	return st->st_uid == geteuid() || (flags & IPCK_RM_FORCE) ? 0 : -EACCES;
}

static int mq_stat(const char *name, struct stat *st)
{
	int dfd = mq_dir(), r = 0;
	if (dfd >= 0) {
		r = fstatat(dfd, name + 1, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
		close(dfd);
		return r;
	}
	mqd_t q = mq_open(name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (q == (mqd_t)-1)
		return -errno;
	r = fstat(q, st) < 0 ? -errno : 0;
	mq_close(q);
	return r;
}

int ipck__posix_remove(int kind, const char *addr, unsigned flags)
{
	if (!posix_name(addr))
		return -EINVAL;
	struct stat st;
	char path[PATH_MAX];
	int r;
	if (kind == IPCK_KIND_PMSG) {
		r = mq_stat(addr, &st);
	} else {
		snprintf(path, sizeof(path), DEVSHM "/%s%s", kind == IPCK_KIND_PSEM ? "sem." : "",
			 addr + 1);
		r = lstat(path, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
	}
	if (!r)
		r = owner_ok(&st, flags);
	if (r || (flags & IPCK_RM_DRY_RUN))
		return r;
	if (kind == IPCK_KIND_PMSG)
		r = mq_unlink(addr);
	else if (kind == IPCK_KIND_PSEM)
		r = sem_unlink(addr);
	else
		r = shm_unlink(addr);
	return r < 0 ? -errno : 0;
}

/* ---- use, for ipck_limits ----------------------------------------------- */

/* Bytes RLIMIT_MSGQUEUE charges per message besides its payload (about). */
#define MQ_MSG_OVERHEAD 96

int ipck__mq_usage(struct mq_usage *u, uid_t uid)
{
	int dfd = mq_dir();
	if (dfd < 0)
		return dfd;
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int e = -errno;
		if (fd >= 0)
			close(fd);
		close(dfd);
		return e;
	}
	memset(u, 0, sizeof(*u));
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		u->queues++;
		int q = openat(dfd, e->d_name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		struct mq_attr a;
		struct stat st;
		if (q < 0)
			continue;
		if (mq_getattr(q, &a) == 0 && fstat(q, &st) == 0) {
			unsigned long long mx = (unsigned long long)a.mq_maxmsg;
			unsigned long long sz = (unsigned long long)a.mq_msgsize;
			u->max_maxmsg = mx > u->max_maxmsg ? mx : u->max_maxmsg;
			u->max_msgsize = sz > u->max_msgsize ? sz : u->max_msgsize;
			if (st.st_uid == uid)
				u->uid_bytes += mx * (sz + MQ_MSG_OVERHEAD);
		}
		close(q);
	}
	closedir(d);
	close(dfd);
	return 0;
}
