/*
 * t_shm_sem.c - the primitives: shared segments (POSIX, System V, mapped
 * file) and semaphores (POSIX named and unnamed, System V sets with and
 * without SEM_UNDO), each between two real processes.
 */
#include "check.h"
#include "ipckit.h"
#include <signal.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEG 8192
static const char *url;

/* ---- segments ----------------------------------------------------------------------- */

static int seg_child(void *arg)
{
	(void)arg;
	ipck_shm *s;
	void *p;
	REQUIRE(ipck_shm_open(&s, url) == 0);
	CHECK_EQ(ipck_shm_size(s), SEG);
	REQUIRE(ipck_shm_map(s, &p) == 0);
	CHECK(check_pattern(p, SEG / 2, 42));
	fill_pattern((char *)p + SEG / 2, SEG / 2, 43);   /* the answer */
	CHECK_OK(ipck_shm_close(s));
	return check_failures ? 1 : 0;
}

static unsigned mode_of(const char *scheme, const char *u)
{
	struct stat st;
	if (!strcmp(scheme, "svshm")) {
		struct shmid_ds ds;
		int id = shmget((key_t)strtoul(u + 6, NULL, 0), 0, 0);
		return id >= 0 && shmctl(id, IPC_STAT, &ds) == 0 ? ds.shm_perm.mode & 0777 : 0;
	}
	const char *path = !strcmp(scheme, "pshm") ? fmt("/dev/shm%s", u + 5) : u + 5;
	return stat(path, &st) == 0 ? st.st_mode & 07777 : 0;
}

static void test_segment(const char *scheme)
{
	ipck_shm *s, *t;
	void *p;
	url = test_url(scheme);
	mode_t old = umask(022);
	REQUIRE(ipck_shm_create(&s, fmt("%s?mode=0660", url), SEG) == 0);
	umask(old);
	CHECK_EQ(mode_of(scheme, url), 0660);   /* exactly, whatever the umask */
	CHECK_EQ(ipck_shm_create(&t, url, SEG), -EADDRINUSE);
	CHECK(t == NULL);
	CHECK_EQ(ipck_shm_size(s), SEG);
	REQUIRE(ipck_shm_map(s, &p) == 0);
	fill_pattern(p, SEG / 2, 42);
	CHECK_EQ(reap(spawn(seg_child, NULL)), 0);
	CHECK(check_pattern((char *)p + SEG / 2, SEG / 2, 43));
	CHECK_OK(ipck_shm_close(s));
	CHECK_OK(ipck_shm_unlink(url));
	CHECK_EQ(ipck_shm_unlink(url), -ENOENT);
	CHECK_EQ(ipck_shm_open(&t, url), -ENOENT);
}

static void test_segment_misc(void)
{
	ipck_shm *s, *t;
	void *p;
	/* System V by id. */
	const char *u = test_url("svshm");
	REQUIRE(ipck_shm_create(&s, u, 4096) == 0);
	int id = shmget((key_t)strtoul(u + 6, NULL, 0), 0, 0);
	CHECK(id >= 0);
	CHECK_OK(ipck_shm_open(&t, fmt("svshm:id=%d", id)));
	if (t) {
		CHECK_EQ(ipck_shm_size(t), 4096);
		CHECK_OK(ipck_shm_map(t, &p));
		CHECK_OK(ipck_shm_close(t));
	}
	CHECK_EQ(ipck_shm_create(&t, fmt("svshm:id=%d", id), 4096), -EINVAL);
	CHECK_OK(ipck_shm_close(s));
	CHECK_OK(ipck_shm_unlink(u));
	/* A symbolic link is never followed, to create or to open. */
	const char *target = fmt("%s/target", test_dir()), *link = fmt("%s/link", test_dir());
	REQUIRE(ipck_shm_create(&s, fmt("mmap:%s", target), 4096) == 0);
	REQUIRE(symlink(target, link) == 0);
	CHECK_EQ(ipck_shm_create(&t, fmt("mmap:%s", link), 4096), -EADDRINUSE);
	CHECK_EQ(ipck_shm_open(&t, fmt("mmap:%s", link)), -EACCES);
	CHECK_OK(ipck_shm_close(s));
	unlink(link);
	CHECK_OK(ipck_shm_unlink(fmt("mmap:%s", target)));
	/* Bad addresses and options. */
	CHECK_EQ(ipck_shm_create(&s, "pshm:noslash", 4096), -EINVAL);
	CHECK_EQ(ipck_shm_create(&s, "pshm:/a/b", 4096), -EINVAL);
	CHECK_EQ(ipck_shm_create(&s, "svshm:0", 4096), -EINVAL);
	CHECK_EQ(ipck_shm_create(&s, fmt("%s?capacity=4096", test_url("pshm")), 4096), -EINVAL);
	CHECK_EQ(ipck_shm_create(&s, test_url("pshm"), 0), -EINVAL);
	CHECK_EQ(ipck_shm_create(&s, "fifo:/x", 4096), -EINVAL);
}

/* ---- semaphores ---------------------------------------------------------------------- */

static int sem_waiter(void *arg)
{
	ipck_sem *s;
	(void)arg;
	REQUIRE(ipck_sem_open(&s, url) == 0);
	CHECK_OK(ipck_sem_wait(s, 0, 10000));   /* the parent posts */
	CHECK_OK(ipck_sem_post(s, 0));          /* and answers */
	CHECK_OK(ipck_sem_close(s));
	return check_failures ? 1 : 0;
}

static void sem_pingpong(ipck_sem *s, int (*child)(void *))
{
	pid_t pid = spawn(child, NULL);
	usleep(20000);
	CHECK_EQ(ipck_sem_value(s, 0), 0);
	CHECK_OK(ipck_sem_post(s, 0));
	usleep(20000);
	CHECK_OK(ipck_sem_wait(s, 0, 10000));
	CHECK_EQ(reap(pid), 0);
	CHECK_EQ(ipck_sem_value(s, 0), 0);
}

static void sem_timeouts(ipck_sem *s, unsigned i)
{
	long long t0 = now_ms();
	CHECK_EQ(ipck_sem_wait(s, i, 0), -ETIMEDOUT);
	CHECK(now_ms() - t0 < 100);
	t0 = now_ms();
	CHECK_EQ(ipck_sem_wait(s, i, 50), -ETIMEDOUT);
	long long dt = now_ms() - t0;
	CHECK(dt >= 45 && dt < 1000);
}

static void test_psem(void)
{
	ipck_sem *s, *t;
	url = fmt("psem:/%s-sem", test_tag());
	REQUIRE(ipck_sem_create(&s, url, 1, 0) == 0);
	CHECK_EQ(ipck_sem_create(&t, url, 1, 0), -EADDRINUSE);
	sem_timeouts(s, 0);
	sem_pingpong(s, sem_waiter);
	CHECK_EQ(ipck_sem_post(s, 1), -EINVAL);
	CHECK_OK(ipck_sem_close(s));
	CHECK_OK(ipck_sem_unlink(url));
	CHECK_EQ(ipck_sem_unlink(url), -ENOENT);
	CHECK_EQ(ipck_sem_open(&t, url), -ENOENT);
	CHECK_EQ(ipck_sem_create(&t, url, 2, 0), -EINVAL);
}

/* Unnamed: a sem_t inside a POSIX segment both processes map. */
static int mem_waiter(void *arg)
{
	ipck_shm *m;
	ipck_sem *s;
	void *p;
	(void)arg;
	REQUIRE(ipck_shm_open(&m, url) == 0 && ipck_shm_map(m, &p) == 0);
	REQUIRE(ipck_sem_attach(&s, p) == 0);
	CHECK_OK(ipck_sem_wait(s, 0, 10000));
	CHECK_OK(ipck_sem_post(s, 0));
	CHECK_OK(ipck_sem_close(s));
	CHECK_OK(ipck_shm_close(m));
	return check_failures ? 1 : 0;
}

static void test_psem_unnamed(void)
{
	ipck_shm *m;
	ipck_sem *s;
	void *p;
	url = test_url("pshm");
	REQUIRE(ipck_shm_create(&m, url, 4096) == 0 && ipck_shm_map(m, &p) == 0);
	CHECK_EQ(ipck_sem_init(&s, (char *)p + 4, 0), -EINVAL);   /* misaligned */
	REQUIRE(ipck_sem_init(&s, p, 0) == 0);
	sem_timeouts(s, 0);
	sem_pingpong(s, mem_waiter);
	CHECK_OK(ipck_sem_close(s));
	CHECK_OK(ipck_shm_close(m));
	CHECK_OK(ipck_shm_unlink(url));
}

/* Takes semaphore 1 (a lock) and dies holding it. */
static int lock_holder(void *arg)
{
	ipck_sem *s;
	(void)arg;
	REQUIRE(ipck_sem_open(&s, url) == 0);
	REQUIRE(ipck_sem_wait(s, 1, 1000) == 0);
	kill(getpid(), SIGKILL);
	return 1;
}

static void test_svsem(void)
{
	ipck_sem *s, *t;
	const char *base = fmt("svsem:0x%lx", test_key(7));
	REQUIRE(ipck_sem_create(&s, base, 3, 2) == 0);
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ(ipck_sem_value(s, i), 2);
	CHECK_EQ(ipck_sem_value(s, 3), -EINVAL);
	CHECK_EQ(ipck_sem_create(&t, base, 1, 0), -EADDRINUSE);
	CHECK_OK(ipck_sem_wait(s, 0, 0));
	CHECK_OK(ipck_sem_wait(s, 0, 0));
	sem_timeouts(s, 0);
	url = base;
	sem_pingpong(s, sem_waiter);
	/* Killed holding a lock: with SEM_UNDO the kernel gives it back. */
	url = fmt("%s?undo=1", base);
	CHECK_EQ(reap(spawn(lock_holder, NULL)), 128 + SIGKILL);
	CHECK_EQ(ipck_sem_value(s, 1), 2);
	url = base;
	CHECK_EQ(reap(spawn(lock_holder, NULL)), 128 + SIGKILL);
	CHECK_EQ(ipck_sem_value(s, 1), 1);   /* without, it stays taken */
	CHECK_EQ(ipck_sem_open(&t, "psem:/x?undo=1"), -EINVAL);
	CHECK_OK(ipck_sem_close(s));
	CHECK_OK(ipck_sem_unlink(base));
	CHECK_EQ(ipck_sem_unlink(base), -ENOENT);
	CHECK_EQ(ipck_sem_create(&s, "svsem:nokey", 1, 0), -EINVAL);
	CHECK_EQ(ipck_sem_create(&s, "xsem:/a", 1, 0), -EINVAL);
}

int main(void)
{
	test_segment("pshm");
	test_segment("svshm");
	test_segment("mmap");
	test_segment_misc();
	test_psem();
	test_psem_unnamed();
	test_svsem();
	check_exit();
}
