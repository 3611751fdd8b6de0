/* objsnap.c - see objsnap.h. */
#include "objsnap.h"
#include "check.h"
#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <sys/stat.h>

static int path_kind(mode_t m)
{
	return S_ISFIFO(m) ? SNAP_FIFO : S_ISSOCK(m) ? SNAP_SOCK : S_ISREG(m) ? SNAP_FILE :
	       S_ISLNK(m) ? SNAP_LINK : S_ISDIR(m) ? SNAP_DIR : SNAP_OTHER;
}

static void snap_dir(struct snap *s)
{
	DIR *d = opendir(test_dir());
	struct dirent *e;
	struct stat st;
	while (d && (e = readdir(d)) && s->n < 64) {
		struct snapobj *o = &s->o[s->n];
		if (e->d_name[0] == '.')
			continue;
		*o = (struct snapobj){0};
		snprintf(o->name, sizeof(o->name), "%s/%s", test_dir(), e->d_name);
		if (lstat(o->name, &st) < 0)
			continue;
		o->kind = path_kind(st.st_mode);
		o->id = (long long)st.st_ino;
		o->mode = st.st_mode & 07777;
		o->uid = st.st_uid;
		s->n++;
	}
	if (d)
		closedir(d);
}

static int snap_ipc(const struct ipck_obj *obj, void *arg)
{
	struct snap *s = arg;
	long long lo = test_key(0);
	bool sysv = obj->kind == IPCK_KIND_SVSHM || obj->kind == IPCK_KIND_SVSEM ||
		    obj->kind == IPCK_KIND_SVMSG;
	if (sysv ? obj->key < lo || obj->key >= lo + 256 : !strstr(obj->name, test_tag()))
		return 0;
	if (s->n == 64)
		return 0;
	struct snapobj *o = &s->o[s->n++];
	*o = (struct snapobj){0};
	o->kind = obj->kind;
	snprintf(o->name, sizeof(o->name), "%s", obj->name);
	o->key = obj->key;
	o->id = obj->id;
	o->mode = obj->mode;
	o->uid = obj->uid;
	return 0;
}

int snap_take(struct snap *s)
{
	unsigned k = IPCK_KIND_BIT(IPCK_KIND_SVSHM) | IPCK_KIND_BIT(IPCK_KIND_SVSEM) |
		     IPCK_KIND_BIT(IPCK_KIND_SVMSG) | IPCK_KIND_BIT(IPCK_KIND_PSHM) |
		     IPCK_KIND_BIT(IPCK_KIND_PSEM) | IPCK_KIND_BIT(IPCK_KIND_PMSG);
	struct ipck_list_opts opts = {.kinds = k};
	s->n = 0;
	snap_dir(s);
	return ipck_list(&opts, snap_ipc, s);
}

static bool same(const struct snapobj *a, const struct snapobj *b)
{
	return a->kind == b->kind && a->key == b->key && !strcmp(a->name, b->name);
}

int snap_new(const struct snap *a, const struct snap *b, struct snap *out)
{
	out->n = 0;
	for (int i = 0; i < b->n; i++) {
		bool old = false;
		for (int k = 0; k < a->n && !old; k++)
			old = same(&a->o[k], &b->o[i]);
		if (!old)
			out->o[out->n++] = b->o[i];
	}
	return out->n;
}

bool snap_is_path(const struct snapobj *o)
{
	return o->kind >= SNAP_FIFO;
}

const char *snap_str(const struct snapobj *o)
{
	static const char *const names[] = {"fifo", "socket", "file", "symlink", "dir", "other"};
	const char *k = snap_is_path(o) ? names[o->kind - SNAP_FIFO] : ipck_kind_name(o->kind);
	if (o->name[0])
		return fmt("%s %s %04o uid %u", k, o->name, o->mode, (unsigned)o->uid);
	return fmt("%s key 0x%llx %04o uid %u", k, o->key, o->mode, (unsigned)o->uid);
}

static int make_sock(const char *path, unsigned mode)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (strlen(path) >= sizeof(a.sun_path))
		return -1;
	memcpy(a.sun_path, path, strlen(path) + 1);
	int r = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&a, sizeof(a));
	if (fd >= 0)
		close(fd);
	return r < 0 ? -1 : chmod(path, mode);
}

int snap_make(int kind, const struct snapobj *o, unsigned mode)
{
	const char *n = o->name;
	int fd;
	switch (kind) {
	case SNAP_FIFO: return mkfifo(n, mode);
	case SNAP_SOCK: return make_sock(n, mode);
	case SNAP_FILE:
		fd = open(n, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
		return fd < 0 ? -1 : (write(fd, "squat", 5) == 5 ? close(fd) : (close(fd), -1));
	case IPCK_KIND_PMSG:
		fd = mq_open(n, O_CREAT | O_EXCL | O_RDWR, mode, NULL);
		return fd < 0 ? -1 : mq_close(fd);
	case IPCK_KIND_PSHM:
		fd = shm_open(n, O_CREAT | O_EXCL | O_RDWR, mode);
		return fd < 0 ? -1 : close(fd);
	case IPCK_KIND_PSEM: {
		sem_t *s = sem_open(n, O_CREAT | O_EXCL, mode, 0);
		return s == SEM_FAILED ? -1 : sem_close(s);
	}
	case IPCK_KIND_SVMSG: return msgget((key_t)o->key, IPC_CREAT | IPC_EXCL | (int)mode) < 0 ? -1 : 0;
	case IPCK_KIND_SVSHM: return shmget((key_t)o->key, 4096, IPC_CREAT | IPC_EXCL | (int)mode) < 0 ? -1 : 0;
	case IPCK_KIND_SVSEM: return semget((key_t)o->key, 1, IPC_CREAT | IPC_EXCL | (int)mode) < 0 ? -1 : 0;
	}
	errno = EINVAL;
	return -1;
}

void snap_remove(int kind, const struct snapobj *o)
{
	int id;
	switch (kind) {
	case IPCK_KIND_PMSG: mq_unlink(o->name); break;
	case IPCK_KIND_PSHM: shm_unlink(o->name); break;
	case IPCK_KIND_PSEM: sem_unlink(o->name); break;
	case IPCK_KIND_SVMSG:
		if ((id = msgget((key_t)o->key, 0)) >= 0)
			msgctl(id, IPC_RMID, NULL);
		break;
	case IPCK_KIND_SVSHM:
		if ((id = shmget((key_t)o->key, 0, 0)) >= 0)
			shmctl(id, IPC_RMID, NULL);
		break;
	case IPCK_KIND_SVSEM:
		if ((id = semget((key_t)o->key, 0, 0)) >= 0)
			semctl(id, 0, IPC_RMID);
		break;
	default: unlink(o->name); break;
	}
}

const char *snap_posix_path(const struct snapobj *o)
{
	if (o->kind == IPCK_KIND_PSHM)
		return fmt("/dev/shm%s", o->name);
	if (o->kind == IPCK_KIND_PSEM)
		return fmt("/dev/shm/sem.%s", o->name + 1);
	return NULL;
}


bool snap_equal(const struct snap *a, const struct snap *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++) {
		bool found = false;
		for (int k = 0; k < b->n && !found; k++)
			found = !memcmp(&a->o[i], &b->o[k], sizeof(a->o[i]));
		if (!found)
			return false;
	}
	return true;
}

int snap_listener_names(const char *url, struct snap *out)
{
	struct snap before, lis;
	ipck_chan *l;
	int r = snap_take(&before);
	if (r || (r = ipck_open(&l, url, IPCK_LISTEN)) < 0)
		return r;
	r = snap_take(&lis);
	ipck_close(l);
	snap_new(&before, &lis, out);
	return r;
}

static char precious[PATH_MAX];

const char *snap_precious(void)
{
	snprintf(precious, sizeof(precious), "%s/precious", test_dir());
	int fd = open(precious, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	bool ok = fd >= 0 && write(fd, "precious", 8) == 8 && fchmod(fd, 0644) == 0;
	if (fd >= 0)
		close(fd);
	return ok ? precious : NULL;
}

bool snap_precious_intact(void)
{
	char b[16] = {0};
	struct stat st;
	int fd = open(precious, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof(b));
	bool ok = n == 8 && !memcmp(b, "precious", 8) && fstat(fd, &st) == 0 &&
		  S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644;
	if (fd >= 0)
		close(fd);
	return ok;
}
