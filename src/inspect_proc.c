/*
 * inspect_proc.c - who holds what: one pass over /proc/PID/fd and one over
 * /proc/PID/maps for the whole listing, never one per object.
 *
 * Each descriptor link worth knowing becomes a struct ref (pipe:[ino],
 * socket:[ino], /dev/shm/NAME, an mqueue file, a FIFO), each shared mapping
 * of /SYSV<key> or /dev/shm/NAME another; the refs are sorted once, and each
 * object then finds its holders by binary search.  Refs nobody listed (pipes,
 * FIFOs, unlinked but still open files) become objects of their own.
 *
 * Traps: a process may exit between readdir and readlink (ENOENT: skip it);
 * without privilege other users' /proc/PID/fd is unreadable (EACCES: say so
 * in opts->missing); the mode bits of the /proc/PID/fd/N link itself tell
 * how the descriptor was opened (read, write).
 */
#include "inspect.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif

uint64_t ipck__file_key(dev_t dev, ino_t ino)
{
	return (uint64_t)ino ^ ((uint64_t)dev * 0x9e3779b97f4a7c15ull);
}

/* ---- processes ---------------------------------------------------------- */

static int cmp_proc(const void *a, const void *b)
{
	pid_t x = ((const struct proc *)a)->pid, y = ((const struct proc *)b)->pid;
	return (x > y) - (x < y);
}

static pid_t pid_of(const char *s)
{
	char *end;
	if (!isdigit((unsigned char)s[0]))
		return 0;
	long v = strtol(s, &end, 10);
	return (*end || v <= 0 || v > 0x7fffffff) ? 0 : (pid_t)v;
}

int ipck__proc_pids(struct insp *in)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -errno;
	size_t cap = 0;
	struct dirent *e;
	int r = 0;
	while ((e = readdir(d))) {
		pid_t pid = pid_of(e->d_name);
		if (!pid)
			continue;
		if ((r = ipck__grow(&in->procs, &cap, in->nprocs, sizeof(*in->procs), 256)))
			break;
		in->procs[in->nprocs++] = (struct proc){.pid = pid};
	}
	closedir(d);
	if (in->nprocs)
		qsort(in->procs, in->nprocs, sizeof(*in->procs), cmp_proc);
	return r;
}

static struct proc *proc_find(const struct insp *in, pid_t pid)
{
	struct proc key = {.pid = pid};
	return in->nprocs ? bsearch(&key, in->procs, in->nprocs, sizeof(key), cmp_proc) : NULL;
}

/*
 * A pid the /proc scan saw is alive; one it did not see is asked once more
 * with kill(0), because /proc may hide other users' processes (hidepid=).
 */
bool ipck__pid_alive(const struct insp *in, pid_t pid)
{
	if (pid <= 0)
		return false;
	return proc_find(in, pid) || kill(pid, 0) == 0 || errno == EPERM;
}

static void read_comm(pid_t pid, char comm[16])
{
	char p[48];
	snprintf(p, sizeof(p), "/proc/%d/comm", (int)pid);
	comm[0] = '\0';
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, comm, 15);
	close(fd);
	if (n <= 0)
		n = 0;
	comm[n] = '\0';
	char *nl = strchr(comm, '\n');
	if (nl)
		*nl = '\0';
}

const char *ipck__proc_comm(struct insp *in, pid_t pid)
{
	static __thread char other[16];   /* a process newer than the scan */
	struct proc *p = proc_find(in, pid);
	if (!p) {
		read_comm(pid, other);
		return other;
	}
	if (!p->comm_read) {
		read_comm(pid, p->comm);
		p->comm_read = true;
	}
	return p->comm;
}

/* ---- references --------------------------------------------------------- */

int ipck__ref_add(struct insp *in, const struct ref *r, const char *path)
{
	if (ipck__grow(&in->refs, &in->caprefs, in->nrefs, sizeof(*in->refs), 1024))
		return -ENOMEM;
	struct ref *n = &in->refs[in->nrefs];
	*n = *r;
	n->path = NULL;
	if (path && !(n->path = strdup(path)))
		return -ENOMEM;
	in->nrefs++;
	return 0;
}

void ipck__refs_free(struct insp *in)
{
	for (size_t i = 0; i < in->nrefs; i++)
		free(in->refs[i].path);
	free(in->refs);
}

static int cmp_ref(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	if (x->type != y->type)
		return x->type - y->type;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return 0;
}

/* Within one object, the live names first, for naming an orphan. */
static int cmp_ref_name(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = cmp_ref(a, b);
	if (c)
		return c;
	if (x->deleted != y->deleted)
		return x->deleted - y->deleted;
	if (x->path && y->path)
		return strcmp(x->path, y->path);
	return (x->path != NULL) - (y->path != NULL);
}

void ipck__refs_sort(struct insp *in)
{
	if (in->nrefs)
		qsort(in->refs, in->nrefs, sizeof(*in->refs), cmp_ref_name);
}

/* First ref of (type, key), or nrefs. */
static size_t refs_lower(const struct insp *in, int type, uint64_t key)
{
	size_t lo = 0, hi = in->nrefs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ref *r = &in->refs[mid];
		if (r->type < type || (r->type == type && r->key < key))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int ipck__refs_join(struct insp *in, int idx, int type, uint64_t key, unsigned how)
{
	for (size_t i = refs_lower(in, type, key); i < in->nrefs; i++) {
		struct ref *r = &in->refs[i];
		if (r->type != type || r->key != key)
			break;
		int e = ipck__obj_hold(in, &in->obj[idx], r->pid, r->fd, how ? how : r->how);
		if (e)
			return e;
		r->used = true;
	}
	return 0;
}

/* ---- the descriptor pass ------------------------------------------------ */

static unsigned link_how(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return ((st.st_mode & S_IRUSR) ? IPCK_HOLD_READ : 0) |
	       ((st.st_mode & S_IWUSR) ? IPCK_HOLD_WRITE : 0);
}

/* "pipe:[123]" -> 123 */
static bool bracket_ino(const char *s, uint64_t *ino)
{
	char *end;
	const char *b = strchr(s, '[');
	if (!b)
		return false;
	*ino = strtoull(b + 1, &end, 10);
	return *end == ']';
}

/* Cut " (deleted)" off a link; true if it was there. */
static bool cut_deleted(char *link)
{
	size_t n = strlen(link), d = sizeof(" (deleted)") - 1;
	if (n > d && !strcmp(link + n - d, " (deleted)")) {
		link[n - d] = '\0';
		return true;
	}
	return false;
}

static bool is_mqueue(pid_t pid, const char *fd)
{
	char p[320];
	struct statfs sf;
	snprintf(p, sizeof(p), "/proc/%d/fd/%s", (int)pid, fd);
	return statfs(p, &sf) == 0 && sf.f_type == MQUEUE_MAGIC;
}

/* The file behind descriptor link fd: its key, and whether it is a FIFO. */
static bool file_of(int dfd, const char *fd, uint64_t *key, bool *fifo)
{
	struct stat st;
	if (fstatat(dfd, fd, &st, 0) < 0)
		return false;
	*key = ipck__file_key(st.st_dev, st.st_ino);
	*fifo = S_ISFIFO(st.st_mode);
	return true;
}

/* One descriptor link of one process. */
static int classify(struct insp *in, int dfd, const char *fdname, pid_t pid, char *link)
{
	struct ref r = {.pid = pid, .fd = atoi(fdname)};
	if (!strncmp(link, "pipe:[", 6)) {
		if (!insp_want(in, IPCK_KIND_PIPE) || !bracket_ino(link, &r.key))
			return 0;
		r.type = REF_PIPE;
		r.how = link_how(dfd, fdname);
		return ipck__ref_add(in, &r, NULL);
	}
	if (!strncmp(link, "socket:[", 8)) {
		if (!(insp_want(in, IPCK_KIND_UNIX) || insp_want(in, IPCK_KIND_SOCKETPAIR)) ||
		    !bracket_ino(link, &r.key))
			return 0;
		r.type = REF_SOCK;
		r.how = IPCK_HOLD_READ | IPCK_HOLD_WRITE;
		return ipck__ref_add(in, &r, NULL);
	}
	if (link[0] != '/')
		return 0;
	r.deleted = cut_deleted(link);
	bool fifo = false;
	const char *p = link;
	if (!strncmp(link, "/dev/shm/", 9) && !strchr(link + 9, '/')) {
		if (!insp_want(in, IPCK_KIND_PSHM) && !insp_want(in, IPCK_KIND_PSEM))
			return 0;
		r.type = REF_DEVSHM;
		p = link + 9;
	} else if (link[1] && !strchr(link + 1, '/') && insp_want(in, IPCK_KIND_PMSG) &&
		   is_mqueue(pid, fdname)) {
		r.type = REF_MQ;
	} else if (insp_want(in, IPCK_KIND_FIFO)) {
		r.type = REF_FIFO;
	} else {
		return 0;
	}
	if (!file_of(dfd, fdname, &r.key, &fifo) || (r.type == REF_FIFO && !fifo))
		return 0;
	r.how = link_how(dfd, fdname);
	return ipck__ref_add(in, &r, p);
}

static int scan_fds(struct insp *in, pid_t pid)
{
	char p[48], link[PATH_MAX];
	snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
	int dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == EACCES || errno == EPERM)
			in->opts->missing |= IPCK_MISSING_PROCS;
		return 0;   /* ENOENT: it exited */
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -ENOMEM;
	}
	struct dirent *e;
	int r = 0;
	while (!r && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		ssize_t n = readlinkat(dfd, e->d_name, link, sizeof(link) - 1);
		if (n < 0 && (errno == EACCES || errno == EPERM))
			in->opts->missing |= IPCK_MISSING_PROCS;
		if (n <= 0)
			continue;
		link[n] = '\0';
		r = classify(in, dfd, e->d_name, pid, link);
	}
	closedir(d);
	return r;
}

int ipck__proc_scan_fds(struct insp *in)
{
	int r = 0;
	for (size_t i = 0; i < in->nprocs && !r; i++)
		r = scan_fds(in, in->procs[i].pid);
	return r;
}

/* ---- the mapping pass --------------------------------------------------- */

/* One line of /proc/PID/maps: "start-end perms offset dev inode   path". */
static int map_line(struct insp *in, pid_t pid, char *line)
{
	unsigned long long ino;
	unsigned maj, min;
	int off = 0;
	if (sscanf(line, "%*s %*s %*s %x:%x %llu %n", &maj, &min, &ino, &off) != 3 || !off)
		return 0;
	char *path = line + off;
	struct ref r = {.pid = pid, .fd = -1, .how = IPCK_HOLD_MAP};
	r.deleted = cut_deleted(path);
	if (!strncmp(path, "/SYSV", 5)) {
		r.type = REF_SYSV;
		r.key = ino;   /* the inode of a System V mapping is its shmid */
		r.deleted = false;
		return ipck__ref_add(in, &r, NULL);
	}
	if (strncmp(path, "/dev/shm/", 9) || strchr(path + 9, '/'))
		return 0;
	r.type = REF_DEVSHM;
	r.key = ipck__file_key(makedev(maj, min), (ino_t)ino);
	return ipck__ref_add(in, &r, path + 9);
}

/* Read a whole /proc file into *buf (grown as needed); length or -errno. */
static ssize_t slurp(const char *path, char **buf, size_t *cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = 0;
	for (;;) {
		if (*cap - len < 4096) {
			size_t ncap = *cap ? *cap * 2 : 65536;
			char *nb = realloc(*buf, ncap);
			if (!nb) {
				close(fd);
				return -ENOMEM;
			}
			*buf = nb;
			*cap = ncap;
		}
		ssize_t n = read(fd, *buf + len, *cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? -errno : 0;
			close(fd);
			(*buf)[len] = '\0';
			return e ? e : (ssize_t)len;
		}
		len += (size_t)n;
	}
}

int ipck__proc_scan_maps(struct insp *in)
{
	char *buf = NULL, p[48];
	size_t cap = 0;
	int r = 0;
	for (size_t i = 0; i < in->nprocs && !r; i++) {
		snprintf(p, sizeof(p), "/proc/%d/maps", (int)in->procs[i].pid);
		ssize_t n = slurp(p, &buf, &cap);
		if (n == -EACCES || n == -EPERM)
			in->opts->missing |= IPCK_MISSING_PROCS;
		if (n == -ENOMEM)
			r = -ENOMEM;
		if (n <= 0)
			continue;
		/* Only shared mappings of /SYSV or /dev/shm matter: skip the rest fast. */
		if (!strstr(buf, " /SYSV") && !strstr(buf, " /dev/shm/"))
			continue;
		for (char *line = buf, *nl; !r && line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			r = map_line(in, in->procs[i].pid, line);
		}
	}
	free(buf);
	return r;
}

/* ---- objects only the processes know of --------------------------------- */

static int orphan_pipe(struct insp *in, const struct ref *r)
{
	int idx = ipck__obj_new(in, IPCK_KIND_PIPE);
	if (idx < 0)
		return idx;
	struct iobj *ob = &in->obj[idx];
	ob->o.id = (long long)r->key;
	ob->key = r->key;
	ob->o.fields |= IPCK_F_ID;
	return idx;
}

static int orphan(struct insp *in, const struct ref *r)
{
	switch (r->type) {
	case REF_PIPE:
		return orphan_pipe(in, r);
	case REF_FIFO:
		return ipck__fifo_orphan(in, r);
	case REF_DEVSHM: case REF_MQ:
		return ipck__posix_orphan(in, r);
	}
	return -ENOENT;   /* sockets nobody listed (tcp...), segments gone since */
}

int ipck__refs_orphans(struct insp *in)
{
	for (size_t i = 0; i < in->nrefs;) {
		size_t j = i + 1;
		while (j < in->nrefs && !cmp_ref(&in->refs[i], &in->refs[j]))
			j++;
		if (in->refs[i].used) {
			i = j;
			continue;
		}
		int idx = orphan(in, &in->refs[i]);
		if (idx < 0 && idx != -ENOENT)
			return idx;
		for (size_t k = i; idx >= 0 && k < j; k++) {
			struct ref *r = &in->refs[k];
			int e = ipck__obj_hold(in, &in->obj[idx], r->pid, r->fd, r->how);
			if (e)
				return e;
			r->used = true;
		}
		i = j;
	}
	return 0;
}
