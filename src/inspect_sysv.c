/*
 * inspect_sysv.c - System V segments, semaphore sets and message queues:
 * listed from /proc/sysvipc/{shm,sem,msg} (what ipcs(1) reads, so the ids,
 * keys, owners, modes and sizes are the same), removed with IPC_RMID.
 *
 * The kernel records a creator pid for segments only (cpid).  For queues it
 * records the last sender and receiver, for semaphores the last process per
 * semaphore: those stand in for the creator, so a queue or set is stale only
 * when every recorded pid is dead (and one is recorded at all).  The live
 * ones are the holders of queues and sets (IPCK_HOLD_LAST), which nobody
 * holds open: that is who talks through them (ipckit ls --graph).  perms in
 * /proc/sysvipc is octal and carries SHM_DEST (01000) for a segment that is
 * removed already and lives on until its last detach.
 */
#include "inspect.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#define SYSV_FIELDS (IPCK_F_ID | IPCK_F_KEY | IPCK_F_UID | IPCK_F_MODE | IPCK_F_CTIME | IPCK_F_MTIME)

union semun_ {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static long long later(long long a, long long b)
{
	return a > b ? a : b;
}

static struct iobj *sysv_new(struct insp *in, int kind, int key, int id, unsigned perms,
			     unsigned uid, unsigned gid)
{
	int idx = ipck__obj_new(in, kind);
	if (idx < 0)
		return NULL;
	struct iobj *ob = &in->obj[idx];
	ob->o.fields |= SYSV_FIELDS;
	ob->o.key = (long long)(uint32_t)key;   /* ipcs shows keys unsigned */
	ob->o.id = id;
	ob->o.mode = perms & 0777;
	ob->o.uid = uid;
	ob->o.gid = gid;
	return ob;
}

static int shm_line(struct insp *in, const char *l)
{
	int key, id, cpid, lpid;
	unsigned perms, uid, gid;
	unsigned long long size, nattch;
	long long atime, dtime, ctime;
	if (sscanf(l, "%d %d %o %llu %d %d %llu %u %u %*u %*u %lld %lld %lld", &key, &id, &perms,
		   &size, &cpid, &lpid, &nattch, &uid, &gid, &atime, &dtime, &ctime) != 12)
		return 0;
	struct iobj *ob = sysv_new(in, IPCK_KIND_SVSHM, key, id, perms, uid, gid);
	if (!ob)
		return -ENOMEM;
	ob->o.fields |= IPCK_F_SIZE | IPCK_F_NATTCH | IPCK_F_CPID | IPCK_F_LPID;
	ob->o.size = size;
	ob->o.nattch = (long long)nattch;
	ob->o.cpid = cpid;
	ob->o.lpid = lpid;
	ob->o.ctime = ctime;
	ob->o.mtime = later(later(atime, dtime), ctime);
	ob->o.deleted = (perms & SHM_DEST) != 0;   /* stale is decided in inspect.c */
	return ob->o.deleted ? 0 : ipck__obj_url(ob, "svshm:id=%d", id);
}

/* Stale when some pid is recorded and every recorded pid is dead. */
static bool pids_dead(const struct insp *in, const pid_t *pid, size_t n)
{
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		if (pid[i] <= 0)
			continue;
		if (ipck__pid_alive(in, pid[i]))
			return false;
		any = true;
	}
	return any;
}

/* A recorded pid, when it is alive, as a holder of what it last used. */
static int last_user(struct insp *in, struct iobj *ob, pid_t pid, unsigned how)
{
	if (!ipck__pid_alive(in, pid))
		return 0;
	return ipck__obj_hold(in, ob, pid, -1, IPCK_HOLD_LAST | how);
}

static int msg_line(struct insp *in, const char *l)
{
	int key, id;
	pid_t pid[2];
	unsigned perms, uid, gid;
	unsigned long long cbytes, qnum;
	long long stime, rtime, ctime;
	if (sscanf(l, "%d %d %o %llu %llu %d %d %u %u %*u %*u %lld %lld %lld", &key, &id, &perms,
		   &cbytes, &qnum, &pid[0], &pid[1], &uid, &gid, &stime, &rtime, &ctime) != 12)
		return 0;
	struct iobj *ob = sysv_new(in, IPCK_KIND_SVMSG, key, id, perms, uid, gid);
	if (!ob)
		return -ENOMEM;
	ob->o.fields |= IPCK_F_MESSAGES | IPCK_F_BYTES | IPCK_F_LPID;
	ob->o.messages = (long long)qnum;
	ob->o.bytes = cbytes;
	ob->o.lpid = stime >= rtime ? pid[0] : pid[1];
	ob->o.ctime = ctime;
	ob->o.mtime = later(later(stime, rtime), ctime);
	struct msqid_ds ds;
	if (msgctl(id, IPC_STAT, &ds) == 0) {
		ob->o.size = ds.msg_qbytes;
		ob->o.fields |= IPCK_F_SIZE;
	}
	ob->o.stale = pids_dead(in, pid, 2);
	int r = last_user(in, ob, pid[0], IPCK_HOLD_WRITE);
	if (!r)
		r = last_user(in, ob, pid[1], IPCK_HOLD_READ);
	return r ? r : ipck__obj_url(ob, "svmsg:id=%d", id);
}

/* The last pid of every semaphore of a set; stale also needs no waiter. */
static bool sem_stale(const struct insp *in, int id, long long nsems)
{
	bool any = false;
	for (long long i = 0; i < nsems; i++) {
		int pid = semctl(id, (int)i, GETPID);
		if (pid < 0)
			return false;
		if (pid == 0)
			continue;
		if (ipck__pid_alive(in, pid))
			return false;
		if (semctl(id, (int)i, GETNCNT) != 0 || semctl(id, (int)i, GETZCNT) != 0)
			return false;
		any = true;
	}
	return any;
}

static int sem_line(struct insp *in, const char *l)
{
	int key, id;
	unsigned perms, uid, gid;
	unsigned long long nsems;
	long long otime, ctime;
	if (sscanf(l, "%d %d %o %llu %u %u %*u %*u %lld %lld", &key, &id, &perms, &nsems, &uid,
		   &gid, &otime, &ctime) != 8)
		return 0;
	struct iobj *ob = sysv_new(in, IPCK_KIND_SVSEM, key, id, perms, uid, gid);
	if (!ob)
		return -ENOMEM;
	ob->o.fields |= IPCK_F_NSEMS;
	ob->o.nsems = (long long)nsems;
	ob->o.ctime = ctime;
	ob->o.mtime = later(otime, ctime);
	ob->o.stale = sem_stale(in, id, ob->o.nsems);
	int r = 0;
	for (long long i = 0; i < ob->o.nsems && !r; i++)
		r = last_user(in, ob, semctl(id, (int)i, GETPID), 0);
	return r ? r : ipck__obj_url(ob, "svsem:id=%d", id);
}

static int read_table(struct insp *in, const char *path, int (*line)(struct insp *, const char *))
{
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;   /* a kernel without SYSVIPC */
	char *l = NULL;
	size_t cap = 0;
	int r = 0;
	bool header = true;
	while (!r && getline(&l, &cap, f) > 0) {
		if (!header)
			r = line(in, l);
		header = false;
	}
	free(l);
	fclose(f);
	return r;
}

int ipck__sysv_list(struct insp *in)
{
	int r = 0;
	if (insp_want(in, IPCK_KIND_SVSHM))
		r = read_table(in, "/proc/sysvipc/shm", shm_line);
	if (!r && insp_want(in, IPCK_KIND_SVMSG))
		r = read_table(in, "/proc/sysvipc/msg", msg_line);
	if (!r && insp_want(in, IPCK_KIND_SVSEM))
		r = read_table(in, "/proc/sysvipc/sem", sem_line);
	return r;
}

/* ---- removal ------------------------------------------------------------ */

/* "id=N" or a key ("0x1234", "4660"); key 0 is IPC_PRIVATE: name it by id. */
static int sysv_id(int kind, const char *addr)
{
	char *end;
	bool by_id = !strncmp(addr, "id=", 3);
	const char *num = by_id ? addr + 3 : addr;
	if (!*num)
		return -EINVAL;
	errno = 0;
	long long v = strtoll(num, &end, 0);
	if (*end || errno || v < (by_id ? 0 : INT32_MIN) || v > (by_id ? INT32_MAX : UINT32_MAX))
		return -EINVAL;
	if (by_id)
		return (int)v;
	if (v == 0)
		return -EINVAL;
	key_t key = (key_t)(uint32_t)v;
	int id = kind == IPCK_KIND_SVSHM ? shmget(key, 0, 0) :
		 kind == IPCK_KIND_SVSEM ? semget(key, 0, 0) : msgget(key, 0);
	return id < 0 ? -errno : id;
}

static int sysv_owner(int kind, int id, struct ipc_perm *perm)
{
	int r;
	if (kind == IPCK_KIND_SVSHM) {
		struct shmid_ds ds;
		r = shmctl(id, IPC_STAT, &ds);
		*perm = ds.shm_perm;
	} else if (kind == IPCK_KIND_SVSEM) {
		struct semid_ds ds;
		r = semctl(id, 0, IPC_STAT, (union semun_){.buf = &ds});
		*perm = ds.sem_perm;
	} else {
		struct msqid_ds ds;
		r = msgctl(id, IPC_STAT, &ds);
		*perm = ds.msg_perm;
	}
	return r < 0 ? (errno == EINVAL ? -ENOENT : -errno) : 0;
}

int ipck__sysv_remove(int kind, const char *addr, unsigned flags)
{
	int id = sysv_id(kind, addr);
	if (id < 0)
		return id;
	struct ipc_perm perm;
	int r = sysv_owner(kind, id, &perm);
	if (r)
		return r;
	uid_t me = geteuid();
	if (perm.uid != me && perm.cuid != me && !(flags & IPCK_RM_FORCE))
		return -EACCES;
	if (flags & IPCK_RM_DRY_RUN)
		return 0;
	if (kind == IPCK_KIND_SVSHM)
		r = shmctl(id, IPC_RMID, NULL);
	else if (kind == IPCK_KIND_SVSEM)
		r = semctl(id, 0, IPC_RMID);
	else
		r = msgctl(id, IPC_RMID, NULL);
	return r < 0 ? (errno == EINVAL || errno == EIDRM ? -ENOENT : -errno) : 0;
}
