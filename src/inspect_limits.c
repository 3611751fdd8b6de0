/*
 * inspect_limits.c - ipck_limits: the kernel's limits on IPC objects and
 * how much of each is in use, like `lsipc -g` and more (POSIX queues, the
 * caller's RLIMIT_MSGQUEUE, pipes, Unix datagrams).
 *
 * System V use comes from the kernel's own counters (msgctl MSG_INFO,
 * shmctl SHM_INFO, semctl SEM_INFO), limits from /proc/sys.  shmall and
 * shmmax default to nearly 2^64: read as unsigned.  SHMMIN and SEMVMX are
 * constants of the kernel (IPC_INFO reports them).  The RLIMIT_MSGQUEUE use
 * is an estimate: the kernel charges each queue maxmsg * (msgsize + its own
 * bookkeeping) to its creator, and does not publish the sum.
 */
#include "inspect.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

union semun_ {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *info;
};

/* Current use, measured once for every entry. */
struct use {
	struct msginfo msg;
	struct shm_info shm;
	struct seminfo sem, seml;    /* SEM_INFO (use), IPC_INFO (limits) */
	struct mq_usage mq;
	bool msg_ok, shm_ok, sem_ok, seml_ok, mq_ok;
	struct rlimit mqrl;
	bool mqrl_ok;
};

enum src { SYSCTL, SEML_VMX, CONST_ONE, RLIM_MQ };

struct limit_def {
	const char *name, *group, *desc, *use, *unit;
	enum src src;
	const char *path;          /* SYSCTL: /proc/sys file; field number for "sem" */
	int field;
	int (*used)(const struct use *u, unsigned long long *out);
};

static int u_msgq(const struct use *u, unsigned long long *o) { *o = (unsigned long long)u->msg.msgpool; return u->msg_ok; }
static int u_shmseg(const struct use *u, unsigned long long *o) { *o = (unsigned long long)u->shm.used_ids; return u->shm_ok; }
static int u_shmpages(const struct use *u, unsigned long long *o) { *o = u->shm.shm_tot; return u->shm_ok; }
static int u_semsets(const struct use *u, unsigned long long *o) { *o = (unsigned long long)u->sem.semusz; return u->sem_ok; }
static int u_sems(const struct use *u, unsigned long long *o) { *o = (unsigned long long)u->sem.semaem; return u->sem_ok; }
static int u_mqs(const struct use *u, unsigned long long *o) { *o = u->mq.queues; return u->mq_ok; }
static int u_mqmax(const struct use *u, unsigned long long *o) { *o = u->mq.max_maxmsg; return u->mq_ok; }
static int u_mqsize(const struct use *u, unsigned long long *o) { *o = u->mq.max_msgsize; return u->mq_ok; }
static int u_mqbytes(const struct use *u, unsigned long long *o) { *o = u->mq.uid_bytes; return u->mq_ok; }

#define K "/proc/sys/kernel/"
#define MQ "/proc/sys/fs/mqueue/"
static const struct limit_def defs[] = {
	{"msgmni", "svmsg", "message queues", "queues", "", SYSCTL, K "msgmni", 0, u_msgq},
	{"msgmax", "svmsg", "largest message", "", "bytes", SYSCTL, K "msgmax", 0, NULL},
	{"msgmnb", "svmsg", "default bytes a queue holds", "", "bytes", SYSCTL, K "msgmnb", 0, NULL},
	{"shmmni", "svshm", "shared memory segments", "segments", "", SYSCTL, K "shmmni", 0, u_shmseg},
	{"shmall", "svshm", "shared memory in all segments", "pages in segments", "pages", SYSCTL, K "shmall", 0, u_shmpages},
	{"shmmax", "svshm", "largest segment", "", "bytes", SYSCTL, K "shmmax", 0, NULL},
	{"shmmin", "svshm", "smallest segment", "", "bytes", CONST_ONE, NULL, 0, NULL},
	{"semmni", "svsem", "semaphore sets", "sets", "", SYSCTL, K "sem", 3, u_semsets},
	{"semmns", "svsem", "semaphores in all sets", "semaphores", "", SYSCTL, K "sem", 1, u_sems},
	{"semmsl", "svsem", "semaphores per set", "", "", SYSCTL, K "sem", 0, NULL},
	{"semopm", "svsem", "operations per semop(2)", "", "", SYSCTL, K "sem", 2, NULL},
	{"semvmx", "svsem", "largest semaphore value", "", "", SEML_VMX, NULL, 0, NULL},
	{"queues_max", "pmsg", "POSIX message queues", "queues", "", SYSCTL, MQ "queues_max", 0, u_mqs},
	{"msg_max", "pmsg", "messages a queue holds", "largest queue's maxmsg", "messages", SYSCTL, MQ "msg_max", 0, u_mqmax},
	{"msgsize_max", "pmsg", "largest message", "largest queue's msgsize", "bytes", SYSCTL, MQ "msgsize_max", 0, u_mqsize},
	{"msg_default", "pmsg", "default maxmsg of a new queue", "", "messages", SYSCTL, MQ "msg_default", 0, NULL},
	{"msgsize_default", "pmsg", "default msgsize of a new queue", "", "bytes", SYSCTL, MQ "msgsize_default", 0, NULL},
	{"rlimit_msgqueue", "pmsg", "caller's RLIMIT_MSGQUEUE: bytes of its queues", "caller's queues (estimate)", "bytes", RLIM_MQ, NULL, 0, u_mqbytes},
	{"pipe-max-size", "pipe", "largest pipe buffer an unprivileged user may set", "", "bytes", SYSCTL, "/proc/sys/fs/pipe-max-size", 0, NULL},
	{"pipe-user-pages-soft", "pipe", "pipe buffer pages per user before pipes shrink", "", "pages", SYSCTL, "/proc/sys/fs/pipe-user-pages-soft", 0, NULL},
	{"max_dgram_qlen", "unix", "datagrams queued on a Unix socket", "", "messages", SYSCTL, "/proc/sys/net/unix/max_dgram_qlen", 0, NULL},
};

/* Field number field (0-based) of a /proc/sys file, as unsigned. */
static int read_field(const char *path, int field, unsigned long long *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	char *p = buf, *end;
	for (int i = 0;; i++) {
		errno = 0;
		unsigned long long v = strtoull(p, &end, 10);
		if (end == p || errno)
			return -EIO;
		if (i == field) {
			*out = v;
			return 0;
		}
		p = end;
	}
}

static void measure(struct use *u)
{
	memset(u, 0, sizeof(*u));
	u->msg_ok = msgctl(0, MSG_INFO, (struct msqid_ds *)&u->msg) >= 0;
	u->shm_ok = shmctl(0, SHM_INFO, (struct shmid_ds *)&u->shm) >= 0;
	u->sem_ok = semctl(0, 0, SEM_INFO, (union semun_){.info = &u->sem}) >= 0;
	u->seml_ok = semctl(0, 0, IPC_INFO, (union semun_){.info = &u->seml}) >= 0;
	u->mq_ok = ipck__mq_usage(&u->mq, geteuid()) == 0;
	u->mqrl_ok = getrlimit(RLIMIT_MSGQUEUE, &u->mqrl) == 0;
}

static void fill(struct ipck_limit *l, const struct limit_def *d, const struct use *u)
{
	*l = (struct ipck_limit){.name = d->name, .group = d->group, .desc = d->desc,
				 .use = d->use, .unit = d->unit};
	if (d->src == SYSCTL)
		l->known = read_field(d->path, d->field, &l->value) == 0;
	else if (d->src == CONST_ONE)
		l->value = 1, l->known = true;
	else if (d->src == SEML_VMX)
		l->value = (unsigned long long)u->seml.semvmx, l->known = u->seml_ok;
	else if (d->src == RLIM_MQ)
		l->value = u->mqrl.rlim_cur, l->known = u->mqrl_ok;
	if (d->used)
		l->has_used = d->used(u, &l->used) != 0;
}

IPCK_API ssize_t ipck_limits(struct ipck_limit *lim, size_t n)
{
	const size_t count = sizeof(defs) / sizeof(defs[0]);
	if (!lim && n)
		return -EINVAL;
	struct use u;
	if (n)
		measure(&u);
	for (size_t i = 0; i < n && i < count; i++)
		fill(&lim[i], &defs[i], &u);
	return (ssize_t)count;
}
