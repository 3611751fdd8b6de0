/*
 * t_ls_posix.c - ipck_list sees POSIX shared memory, named semaphores and
 * message queues made with raw calls, field by field, with the processes
 * holding them (descriptor or mapping), whether /dev/mqueue is mounted or
 * not; ipck_remove removes each by URL.
 */
#include "check.h"
#include "lsfind.h"
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int ready[2], go[2];
static const char *shm_name;
static int shm_fd;

/* A child that maps the segment (and closes its descriptor) until go closes. */
static int map_child(void *arg)
{
	(void)arg;
	close(go[1]);
	close(shm_fd);   /* the parent's */
	int fd = shm_open(shm_name, O_RDWR, 0);
	void *p = fd >= 0 ? mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
	if (p == MAP_FAILED || close(fd) < 0 || write(ready[1], "x", 1) != 1)
		return 1;
	char c;
	while (read(go[0], &c, 1) > 0)
		;
	return 0;
}

static void check_shm(void)
{
	shm_name = fmt("/%s-shm", test_tag());
	int fd = shm_fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0640);
	REQUIRE(fd >= 0);
	CHECK_SYS(ftruncate(fd, 12288));
	CHECK_SYS(pipe(ready));
	CHECK_SYS(pipe(go));
	pid_t child = spawn(map_child, NULL);
	char c;
	CHECK_EQ(read(ready[0], &c, 1), 1);

	struct lsobj o[2];
	REQUIRE(ls_find(IPCK_KIND_PSHM, shm_name, 0, o, 2, NULL) == 1);
	CHECK(!strcmp(o[0].name, shm_name));
	CHECK(!strcmp(o[0].url, fmt("pshm:%s", shm_name)));
	CHECK_EQ(o[0].o.size, 12288);
	CHECK_EQ(o[0].o.mode, 0640);
	CHECK_EQ(o[0].o.uid, geteuid());
	CHECK(o[0].o.fields & IPCK_F_MTIME);
	CHECK(!o[0].o.stale);   /* no creator known: never stale */
	const struct ipck_holder *me = ls_holder(&o[0], getpid()), *kid = ls_holder(&o[0], child);
	CHECK(me && me->fd == fd && (me->how & IPCK_HOLD_READ) && (me->how & IPCK_HOLD_WRITE));
	CHECK(kid && kid->fd == -1 && kid->how == IPCK_HOLD_MAP);

	/* Unlinked but still mapped by the child: listed as deleted, no URL. */
	CHECK_OK(ipck_remove(o[0].url, 0));
	close(fd);
	REQUIRE(ls_find(IPCK_KIND_PSHM, shm_name, 0, o, 2, NULL) == 1);
	CHECK(o[0].o.deleted);
	CHECK(o[0].o.url == NULL);
	CHECK(ls_holder(&o[0], child) != NULL);
	close(go[1]);
	CHECK_EQ(reap(child), 0);
	CHECK_EQ(ls_find(IPCK_KIND_PSHM, shm_name, 0, o, 2, NULL), 0);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
}

static void check_sem(void)
{
	const char *name = fmt("/%s-sem", test_tag());
	sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 5);
	REQUIRE(s != SEM_FAILED);
	CHECK_SYS(sem_wait(s));
	struct lsobj o[2];
	REQUIRE(ls_find(IPCK_KIND_PSEM, name, 0, o, 2, NULL) == 1);
	CHECK(!strcmp(o[0].name, name));
	CHECK_EQ(o[0].o.value, 4);
	CHECK_EQ(o[0].o.mode, 0600);
	const struct ipck_holder *me = ls_holder(&o[0], getpid());
	CHECK(me && (me->how & IPCK_HOLD_MAP));
	CHECK_EQ(ls_find(IPCK_KIND_PSHM, fmt("*%s*", test_tag()), 0, o, 2, NULL), 0);
	CHECK_OK(ipck_remove(fmt("psem:%s", name), 0));
	CHECK_EQ(sem_close(s), 0);
	CHECK_EQ(ls_find(IPCK_KIND_PSEM, name, 0, o, 2, NULL), 0);
}

static void check_queue(void)
{
	const char *name = fmt("/%s-mq", test_tag());
	struct mq_attr a = {.mq_maxmsg = 4, .mq_msgsize = 64};
	mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0620, &a);
	REQUIRE(q != (mqd_t)-1);
	CHECK_SYS(mq_send(q, "0123456789", 10, 0));
	CHECK_SYS(mq_send(q, "abc", 3, 0));
	struct lsobj o[2];
	unsigned missing;
	REQUIRE(ls_find(IPCK_KIND_PMSG, name, 0, o, 2, &missing) == 1);
	CHECK(!strcmp(o[0].name, name));
	CHECK_EQ(o[0].o.messages, 2);
	CHECK_EQ(o[0].o.bytes, 13);
	CHECK_EQ(o[0].o.size, 4 * 64);
	CHECK_EQ(o[0].o.mode, 0620);
	CHECK(!(o[0].o.fields & IPCK_F_CTIME));   /* reading QSIZE would set it */
	const struct ipck_holder *me = ls_holder(&o[0], getpid());
	CHECK(me && me->fd == (int)q);
	/* Root always sees every queue (a private mount); others see held ones. */
	if (geteuid() == 0)
		CHECK_EQ(missing & IPCK_MISSING_PMSG, 0);
	CHECK_OK(ipck_remove(fmt("pmsg:%s", name), 0));
	REQUIRE(ls_find(IPCK_KIND_PMSG, name, 0, o, 2, NULL) == 1);
	CHECK(o[0].o.deleted);   /* still open here */
	CHECK_SYS(mq_close(q));
	CHECK_EQ(ls_find(IPCK_KIND_PMSG, name, 0, o, 2, NULL), 0);
	CHECK_EQ(ipck_remove(fmt("pmsg:%s", name), 0), -ENOENT);
}

/*
 * Without privilege and without /dev/mqueue, a queue is found only while a
 * process holds it, and the listing says so (run as nobody, in a child).
 */
static int held_only(void *arg)
{
	const char *name = arg;
	if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
		return 10;
	struct mq_attr a = {.mq_maxmsg = 3, .mq_msgsize = 16};
	mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
	if (q == (mqd_t)-1)
		return 11;
	mq_send(q, "hello", 5, 0);
	struct lsobj o[2];
	unsigned missing = 0;
	int n = ls_find(IPCK_KIND_PMSG, name, 0, o, 2, &missing);
	mq_unlink(name);
	if (n != 1)
		return 12;
	if (!(missing & IPCK_MISSING_PMSG))
		return 13;
	if (o[0].o.messages != 1 || o[0].o.bytes != 5 || o[0].o.size != 48 || o[0].o.uid != 65534)
		return 14;
	return ls_holder(&o[0], getpid()) ? 0 : 15;
}

static void check_held_only(void)
{
	if (geteuid() != 0 || access("/dev/mqueue", F_OK) == 0) {
		fprintf(stderr, "held-only queues: needs root and no /dev/mqueue; not run\n");
		return;
	}
	const char *name = fmt("/%s-nobody", test_tag());
	CHECK_EQ(reap(spawn(held_only, (void *)name)), 0);
	mq_unlink(name);
}

int main(void)
{
	umask(0);
	check_held_only();
	check_shm();
	check_sem();
	check_queue();
	check_exit();
}
