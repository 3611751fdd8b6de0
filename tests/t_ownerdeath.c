/*
 * t_ownerdeath.c - a process SIGKILLed inside a semaphore-guarded section,
 * again and again (seeded), and the next user: it gets the lock back, or a
 * clear error; never a hang (every wait here has a deadline).
 *   - System V set with ?undo=1 (SEM_UNDO): the kernel gives the lock back;
 *     the next waiter gets it (recovery time printed).
 *   - System V without undo, POSIX named and unnamed: a semaphore has no
 *     owner, so nothing can say "owner died": the next waiter gets
 *     -ETIMEDOUT at its deadline, never blocks past it.
 *   - The rings' MPMC locks (pshm, svshm, mmap ?mpmc=1): a producer killed
 *     between reserve and commit (holding the producers' lock) after a
 *     seeded number of messages: the next producer sends, the consumer gets
 *     every committed message once, and never the dead one's record.
 *
 *   IPCK_SEED=N   (printed)
 */
#include "check.h"
#include "ipckit.h"
#include <limits.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#define ROUNDS 12

static uint64_t seed;
static const char *url;
static int ready[2];

static unsigned rnd(unsigned n)
{
	seed = seed * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)(seed >> 33) % n;
}

/* Take the lock (semaphore 0), say so, and wait inside for the kill. */
static int holder(void *mem)
{
	ipck_sem *s;
	int r = mem ? ipck_sem_attach(&s, mem) : ipck_sem_open(&s, url);
	if (r || ipck_sem_wait(s, 0, 2000) || write(ready[1], "h", 1) != 1)
		return 1;
	pause();
	return 0;
}

static void kill_inside(pid_t pid)
{
	char b;
	CHECK_EQ(read(ready[0], &b, 1), 1);
	usleep(rnd(2000));
	kill(pid, SIGKILL);
	CHECK_EQ(reap(pid), 128 + SIGKILL);
}

/* ROUNDS kills inside; undo: the next wait succeeds, else it times out. */
static void sem_rounds(const char *what, ipck_sem *s, void *mem, bool undo)
{
	long long worst = 0;
	for (int i = 0; i < ROUNDS; i++) {
		kill_inside(spawn(holder, mem));
		long long t0 = now_ms();
		int r = ipck_sem_wait(s, 0, undo ? 2000 : 100);
		long long dt = now_ms() - t0;
		worst = dt > worst ? dt : worst;
		CHECK_EQ(r, undo ? 0 : -ETIMEDOUT);
		CHECK(dt < (undo ? 2000 : 1000));
		CHECK_OK(ipck_sem_post(s, 0));   /* give back ours, or the dead one's */
	}
	printf("%-26s %d holders killed inside: next waiter %s (worst %lld ms)\n", what, ROUNDS,
	       undo ? "got the lock" : "-ETIMEDOUT at its deadline", worst);
}

static void test_sems(void)
{
	ipck_sem *s;
	char base[64];
	snprintf(base, sizeof(base), "svsem:0x%lx", test_key(200));
	REQUIRE(ipck_sem_create(&s, base, 1, 1) == 0);
	url = fmt("%s?undo=1", base);
	sem_rounds("svsem ?undo=1 (SEM_UNDO)", s, NULL, true);
	url = base;
	sem_rounds("svsem without undo", s, NULL, false);
	CHECK_OK(ipck_sem_close(s));
	CHECK_OK(ipck_sem_unlink(base));

	snprintf(base, sizeof(base), "psem:/%s-od", test_tag());
	REQUIRE(ipck_sem_create(&s, base, 1, 1) == 0);
	url = base;
	sem_rounds("psem (named)", s, NULL, false);
	CHECK_OK(ipck_sem_close(s));
	CHECK_OK(ipck_sem_unlink(base));

	void *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(mem != MAP_FAILED);
	REQUIRE(ipck_sem_init(&s, mem, 1) == 0);
	sem_rounds("POSIX unnamed (shared mem)", s, mem, false);
	CHECK_OK(ipck_sem_close(s));
	munmap(mem, 4096);
}

/* ---- the rings' MPMC producer lock ----------------------------------------------- */

static int producer(void *arg)
{
	unsigned k = (unsigned)(uintptr_t)arg;
	ipck_chan *c;
	void *p;
	if (ipck_open(&c, url, 0))
		return 1;
	for (unsigned i = 0; i < k; i++)
		if (ipck_send(c, &i, sizeof(i), 2000) != sizeof(i))
			return 1;
	if (ipck_reserve(c, 64, &p, 2000))
		return 1;
	memset(p, 0xee, 64);   /* never committed */
	if (write(ready[1], "p", 1) != 1)
		return 1;
	pause();
	return 0;
}

static void ring_rounds(const char *scheme)
{
	ipck_chan *l, *h;
	char u[PATH_MAX];
	long long worst = 0;
	snprintf(u, sizeof(u), "%s?mpmc=1&capacity=65536", test_url(scheme));
	url = u;
	REQUIRE(ipck_open(&l, url, IPCK_LISTEN) == 0);
	for (int i = 0; i < ROUNDS; i++) {
		unsigned k = rnd(200), v;
		pid_t pid = spawn(producer, (void *)(uintptr_t)k);
		CHECK_OK(ipck_accept(l, &h, 5000));
		if (!h)
			break;
		kill_inside(pid);
		long long t0 = now_ms();
		CHECK_EQ(ipck_send(h, "next", 4, 2000), 4);   /* the lock came back */
		long long dt = now_ms() - t0;
		worst = dt > worst ? dt : worst;
		for (unsigned m = 0; m < k; m++) {
			CHECK_EQ(ipck_recv(h, &v, sizeof(v), 2000), sizeof(v));
			CHECK_EQ(v, m);
		}
		char b[64];
		CHECK_EQ(ipck_recv(h, b, sizeof(b), 2000), 4);   /* not the dead one's 64 */
		CHECK(!memcmp(b, "next", 4));
		CHECK_EQ(ipck_recv(h, b, sizeof(b), 0), -ETIMEDOUT);
		CHECK_OK(ipck_close(h));
	}
	CHECK_OK(ipck_close(l));
	printf("%-26s %d producers killed holding the lock: the next sent (worst %lld ms), "
	       "every committed message once\n", fmt("%s ?mpmc=1", scheme), ROUNDS, worst);
}

int main(void)
{
	const char *e = getenv("IPCK_SEED");
	setvbuf(stdout, NULL, _IOLBF, 0);
	seed = e && *e ? strtoull(e, NULL, 0) : (uint64_t)now_ms() ^ (uint64_t)getpid() << 16;
	printf("seed %llu (IPCK_SEED=%llu to repeat)\n", (unsigned long long)seed,
	       (unsigned long long)seed);
	REQUIRE(pipe(ready) == 0);
	test_sems();
	ring_rounds("pshm");
	ring_rounds("svshm");
	ring_rounds("mmap");
	check_exit();
}
