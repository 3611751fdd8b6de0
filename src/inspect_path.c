/*
 * inspect_path.c - objects that are files in the ordinary tree: FIFOs and
 * Unix socket files.
 *
 * A FIFO is found through the processes holding it open (a FIFO nobody has
 * open is just a file, and walking every directory is not ipckit's job);
 * the link of /proc/PID/fd names its path.  Removal works on a path given:
 * the file must be of the right type (a FIFO, a socket: never anything
 * else), owned by the caller unless forced, and a socket file some process
 * still listens on is kept unless forced.  lstat: a symlink is never
 * followed to something else.
 */
#include "inspect.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ipck__fifo_orphan(struct insp *in, const struct ref *r)
{
	int idx = ipck__obj_new(in, IPCK_KIND_FIFO);
	if (idx < 0)
		return idx;
	struct iobj *ob = &in->obj[idx];
	int e = ipck__obj_name(ob, "%s", r->path);
	struct stat st;
	uint64_t key;
	ob->o.deleted = r->deleted;
	if (!e && !r->deleted && lstat(r->path, &st) == 0 && S_ISFIFO(st.st_mode)) {
		key = ipck__file_key(st.st_dev, st.st_ino);
		if (key != r->key) {
			ob->o.deleted = true;   /* another FIFO has its name now */
			return idx;
		}
		ob->o.fields |= IPCK_F_UID | IPCK_F_MODE | IPCK_F_CTIME | IPCK_F_MTIME | IPCK_F_ID;
		ob->o.id = (long long)st.st_ino;
		ob->o.uid = st.st_uid;
		ob->o.gid = st.st_gid;
		ob->o.mode = st.st_mode & 0777;
		ob->o.ctime = st.st_ctim.tv_sec;
		ob->o.mtime = st.st_mtim.tv_sec;
		e = ipck__obj_url(ob, "fifo:%s", r->path);
	}
	return e ? e : idx;
}

/* Is path bound by a socket of this network namespace (/proc/net/unix)? */
static bool socket_bound(const char *path)
{
	FILE *f = fopen("/proc/net/unix", "re");
	if (!f)
		return false;
	char *l = NULL;
	size_t cap = 0, plen = strlen(path);
	bool found = false;
	while (!found && getline(&l, &cap, f) > 0) {
		size_t n = strcspn(l, "\n");
		found = n > plen && l[n - plen - 1] == ' ' && !memcmp(l + n - plen, path, plen);
	}
	free(l);
	fclose(f);
	return found;
}

/* An absolute version of path (sockets are listed by absolute path). */
static int absolute(const char *path, char *out, size_t cap)
{
	char cwd[PATH_MAX];
	if (path[0] == '/')
		return snprintf(out, cap, "%s", path) < (int)cap ? 0 : -ENAMETOOLONG;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	return snprintf(out, cap, "%s/%s", cwd, path) < (int)cap ? 0 : -ENAMETOOLONG;
}

int ipck__path_remove(int kind, const char *path, unsigned flags)
{
	struct stat st;
	char abs[PATH_MAX];
	if (!path[0])
		return -EINVAL;
	if (lstat(path, &st) < 0)
		return -errno;
	if (kind == IPCK_KIND_FIFO && !S_ISFIFO(st.st_mode))
		return -EINVAL;
	if (kind == IPCK_KIND_UNIX && !S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	if (st.st_uid != geteuid() && !(flags & IPCK_RM_FORCE))
		return -EACCES;
	if (kind == IPCK_KIND_UNIX && !(flags & IPCK_RM_FORCE)) {
		int r = absolute(path, abs, sizeof(abs));
		if (r)
			return r;
		if (socket_bound(abs))
			return -EBUSY;
	}
	if (flags & IPCK_RM_DRY_RUN)
		return 0;
	return unlink(path) < 0 ? -errno : 0;
}
