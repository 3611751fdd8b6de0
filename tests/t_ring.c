/*
 * t_ring.c - the shared-memory rings (pshm:, svshm:, mmap:) between real
 * processes, beyond the conformance test:
 *   echo at sizes 0, 1, 63, 64, 65, capacity/2 and the largest that fits;
 *   wrap-around under load: 200000 messages of varied sizes through a small
 *     ring, each checked, and a checksum of the whole stream;
 *   the zero-copy API (reserve/commit, peek/release) and its misuse;
 *   an event loop on ipck_pollfd: bursts and pauses, no wake-up lost;
 *   MPMC: 4 producers and 4 consumers, every message counted exactly once;
 *   MPMC: a producer killed between reserve and commit, a consumer killed
 *     between peek and release, do not block the others;
 *   and a pair ("pshm:") driven by two threads of one process (for TSAN=1).
 *
 *   t_ring [SCHEME...]    (default: pshm svshm mmap)
 */
#include "check.h"
#include "ipckit.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#define CAP 65536
static const char *url;   /* the URL under test, set before each spawn */

static const char *ring_url(const char *scheme, const char *opts)
{
	return fmt("%s?%s", test_url(scheme), opts);
}

/* A listener at url with one client process running fn; the accepted channel. */
static ipck_chan *serve_one(ipck_chan **l, int (*fn)(void *), pid_t *pid)
{
	ipck_chan *s = NULL;
	int r = ipck_open(l, url, IPCK_LISTEN);
	CHECK_OK(r);
	if (r < 0)
		return NULL;
	*pid = spawn(fn, NULL);
	CHECK_OK(ipck_accept(*l, &s, 10000));
	return s;
}

/* ---- echo -------------------------------------------------------------------- */

static int echo_client(void *arg)
{
	(void)arg;
	ipck_chan *c;
	REQUIRE(ipck_open(&c, url, 0) == 0);
	size_t max = ipck_max_msg(c);
	CHECK_EQ(max, CAP - 8);
	size_t sizes[] = {0, 1, 63, 64, 65, CAP / 2, max, 7, max, 0};
	unsigned char *buf = malloc(max + 1), *back = malloc(max + 1);
	REQUIRE(buf && back);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill_pattern(buf, sizes[i], (unsigned)i);
		CHECK_EQ(ipck_send(c, buf, sizes[i], 5000), sizes[i]);
		ssize_t n = ipck_recv(c, back, max, 5000);
		CHECK_EQ(n, sizes[i]);
		CHECK(n == (ssize_t)sizes[i] && check_pattern(back, sizes[i], (unsigned)i));
	}
	CHECK_EQ(ipck_send(c, buf, max + 1, 0), -EMSGSIZE);
	CHECK_OK(ipck_close(c));
	free(buf);
	free(back);
	return check_failures ? 1 : 0;
}

static void echo_server(ipck_chan *s)
{
	unsigned char *buf = malloc(CAP);
	REQUIRE(buf);
	ssize_t n;
	int count = 0;
	while ((n = ipck_recv(s, buf, CAP, 5000)) >= 0) {
		CHECK_EQ(ipck_send(s, buf, (size_t)n, 5000), n);
		count++;
	}
	CHECK_EQ(n, -EPIPE);
	CHECK_EQ(count, 10);
	free(buf);
}

static void test_echo(const char *scheme)
{
	ipck_chan *l, *s;
	pid_t pid;
	url = ring_url(scheme, "capacity=65536");
	if ((s = serve_one(&l, echo_client, &pid))) {
		echo_server(s);
		CHECK_OK(ipck_close(s));
	}
	CHECK_EQ(reap(pid), 0);
	CHECK_OK(ipck_close(l));
}

/* "svshm:id=N": a client may name the listener's segment by its id. */
static int id_client(void *arg)
{
	ipck_chan *c;
	char b[8];
	REQUIRE(ipck_open(&c, arg, 0) == 0);
	CHECK_EQ(ipck_send(c, "by id", 5, 5000), 5);
	CHECK_EQ(ipck_recv(c, b, sizeof(b), 5000), 2);
	CHECK_OK(ipck_close(c));
	return check_failures ? 1 : 0;
}

static void test_svshm_id(void)
{
	ipck_chan *l, *s;
	char b[8];
	long key = test_key(200);
	REQUIRE(ipck_open(&l, fmt("svshm:0x%lx", key), IPCK_LISTEN) == 0);
	int id = shmget((key_t)key, 0, 0);
	CHECK(id >= 0);
	pid_t pid = spawn(id_client, (void *)fmt("svshm:id=%d", id));
	CHECK_OK(ipck_accept(l, &s, 10000));
	if (s) {
		CHECK_EQ(ipck_recv(s, b, sizeof(b), 5000), 5);
		CHECK_EQ(ipck_send(s, "ok", 2, 5000), 2);
		CHECK_OK(ipck_close(s));
	}
	CHECK_EQ(reap(pid), 0);
	CHECK_EQ(ipck_open(&s, fmt("svshm:id=%d", id), IPCK_LISTEN), -EINVAL);
	CHECK_OK(ipck_close(l));
}

/* ---- wrap-around under load ------------------------------------------------------ */

#define LOAD_MSGS 200000

static uint32_t xs(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static int load_client(void *arg)
{
	(void)arg;
	ipck_chan *c;
	unsigned char buf[1024];
	uint32_t x = 12345;
	uint64_t sum = 14695981039346656037ull;
	REQUIRE(ipck_open(&c, url, 0) == 0);
	for (unsigned i = 0; i < LOAD_MSGS; i++) {
		size_t n = xs(&x) % 700;
		fill_pattern(buf, n, i);
		sum = fnv(sum, buf, n);
		ssize_t r = ipck_send(c, buf, n, 10000);
		if (r != (ssize_t)n) {
			CHECK_EQ(r, n);
			fprintf(stderr, "load client: message %u\n", i);
			return 1;
		}
	}
	CHECK_EQ(ipck_send(c, &sum, sizeof(sum), 10000), sizeof(sum));
	CHECK_OK(ipck_close(c));
	return check_failures ? 1 : 0;
}

static void test_load(const char *scheme)
{
	ipck_chan *l, *s;
	pid_t pid;
	unsigned char buf[1024];
	uint32_t x = 12345;
	uint64_t sum = 14695981039346656037ull, theirs = 0;
	unsigned bad = 0;
	url = ring_url(scheme, "capacity=4096&spin_us=20");
	if ((s = serve_one(&l, load_client, &pid))) {
		for (unsigned i = 0; i < LOAD_MSGS; i++) {
			size_t want = xs(&x) % 700;
			ssize_t n = ipck_recv(s, buf, sizeof(buf), 10000);
			if (n != (ssize_t)want || !check_pattern(buf, want, i)) {
				if (!bad++)
					CHECK_EQ(n, want);   /* the first one tells */
				if (n < 0)
					break;
				continue;
			}
			sum = fnv(sum, buf, want);
		}
		CHECK_EQ(ipck_recv(s, &theirs, sizeof(theirs), 10000), sizeof(theirs));
		CHECK_EQ(theirs, sum);
		CHECK_EQ(bad, 0);
		struct ipck_stats st;
		CHECK_OK(ipck_stats(s, &st));
		CHECK_EQ(st.recv_msgs, LOAD_MSGS + 1);
		CHECK_OK(ipck_close(s));
	}
	CHECK_EQ(reap(pid), 0);
	CHECK_OK(ipck_close(l));
}

/* ---- zero copy ------------------------------------------------------------------ */

static int zc_client(void *arg)
{
	(void)arg;
	ipck_chan *c;
	void *p, *q;
	REQUIRE(ipck_open(&c, url, 0) == 0);
	CHECK_EQ(ipck_commit(c), -EINVAL);
	CHECK_EQ(ipck_reserve(c, CAP, &p, 0), -EMSGSIZE);
	CHECK(p == NULL);
	for (unsigned i = 0; i < 1000; i++) {
		size_t n = 1 + i % 300;
		REQUIRE(ipck_reserve(c, n, &p, 5000) == 0);
		CHECK_EQ(ipck_reserve(c, 8, &q, 0), -EBUSY);
		CHECK(q == NULL);
		fill_pattern(p, n, i);
		CHECK_OK(ipck_commit(c));
	}
	struct ipck_stats st;
	CHECK_OK(ipck_stats(c, &st));
	CHECK_EQ(st.sent_msgs, 1000);
	char ok;
	CHECK_EQ(ipck_recv(c, &ok, 1, 10000), 1);   /* the server saw them all */
	CHECK_OK(ipck_close(c));
	return check_failures ? 1 : 0;
}

static void zc_server(ipck_chan *s)
{
	const void *p, *again;
	size_t n, n2;
	CHECK_EQ(ipck_release(s), -EINVAL);
	for (unsigned i = 0; i < 1000; i++) {
		int r = ipck_peek(s, &p, &n, 5000);
		CHECK_OK(r);
		if (r < 0)
			return;
		CHECK_EQ(n, 1 + i % 300);
		CHECK(check_pattern(p, n, i));
		CHECK_OK(ipck_peek(s, &again, &n2, 0));   /* the same again */
		CHECK(again == p && n2 == n);
		CHECK_OK(ipck_release(s));
	}
	CHECK_EQ(ipck_peek(s, &p, &n, 0), -ETIMEDOUT);
	CHECK_EQ(ipck_send(s, "k", 1, 5000), 1);
	CHECK_EQ(ipck_peek(s, &p, &n, 5000), -EPIPE);
}

static void test_zerocopy(const char *scheme)
{
	ipck_chan *l, *s, *a, *b;
	pid_t pid;
	url = ring_url(scheme, "capacity=8192");
	if ((s = serve_one(&l, zc_client, &pid))) {
		zc_server(s);
		CHECK_OK(ipck_close(s));
	}
	CHECK_EQ(reap(pid), 0);
	CHECK_OK(ipck_close(l));
	/* Schemes without a ring say so. */
	void *p;
	CHECK_OK(ipck_pair("socketpair:", &a, &b));
	CHECK_EQ(ipck_reserve(a, 1, &p, 0), -ENOTSUP);
	CHECK_EQ(ipck_peek(b, (const void **)&p, &(size_t){0}, 0), -ENOTSUP);
	ipck_close(a);
	ipck_close(b);
}

/* ---- an event loop on the doorbell ---------------------------------------------- */

#define POLL_MSGS 3000

static int burst_client(void *arg)
{
	(void)arg;
	ipck_chan *c;
	REQUIRE(ipck_open(&c, url, 0) == 0);
	for (uint32_t i = 0; i < POLL_MSGS; i++) {
		CHECK_EQ(ipck_send(c, &i, sizeof(i), 5000), sizeof(i));
		if (i % 100 == 99)
			usleep(2000);   /* the server drains the ring and arms the bell */
	}
	CHECK_OK(ipck_close(c));
	return check_failures ? 1 : 0;
}

static void test_poll(const char *scheme)
{
	ipck_chan *l, *s;
	pid_t pid;
	uint32_t v, next = 0;
	url = ring_url(scheme, "capacity=4096&spin_us=0");
	if ((s = serve_one(&l, burst_client, &pid))) {
		struct pollfd p = {.fd = ipck_pollfd(s), .events = POLLIN};
		CHECK(p.fd >= 0);
		ssize_t n = 0;
		while (n != -EPIPE) {
			int r = poll(&p, 1, 5000);
			CHECK_EQ(r, 1);   /* a message, or the end, woke us */
			if (r != 1)
				break;
			while ((n = ipck_recv(s, &v, sizeof(v), 0)) == sizeof(v))
				CHECK_EQ(v, next++);
			CHECK(n == -ETIMEDOUT || n == -EPIPE);
		}
		CHECK_EQ(next, POLL_MSGS);
		CHECK_OK(ipck_close(s));
	}
	CHECK_EQ(reap(pid), 0);
	CHECK_OK(ipck_close(l));
}

/* ---- MPMC ------------------------------------------------------------------------- */

#define PRODUCERS 4
#define CONSUMERS 4
#define PER_PRODUCER 20000
#define END_MARK 0xffffffffu

static _Atomic uint32_t *seen;   /* shared: [producer][seq] receipts */

static int producer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	ipck_chan *c;
	REQUIRE(ipck_open(&c, url, 0) == 0);
	for (uint32_t i = 0; i < PER_PRODUCER; i++) {
		uint32_t m[4] = {id, i, id ^ i, 0};
		size_t n = 8 + (i % 3) * 4;   /* 8, 12 or 16 bytes */
		ssize_t r = ipck_send(c, m, n, 10000);
		if (r != (ssize_t)n) {
			CHECK_EQ(r, n);
			return 1;
		}
	}
	CHECK_OK(ipck_close(c));
	return 0;
}

static int consumer(void *arg)
{
	(void)arg;
	ipck_chan *c;
	uint32_t m[4];
	REQUIRE(ipck_open(&c, url, 0) == 0);
	for (;;) {
		ssize_t n = ipck_recv(c, m, sizeof(m), 20000);
		if (n == 4 && m[0] == END_MARK)
			break;
		if (n < 8 || m[0] >= PRODUCERS || m[1] >= PER_PRODUCER ||
		    n != (ssize_t)(8 + (m[1] % 3) * 4) || (n > 8 && m[2] != (m[0] ^ m[1]))) {
			fprintf(stderr, "consumer: bad message (n=%zd)\n", n);
			return 1;
		}
		atomic_fetch_add(&seen[m[0] * PER_PRODUCER + m[1]], 1);
	}
	CHECK_OK(ipck_close(c));
	return 0;
}

static void test_mpmc(const char *scheme)
{
	ipck_chan *l, *h;
	pid_t pids[PRODUCERS + CONSUMERS];
	size_t bytes = sizeof(*seen) * PRODUCERS * PER_PRODUCER;
	seen = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(seen != MAP_FAILED);
	url = ring_url(scheme, "mpmc=1&capacity=4096&spin_us=5");
	REQUIRE(ipck_open(&l, url, IPCK_LISTEN) == 0);
	for (int i = 0; i < CONSUMERS; i++)
		pids[PRODUCERS + i] = spawn(consumer, NULL);
	for (int i = 0; i < PRODUCERS; i++)
		pids[i] = spawn(producer, (void *)(uintptr_t)i);
	CHECK_OK(ipck_accept(l, &h, 10000));
	for (int i = 0; i < PRODUCERS; i++)
		CHECK_EQ(reap(pids[i]), 0);
	uint32_t end = END_MARK;
	for (int i = 0; h && i < CONSUMERS; i++)
		CHECK_EQ(ipck_send(h, &end, sizeof(end), 10000), sizeof(end));
	for (int i = 0; i < CONSUMERS; i++)
		CHECK_EQ(reap(pids[PRODUCERS + i]), 0);
	unsigned missing = 0, twice = 0;
	for (size_t i = 0; i < PRODUCERS * PER_PRODUCER; i++) {
		missing += seen[i] == 0;
		twice += seen[i] > 1;
	}
	CHECK_EQ(missing, 0);
	CHECK_EQ(twice, 0);
	if (h)
		CHECK_EQ(ipck_recv(h, &end, sizeof(end), 0), -ETIMEDOUT);   /* nothing left */
	CHECK_OK(ipck_close(h));
	CHECK_OK(ipck_close(l));
	munmap(seen, bytes);
}

/* A child that reserves (or peeks) and then waits to be killed. */
static int ready_pipe[2];

static int stuck_producer(void *arg)
{
	(void)arg;
	ipck_chan *c;
	void *p;
	REQUIRE(ipck_open(&c, url, 0) == 0);
	REQUIRE(ipck_reserve(c, 100, &p, 5000) == 0);
	memset(p, 'X', 100);
	REQUIRE(write(ready_pipe[1], "r", 1) == 1);
	pause();
	return 0;
}

static int stuck_consumer(void *arg)
{
	(void)arg;
	ipck_chan *c;
	const void *p;
	size_t n;
	REQUIRE(ipck_open(&c, url, 0) == 0);
	REQUIRE(ipck_peek(c, &p, &n, 5000) == 0);
	REQUIRE(write(ready_pipe[1], "c", 1) == 1);
	pause();
	return 0;
}

static void kill_when_ready(pid_t pid)
{
	char b;
	CHECK_EQ(read(ready_pipe[0], &b, 1), 1);
	kill(pid, SIGKILL);
	CHECK_EQ(reap(pid), 128 + SIGKILL);
}

static void test_mpmc_killed(const char *scheme)
{
	ipck_chan *l, *h;
	char buf[200];
	url = ring_url(scheme, "mpmc=1&capacity=4096");
	REQUIRE(pipe(ready_pipe) == 0);
	REQUIRE(ipck_open(&l, url, IPCK_LISTEN) == 0);
	pid_t pid = spawn(stuck_producer, NULL);
	CHECK_OK(ipck_accept(l, &h, 10000));
	kill_when_ready(pid);
	long long t0 = now_ms();
	CHECK_EQ(ipck_send(h, "after", 5, 5000), 5);   /* the lock was freed */
	CHECK_EQ(ipck_recv(h, buf, sizeof(buf), 5000), 5);   /* and the dead one's never came */
	CHECK(!memcmp(buf, "after", 5));
	fprintf(stderr, "  %s: dead producer's lock recovered in %lld ms\n", scheme, now_ms() - t0);

	CHECK_EQ(ipck_send(h, "kept", 4, 5000), 4);
	pid = spawn(stuck_consumer, NULL);
	kill_when_ready(pid);
	t0 = now_ms();
	CHECK_EQ(ipck_recv(h, buf, sizeof(buf), 5000), 4);   /* never released: still there */
	CHECK(!memcmp(buf, "kept", 4));
	fprintf(stderr, "  %s: dead consumer's lock recovered in %lld ms\n", scheme, now_ms() - t0);
	CHECK_OK(ipck_close(h));
	CHECK_OK(ipck_close(l));
	close(ready_pipe[0]);
	close(ready_pipe[1]);
}

/* ---- two threads on a pair ------------------------------------------------------------ */

#define THREAD_MSGS 100000

static void *pair_writer(void *arg)
{
	ipck_chan *a = arg;
	unsigned char buf[300];
	for (unsigned i = 0; i < THREAD_MSGS; i++) {
		size_t n = i % 300;
		fill_pattern(buf, n, i);
		if (ipck_send(a, buf, n, 10000) != (ssize_t)n)
			break;
	}
	return NULL;
}

static void test_threads(void)
{
	ipck_chan *a, *b;
	pthread_t t;
	unsigned char buf[300];
	unsigned bad = 0;
	REQUIRE(ipck_pair("pshm:?capacity=4096&spin_us=10", &a, &b) == 0);
	REQUIRE(pthread_create(&t, NULL, pair_writer, a) == 0);
	for (unsigned i = 0; i < THREAD_MSGS; i++) {
		ssize_t n = ipck_recv(b, buf, sizeof(buf), 10000);
		if (n != (ssize_t)(i % 300) || !check_pattern(buf, (size_t)n, i))
			bad++;
		if (n < 0)
			break;
	}
	pthread_join(t, NULL);
	CHECK_EQ(bad, 0);
	CHECK_OK(ipck_close(a));
	CHECK_EQ(ipck_recv(b, buf, sizeof(buf), 1000), -EPIPE);
	CHECK_OK(ipck_close(b));
}

static void run(const char *scheme)
{
	int before = check_failures;
	long long t0 = now_ms();
	test_echo(scheme);
	test_load(scheme);
	test_zerocopy(scheme);
	test_poll(scheme);
	test_mpmc(scheme);
	test_mpmc_killed(scheme);
	fprintf(stderr, "%s %s (%lld ms)\n", check_failures == before ? "ok  " : "FAIL", scheme,
		now_ms() - t0);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			run(argv[i]);
	} else {
		run("pshm");
		run("svshm");
		run("mmap");
		test_svshm_id();
		test_threads();
	}
	check_exit();
}
