/*
 * sem.c - semaphores: POSIX named ("psem:/name", sem_open), POSIX unnamed
 * (sem_init in shared memory the caller provides) and System V sets
 * ("svsem:KEY", "svsem:id=N", semget).  Named ones are created 0600 (or
 * mode=) exclusively and removed only by ipck_sem_unlink.
 *
 * Traps: a System V set is created with semget and initialised with a
 * second call, and a process opening it in between would see a set of
 * zeros.  The creator initialises with one semop (which stamps sem_otime),
 * and an opener waits until sem_otime is set (TLPI's remedy).  A System V
 * operation made with SEM_UNDO (?undo=1) is reverted by the kernel when the
 * process dies: a lock taken that way cannot outlive its holder.  POSIX
 * semaphores have no such thing.
 */
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sem.h>
#include <sys/stat.h>

_Static_assert(sizeof(sem_t) <= IPCK_SEM_SIZE, "IPCK_SEM_SIZE too small for sem_t");

enum sem_kind { PSEM_NAMED = 1, PSEM_MEM, SVSEM };

struct ipck_sem {
	enum sem_kind kind;
	sem_t *ps;              /* POSIX */
	int id;                 /* System V set */
	unsigned nsems;
	bool undo;              /* System V: SEM_UNDO on every operation */
};

/* A parsed "psem:/name?..." or "svsem:KEY?...". */
struct sem_url {
	enum sem_kind kind;
	char name[NAME_MAX + 1];
	key_t key;
	int id;
	unsigned mode;
	long long peer_uid;
	bool undo;
};

static int sem_opt(struct sem_url *u, const char *o, size_t n)
{
	char v[32];
	const char *eq = memchr(o, '=', n);
	size_t vn = eq ? n - (size_t)(eq - o) - 1 : 0;
	if (!eq || !vn || vn >= sizeof(v))
		return -EINVAL;
	memcpy(v, eq + 1, vn);
	v[vn] = '\0';
	char *end;
	unsigned long long x = strtoull(v, &end, 0);
	if (*end || v[0] == '-')
		return -EINVAL;
	size_t kn = (size_t)(eq - o);
	if (kn == 4 && !memcmp(o, "mode", 4) && v[0] == '0' && x <= 0777)
		u->mode = (unsigned)x;
	else if (kn == 8 && !memcmp(o, "peer_uid", 8) && x < 0xffffffffu)
		u->peer_uid = (long long)x;
	else if (kn == 4 && !memcmp(o, "undo", 4) && x <= 1 && u->kind == SVSEM)
		u->undo = x;
	else
		return -EINVAL;
	return 0;
}

static int addr_parse(struct sem_url *u, const char *a, size_t n)
{
	char buf[NAME_MAX + 1], *end;
	if (n == 0 || n > NAME_MAX)
		return -EINVAL;
	memcpy(buf, a, n);
	buf[n] = '\0';
	if (u->kind == PSEM_NAMED) {
		if (buf[0] != '/' || n < 2 || strchr(buf + 1, '/'))
			return -EINVAL;
		strcpy(u->name, buf);
		return 0;
	}
	bool by_id = !strncmp(buf, "id=", 3);
	const char *num = by_id ? buf + 3 : buf;
	errno = 0;
	long long v = strtoll(num, &end, 0);
	if (errno || *end || !*num || *num == '-' || *num == '+' || v < (by_id ? 0 : 1) ||
	    v > (by_id ? INT32_MAX : (long long)UINT32_MAX))
		return -EINVAL;
	if (by_id)
		u->id = (int)v;
	else
		u->key = (key_t)(uint32_t)v;
	return 0;
}

static int sem_url_parse(const char *url, struct sem_url *u)
{
	memset(u, 0, sizeof(*u));
	u->mode = 0600;
	u->peer_uid = -1;
	u->id = -1;
	if (!url)
		return -EINVAL;
	const char *a;
	if (!strncmp(url, "psem:", 5))
		u->kind = PSEM_NAMED, a = url + 5;
	else if (!strncmp(url, "svsem:", 6))
		u->kind = SVSEM, a = url + 6;
	else
		return -EINVAL;
	const char *q = strchr(a, '?');
	int r = addr_parse(u, a, q ? (size_t)(q - a) : strlen(a));
	while (!r && q) {
		const char *o = q + 1, *amp = strchr(o, '&');
		size_t n = amp ? (size_t)(amp - o) : strlen(o);
		r = sem_opt(u, o, n);
		q = amp;
	}
	return r;
}

static ipck_sem *sem_alloc(enum sem_kind k, unsigned nsems, bool undo)
{
	ipck_sem *s = calloc(1, sizeof(*s));
	if (s) {
		s->kind = k;
		s->id = -1;
		s->nsems = nsems;
		s->undo = undo;
	}
	return s;
}

/* ---- System V --------------------------------------------------------------- */

/* Set every semaphore to value with one semop: it also stamps sem_otime. */
static int sv_init(int id, unsigned n, unsigned value)
{
	struct sembuf *b = calloc(n, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		b[i] = (struct sembuf){.sem_num = (unsigned short)i, .sem_op = (short)value};
	int r = semop(id, b, n) < 0 ? -errno : 0;
	free(b);
	return r;
}

static int sv_create(const struct sem_url *u, unsigned nsems, unsigned value, ipck_sem **out)
{
	if (u->id >= 0 || nsems == 0 || nsems > 32000 || value > SHRT_MAX)
		return -EINVAL;
	int id = semget(u->key, (int)nsems, IPC_CREAT | IPC_EXCL | (int)u->mode);
	if (id < 0)
		return errno == EEXIST ? -EADDRINUSE : -errno;
	int r = sv_init(id, nsems, value);
	if (!r && !(*out = sem_alloc(SVSEM, nsems, u->undo)))
		r = -ENOMEM;
	if (r) {
		semctl(id, 0, IPC_RMID);
		return r;
	}
	(*out)->id = id;
	return 0;
}

static int sv_open(const struct sem_url *u, ipck_sem **out)
{
	int id = u->id >= 0 ? u->id : semget(u->key, 0, 0);
	struct semid_ds ds;
	if (id < 0)
		return -errno;
	for (unsigned i = 0;; i++) {
		if (semctl(id, 0, IPC_STAT, &ds) < 0)
			return errno == EINVAL || errno == EIDRM ? -ENOENT : -errno;
		if (ds.sem_otime)
			break;   /* initialised */
		if (i == 12)
			return -ETIMEDOUT;
		ipck__backoff(i, -1);
	}
	struct ipck_url o = {.peer_uid = u->peer_uid};
	int r = ipck__check_owner(&o, ds.sem_perm.uid);
	if (r)
		return r;
	if (!(*out = sem_alloc(SVSEM, (unsigned)ds.sem_nsems, u->undo)))
		return -ENOMEM;
	(*out)->id = id;
	return 0;
}

static int sv_op(ipck_sem *s, unsigned i, short op, int timeout_ms)
{
	struct sembuf b = {.sem_num = (unsigned short)i, .sem_op = op,
			   .sem_flg = (short)((s->undo ? SEM_UNDO : 0) | (timeout_ms == 0 ? IPC_NOWAIT : 0))};
	deadline_t dl = timeout_ms > 0 ? ipck__deadline(timeout_ms) : -1;
	for (;;) {
		int64_t left = dl < 0 ? 0 : dl - ipck__now_ns();
		struct timespec ts = {.tv_sec = left / 1000000000, .tv_nsec = left % 1000000000};
		if (left < 0)
			return -ETIMEDOUT;
		if (semtimedop(s->id, &b, 1, dl < 0 ? NULL : &ts) == 0)
			return 0;
		if (errno == EAGAIN)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return errno == EINVAL || errno == EIDRM ? -EIDRM : -errno;
	}
}

/* ---- POSIX -------------------------------------------------------------------- */

static int ps_create(const struct sem_url *u, unsigned nsems, unsigned value, ipck_sem **out)
{
	if (nsems != 1)
		return -EINVAL;
	sem_t *ps = sem_open(u->name, O_CREAT | O_EXCL, u->mode, value);
	if (ps == SEM_FAILED)
		return errno == EEXIST ? -EADDRINUSE : -errno;
	/* sem_open honours the umask: give the file exactly the mode asked. */
	char path[NAME_MAX + 16];
	snprintf(path, sizeof(path), "/dev/shm/sem.%s", u->name + 1);
	chmod(path, u->mode);
	if (!(*out = sem_alloc(PSEM_NAMED, 1, false))) {
		sem_close(ps);
		sem_unlink(u->name);
		return -ENOMEM;
	}
	(*out)->ps = ps;
	return 0;
}

static int ps_open(const struct sem_url *u, ipck_sem **out)
{
	char path[NAME_MAX + 16];
	struct stat st;
	snprintf(path, sizeof(path), "/dev/shm/sem.%s", u->name + 1);
	if (lstat(path, &st) < 0)
		return -errno;
	struct ipck_url o = {.peer_uid = u->peer_uid};
	int r = ipck__check_owner(&o, st.st_uid);
	if (r)
		return r;
	sem_t *ps = sem_open(u->name, 0);
	if (ps == SEM_FAILED)
		return -errno;
	if (!(*out = sem_alloc(PSEM_NAMED, 1, false))) {
		sem_close(ps);
		return -ENOMEM;
	}
	(*out)->ps = ps;
	return 0;
}

static int ps_wait(ipck_sem *s, int timeout_ms)
{
	deadline_t dl = ipck__deadline(timeout_ms);
	struct timespec ts = {.tv_sec = dl / 1000000000, .tv_nsec = dl % 1000000000};
	for (;;) {
		int r = timeout_ms == 0 ? sem_trywait(s->ps) : timeout_ms < 0 ? sem_wait(s->ps)
			: sem_clockwait(s->ps, CLOCK_MONOTONIC, &ts);
		if (r == 0)
			return 0;
		if (errno == EAGAIN || errno == ETIMEDOUT)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* ---- public --------------------------------------------------------------------- */

/* The common start of create and open: *out cleared, url parsed. */
static int sem_begin(ipck_sem **out, const char *url, struct sem_url *u)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	return sem_url_parse(url, u);
}

IPCK_API int ipck_sem_create(ipck_sem **out, const char *url, unsigned nsems, unsigned value)
{
	struct sem_url u;
	int r = sem_begin(out, url, &u);
	if (r)
		return r;
	if (value > SEM_VALUE_MAX)
		return -EINVAL;
	return u.kind == SVSEM ? sv_create(&u, nsems, value, out) : ps_create(&u, nsems, value, out);
}

IPCK_API int ipck_sem_open(ipck_sem **out, const char *url)
{
	struct sem_url u;
	int r = sem_begin(out, url, &u);
	if (r)
		return r;
	return u.kind == SVSEM ? sv_open(&u, out) : ps_open(&u, out);
}

IPCK_API int ipck_sem_init(ipck_sem **out, void *mem, unsigned value)
{
	if (!out || !mem || ((uintptr_t)mem & 7) || value > SEM_VALUE_MAX)
		return -EINVAL;
	if (!(*out = sem_alloc(PSEM_MEM, 1, false)))
		return -ENOMEM;
	if (sem_init(mem, 1, value) < 0) {   /* 1: shared between processes */
		int e = -errno;
		free(*out);
		*out = NULL;
		return e;
	}
	(*out)->ps = mem;
	return 0;
}

IPCK_API int ipck_sem_attach(ipck_sem **out, void *mem)
{
	if (!out || !mem || ((uintptr_t)mem & 7))
		return -EINVAL;
	if (!(*out = sem_alloc(PSEM_MEM, 1, false)))
		return -ENOMEM;
	(*out)->ps = mem;
	return 0;
}

IPCK_API int ipck_sem_wait(ipck_sem *s, unsigned i, int timeout_ms)
{
	if (!s || i >= s->nsems || timeout_ms < -1)
		return -EINVAL;
	return s->kind == SVSEM ? sv_op(s, i, -1, timeout_ms) : ps_wait(s, timeout_ms);
}

IPCK_API int ipck_sem_post(ipck_sem *s, unsigned i)
{
	if (!s || i >= s->nsems)
		return -EINVAL;
	if (s->kind == SVSEM)
		return sv_op(s, i, 1, 0);
	return sem_post(s->ps) < 0 ? -errno : 0;
}

IPCK_API int ipck_sem_value(const ipck_sem *s, unsigned i)
{
	int v;
	if (!s || i >= s->nsems)
		return -EINVAL;
	if (s->kind == SVSEM)
		v = semctl(s->id, (int)i, GETVAL);
	else if (sem_getvalue(s->ps, &v) < 0)
		v = -1;
	return v < 0 ? -errno : v;
}

IPCK_API int ipck_sem_close(ipck_sem *s)
{
	if (!s)
		return 0;
	int r = s->kind == PSEM_NAMED && sem_close(s->ps) < 0 ? -errno : 0;
	free(s);
	return r;
}

IPCK_API int ipck_sem_unlink(const char *url)
{
	struct sem_url u;
	int r = sem_url_parse(url, &u);
	if (r)
		return r;
	if (u.kind == PSEM_NAMED)
		return sem_unlink(u.name) < 0 ? -errno : 0;
	int id = u.id >= 0 ? u.id : semget(u.key, 0, 0);
	if (id < 0 || semctl(id, 0, IPC_RMID) < 0)
		return errno == EINVAL || errno == EIDRM ? -ENOENT : -errno;
	return 0;
}
