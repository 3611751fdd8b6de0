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

enum src { SYSCTL, SEML_VMX, CONST_ONE, RLIM_MQ };   /* where the value comes from */
enum used { U_NONE, U_MSGQ, U_SHMSEG, U_SHMPAGES, U_SEMSETS, U_SEMS, U_MQS, U_MQMAX,
	    U_MQSIZE, U_MQBYTES };                         /* what the use counts */

struct limit_def {
	const char *name, *group, *desc, *use, *unit;
	enum src src;
	const char *path;          /* SYSCTL: the /proc/sys file */
	int field;                 /* SYSCTL: which number of it, from 0 */
	enum used used;
};

/* The measured use of u; false when it is not known. */
static bool used_of(const struct use *u, enum used which, unsigned long long *o)
{
	switch (which) {
	case U_MSGQ:     *o = (unsigned long long)u->msg.msgpool; return u->msg_ok;
	case U_SHMSEG:   *o = (unsigned long long)u->shm.used_ids; return u->shm_ok;
	case U_SHMPAGES: *o = u->shm.shm_tot; return u->shm_ok;
	case U_SEMSETS:  *o = (unsigned long long)u->sem.semusz; return u->sem_ok;
	case U_SEMS:     *o = (unsigned long long)u->sem.semaem; return u->sem_ok;
	case U_MQS:      *o = u->mq.queues; return u->mq_ok;
	case U_MQMAX:    *o = u->mq.max_maxmsg; return u->mq_ok;
	case U_MQSIZE:   *o = u->mq.max_msgsize; return u->mq_ok;
	case U_MQBYTES:  *o = u->mq.uid_bytes; return u->mq_ok;
	case U_NONE:     break;
	}
	return false;
}

#define K "/proc/sys/kernel/"
#define MQ "/proc/sys/fs/mqueue/"
static const struct limit_def defs[] = {
	{"msgmni", "svmsg", "message queues", "queues", "", SYSCTL, K "msgmni", 0, U_MSGQ},
	{"msgmax", "svmsg", "largest message", "", "bytes", SYSCTL, K "msgmax", 0, U_NONE},
	{"msgmnb", "svmsg", "default bytes a queue holds", "", "bytes", SYSCTL, K "msgmnb", 0, U_NONE},
	{"shmmni", "svshm", "shared memory segments", "segments", "", SYSCTL, K "shmmni", 0, U_SHMSEG},
	{"shmall", "svshm", "shared memory in all segments", "pages in segments", "pages", SYSCTL, K "shmall", 0, U_SHMPAGES},
	{"shmmax", "svshm", "largest segment", "", "bytes", SYSCTL, K "shmmax", 0, U_NONE},
	{"shmmin", "svshm", "smallest segment", "", "bytes", CONST_ONE, NULL, 0, U_NONE},
	{"semmni", "svsem", "semaphore sets", "sets", "", SYSCTL, K "sem", 3, U_SEMSETS},
	{"semmns", "svsem", "semaphores in all sets", "semaphores", "", SYSCTL, K "sem", 1, U_SEMS},
	{"semmsl", "svsem", "semaphores per set", "", "", SYSCTL, K "sem", 0, U_NONE},
	{"semopm", "svsem", "operations per semop(2)", "", "", SYSCTL, K "sem", 2, U_NONE},
	{"semvmx", "svsem", "largest semaphore value", "", "", SEML_VMX, NULL, 0, U_NONE},
	{"queues_max", "pmsg", "POSIX message queues", "queues", "", SYSCTL, MQ "queues_max", 0, U_MQS},
	{"msg_max", "pmsg", "messages a queue holds", "largest queue's maxmsg", "messages", SYSCTL, MQ "msg_max", 0, U_MQMAX},
	{"msgsize_max", "pmsg", "largest message", "largest queue's msgsize", "bytes", SYSCTL, MQ "msgsize_max", 0, U_MQSIZE},
	{"msg_default", "pmsg", "default maxmsg of a new queue", "", "messages", SYSCTL, MQ "msg_default", 0, U_NONE},
	{"msgsize_default", "pmsg", "default msgsize of a new queue", "", "bytes", SYSCTL, MQ "msgsize_default", 0, U_NONE},
	{"rlimit_msgqueue", "pmsg", "caller's RLIMIT_MSGQUEUE: bytes of its queues", "caller's queues (estimate)", "bytes", RLIM_MQ, NULL, 0, U_MQBYTES},
	{"pipe-max-size", "pipe", "largest pipe buffer an unprivileged user may set", "", "bytes", SYSCTL, "/proc/sys/fs/pipe-max-size", 0, U_NONE},
	{"pipe-user-pages-soft", "pipe", "pipe buffer pages per user before pipes shrink", "", "pages", SYSCTL, "/proc/sys/fs/pipe-user-pages-soft", 0, U_NONE},
	{"max_dgram_qlen", "unix", "datagrams queued on a Unix socket", "", "messages", SYSCTL, "/proc/sys/net/unix/max_dgram_qlen", 0, U_NONE},
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
	switch (d->src) {
	case SYSCTL:
		l->known = read_field(d->path, d->field, &l->value) == 0;
		break;
	case CONST_ONE:
		l->value = 1;
		l->known = true;
		break;
	case SEML_VMX:
		l->value = (unsigned long long)u->seml.semvmx;
		l->known = u->seml_ok;
		break;
	case RLIM_MQ:
		l->value = u->mqrl.rlim_cur;
		l->known = u->mqrl_ok;
		break;
	}
	l->has_used = used_of(u, d->used, &l->used);
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
