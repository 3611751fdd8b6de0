/*
 * t_ls_sysv.c - ipck_list sees System V segments, semaphore sets and queues
 * made with raw system calls, field by field; an attached child is a holder;
 * an object whose creator died is stale and ipck_remove takes it away; and
 * every object ipcs(1) shows is listed with the same id, key, owner, mode
 * and size.
 */
#include "check.h"
#include "lsfind.h"
#include <pwd.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

static int ready[2], go[2];
static int shm_id;

/* A child that keeps the segment attached until go closes. */
static int attach_child(void *arg)
{
	(void)arg;
	close(go[1]);
	void *p = shmat(shm_id, NULL, SHM_RDONLY);
	if (p == (void *)-1 || write(ready[1], "x", 1) != 1)
		return 1;
	char c;
	while (read(go[0], &c, 1) > 0)
		;
	return 0;
}

static int make_shm(void *arg)
{
	return shmget((key_t) * (long *)arg, 4096, IPC_CREAT | IPC_EXCL | 0600) < 0;
}

static int make_sem(void *arg)
{
	int id = semget((key_t) * (long *)arg, 2, IPC_CREAT | IPC_EXCL | 0600);
	struct sembuf op = {.sem_num = 1, .sem_op = 1};
	return id < 0 || semop(id, &op, 1) < 0;
}

static const char *keypat(long key)
{
	return fmt("0x%08lx", key);
}

static void check_segment(void)
{
	long key = test_key(1);
	shm_id = shmget((key_t)key, 10000, IPC_CREAT | IPC_EXCL | 0640);
	REQUIRE(shm_id >= 0);
	CHECK_SYS(pipe(ready));
	CHECK_SYS(pipe(go));
	pid_t child = spawn(attach_child, NULL);
	char c;
	CHECK_EQ(read(ready[0], &c, 1), 1);

	struct lsobj o[2];
	REQUIRE(ls_find(IPCK_KIND_SVSHM, keypat(key), 0, o, 2, NULL) == 1);
	CHECK_EQ(o[0].o.kind, IPCK_KIND_SVSHM);
	CHECK_EQ(o[0].o.id, shm_id);
	CHECK_EQ(o[0].o.key, key);
	CHECK_EQ(o[0].o.uid, geteuid());
	CHECK_EQ(o[0].o.mode, 0640);
	CHECK_EQ(o[0].o.size, 10000);
	CHECK_EQ(o[0].o.nattch, 1);
	CHECK_EQ(o[0].o.cpid, getpid());
	CHECK(!o[0].o.stale);
	CHECK(!strcmp(o[0].url, fmt("svshm:id=%d", shm_id)));
	const struct ipck_holder *h = ls_holder(&o[0], child);
	CHECK(h && (h->how & IPCK_HOLD_MAP) && h->fd == -1);

	close(go[1]);
	CHECK_EQ(reap(child), 0);
	REQUIRE(ls_find(IPCK_KIND_SVSHM, keypat(key), 0, o, 2, NULL) == 1);
	CHECK_EQ(o[0].o.nattch, 0);
	CHECK_EQ(o[0].nh, 0);
	CHECK(!o[0].o.stale);   /* its creator, this process, lives */
	CHECK_OK(ipck_remove(o[0].url, 0));
	CHECK_EQ(ls_find(IPCK_KIND_SVSHM, keypat(key), 0, o, 2, NULL), 0);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
}

/* Made by a child that is gone: stale, and ipck_remove by key removes it. */
static void check_stale(int kind, int (*make)(void *), long key, const char *scheme)
{
	pid_t child = spawn(make, &key);
	CHECK_EQ(reap(child), 0);
	struct lsobj o[2];
	REQUIRE(ls_find(kind, keypat(key), IPCK_LIST_STALE, o, 2, NULL) == 1);
	CHECK(o[0].o.stale);
	if (kind == IPCK_KIND_SVSHM)
		CHECK_EQ(o[0].o.cpid, child);
	if (kind == IPCK_KIND_SVSEM)
		CHECK_EQ(o[0].o.nsems, 2);
	CHECK_EQ(ipck_remove(fmt("%s:0x%lx", scheme, key), IPCK_RM_DRY_RUN), 0);
	CHECK_EQ(ls_find(kind, keypat(key), 0, o, 2, NULL), 1);
	CHECK_OK(ipck_remove(fmt("%s:0x%lx", scheme, key), 0));
	CHECK_EQ(ls_find(kind, keypat(key), 0, o, 2, NULL), 0);
	CHECK_EQ(ipck_remove(fmt("%s:0x%lx", scheme, key), 0), -ENOENT);
}

static void check_queue(void)
{
	long key = test_key(4);
	int id = msgget((key_t)key, IPC_CREAT | IPC_EXCL | 0600);
	REQUIRE(id >= 0);
	struct {
		long type;
		char text[32];
	} m = {.type = 1};
	CHECK_SYS(msgsnd(id, &m, 10, 0));
	CHECK_SYS(msgsnd(id, &m, 20, 0));
	struct msqid_ds ds;
	CHECK_SYS(msgctl(id, IPC_STAT, &ds));
	struct lsobj o[2];
	REQUIRE(ls_find(IPCK_KIND_SVMSG, keypat(key), 0, o, 2, NULL) == 1);
	CHECK_EQ(o[0].o.id, id);
	CHECK_EQ(o[0].o.messages, 2);
	CHECK_EQ(o[0].o.bytes, 30);
	CHECK_EQ(o[0].o.size, ds.msg_qbytes);
	CHECK_EQ(o[0].o.lpid, getpid());
	CHECK_EQ(o[0].o.mode, 0600);
	CHECK(!o[0].o.stale);
	CHECK_OK(ipck_remove(fmt("svmsg:id=%d", id), 0));
}

/* ---- against ipcs ------------------------------------------------------- */

struct sv {
	int kind, id;
	long long key, size;
	uid_t uid;
	unsigned mode;
};
static struct sv seen[8192];
static int nseen;

static int keep(const struct ipck_obj *o, void *arg)
{
	(void)arg;
	if (nseen < 8192)
		seen[nseen++] = (struct sv){o->kind, (int)o->id, o->key,
			o->kind == IPCK_KIND_SVSEM ? o->nsems :
			o->kind == IPCK_KIND_SVMSG ? (long long)o->bytes : (long long)o->size,
			o->uid, o->mode};
	return 0;
}

/* "0x7e120001 32769 root 640 10000 ..." lines of ipcs -m/-s/-q; malloc'd. */
static char *ipcs(const char *opt)
{
	FILE *f = popen(fmt("ipcs %s 2>/dev/null", opt), "r");
	size_t cap = 1 << 22;
	char *b = malloc(cap);
	REQUIRE(f && b);
	size_t n = fread(b, 1, cap - 1, f);
	b[n] = '\0';
	CHECK_EQ(pclose(f), 0);
	return b;
}

static void compare_line(int kind, const char *line, const char *again)
{
	char owner[64];
	unsigned long long key;
	int id;
	unsigned mode;
	long long size;
	if (sscanf(line, "%llx %d %63s %o %lld", &key, &id, owner, &mode, &size) != 5)
		return;
	if (!strstr(again, line))
		return;   /* changed while we looked: someone else's object */
	for (int i = 0; i < nseen; i++) {
		if (seen[i].kind != kind || seen[i].id != id)
			continue;
		struct passwd *pw = getpwuid(seen[i].uid);
		const char *name = pw ? pw->pw_name : fmt("%u", (unsigned)seen[i].uid);
		CHECK_EQ(seen[i].key, key);
		CHECK(!strncmp(owner, name, strlen(owner)));   /* ipcs cuts long names */
		CHECK_EQ(seen[i].mode, mode);
		CHECK_EQ(seen[i].size, size);
		return;
	}
	check_fail(__FILE__, __LINE__, "ipcs shows %s id %d, ipck_list does not",
		   ipck_kind_name(kind), id);
}

static void compare(int kind, const char *before, const char *after)
{
	char *copy = strdup(before), *save = NULL;
	REQUIRE(copy);
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (!strncmp(l, "0x", 2))
			compare_line(kind, l, after);
	free(copy);
}

static void check_ipcs(void)
{
	long key = test_key(5);
	int shm = shmget((key_t)key, 5000, IPC_CREAT | IPC_EXCL | 0604);
	int sem = semget((key_t)key, 3, IPC_CREAT | IPC_EXCL | 0660);
	int msg = msgget((key_t)key, IPC_CREAT | IPC_EXCL | 0620);
	REQUIRE(shm >= 0 && sem >= 0 && msg >= 0);
	char *m0 = ipcs("-m"), *s0 = ipcs("-s"), *q0 = ipcs("-q");
	struct ipck_list_opts op = {.kinds = IPCK_KIND_BIT(IPCK_KIND_SVSHM) |
		IPCK_KIND_BIT(IPCK_KIND_SVSEM) | IPCK_KIND_BIT(IPCK_KIND_SVMSG)};
	CHECK_OK(ipck_list(&op, keep, NULL));
	char *m1 = ipcs("-m"), *s1 = ipcs("-s"), *q1 = ipcs("-q");
	CHECK(strstr(m0, fmt("0x%08lx %-10d", key, shm)) != NULL);
	compare(IPCK_KIND_SVSHM, m0, m1);
	compare(IPCK_KIND_SVSEM, s0, s1);
	compare(IPCK_KIND_SVMSG, q0, q1);
	char *all[] = {m0, s0, q0, m1, s1, q1};
	for (int i = 0; i < 6; i++)
		free(all[i]);
	CHECK_SYS(shmctl(shm, IPC_RMID, NULL));
	CHECK_SYS(semctl(sem, 0, IPC_RMID));
	CHECK_SYS(msgctl(msg, IPC_RMID, NULL));
}

int main(void)
{
	check_segment();
	check_stale(IPCK_KIND_SVSHM, make_shm, test_key(2), "svshm");
	check_stale(IPCK_KIND_SVSEM, make_sem, test_key(3), "svsem");
	check_queue();
	check_ipcs();
	check_exit();
}
