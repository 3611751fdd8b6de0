/*
 * t_ring_hostile.c - a ring whose peer misbehaves.
 *
 *   garbage: a connected "peer" process writes into the shared segment (the
 *     next record's length and tag, the published positions, a PAD where
 *     none can be, then seeded random words anywhere); the honest side must
 *     fail with -EPROTO and keep failing, or at worst time out or see the
 *     peer gone: never crash, never hang.
 *   bad objects: a listener's object with a wrong magic or version fails
 *     the connecting side with -EPROTO; one never formatted, -ECONNREFUSED.
 *   SIGKILL: either side killed at several steps (idle, blocked on a full
 *     ring, blocked in recv, between reserve and commit, before accept):
 *     the survivor gets every committed message, then -EPIPE, soon.
 *
 *   t_ring_hostile [SCHEME...]    (default: pshm svshm mmap)
 */
#include "check.h"
#include "ring.h"
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#define CAP 4096
#define FUZZ_SEEDS 40
static const char *url;
static int go[2], done[2];   /* parent -> child, child -> parent: one byte each */
static volatile uint32_t *counter;   /* shared with the children */
static int the_case;

static void say(int fd)
{
	if (write(fd, "x", 1) != 1)
		_exit(3);
}

static void hear(int fd)
{
	char b;
	if (read(fd, &b, 1) != 1)
		_exit(3);
}

/* ---- garbage from the peer -------------------------------------------------------- */

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void scribble(struct ring *r, int k)
{
	_Atomic uint64_t *rec = (_Atomic uint64_t *)(void *)r->tx;
	uint64_t seed = (uint64_t)k * 0x9e3779b97f4a7c15ull + 1;
	switch (k) {
	case 0: rec[0] = (uint64_t)1 << 32 | CAP; break;                      /* too long */
	case 1: rec[9] = (uint64_t)73 << 32 | (CAP - 72); break;             /* past the end */
	case 2: r->txd->prod = 3 * CAP; break;                               /* beyond the ring */
	case 3: r->txd->prod = 64; break;                                    /* no header there */
	case 4: rec[0] = (uint64_t)1 << 32 | REC_PAD; break;                 /* PAD at 0 */
	case 5: r->rxd->cons = 0xdeadbeef00ull; break;                       /* reader ahead */
	case 6: r->rxd->cons = 3; break;                                     /* misaligned */
	default:
		for (int i = 0; i < 1 + (int)(rnd(&seed) % 16); i++) {
			uint64_t off = (rnd(&seed) % (r->seg.size / 8)) * 8;
			((_Atomic uint64_t *)r->seg.p)[off / 8] = rnd(&seed) >> (rnd(&seed) % 64);
		}
	}
}

static int hostile(void *arg)
{
	(void)arg;
	ipck_chan *c;
	REQUIRE(ipck_open(&c, url, 0) == 0);
	struct ring *r = ipck__priv(c);
	if (the_case == 1) {   /* one good message first: the bad one is at 72 */
		char m[64] = {0};
		REQUIRE(ipck_send(c, m, sizeof(m), 5000) == sizeof(m));
	}
	hear(go[0]);
	scribble(r, the_case);
	say(done[1]);
	hear(go[0]);   /* stay until the parent has looked */
	ipck_close(c);
	return 0;
}

/* The targeted cases: exactly -EPROTO, and it stays. */
static void expect_eproto(ipck_chan *s, int k)
{
	char buf[CAP];
	ssize_t r;
	if (k == 1)
		CHECK_EQ(ipck_recv(s, buf, sizeof(buf), 5000), 64);
	if (k == 5 || k == 6)   /* fill the ring: the writer then reads cons */
		while (ipck_send(s, buf, 100, 0) == 100)
			;
	say(go[1]);
	hear(done[0]);
	r = (k == 5 || k == 6) ? ipck_send(s, buf, 100, 1000) : ipck_recv(s, buf, sizeof(buf), 1000);
	if (r != -EPROTO)
		fprintf(stderr, "case %d:\n", k);
	CHECK_EQ(r, -EPROTO);
	CHECK_EQ(ipck_recv(s, buf, sizeof(buf), 0), -EPROTO);
	CHECK_EQ(ipck_send(s, buf, 1, 0), -EPROTO);
}

/* Random garbage: any clean outcome, and -EPROTO is for good. */
static void survive(ipck_chan *s, int k)
{
	char buf[CAP];
	bool broken = false;
	say(go[1]);
	hear(done[0]);
	for (int i = 0; i < 6; i++) {
		ssize_t a = ipck_send(s, buf, 100, 20);
		ssize_t b = ipck_recv(s, buf, sizeof(buf), 20);
		if (broken)
			CHECK(a == -EPROTO && b == -EPROTO);
		broken = a == -EPROTO || b == -EPROTO;
		bool ok = (a == 100 || a == -ETIMEDOUT || a == -EPROTO || a == -EPIPE) &&
			  (b >= 0 || b == -ETIMEDOUT || b == -EPROTO || b == -EPIPE);
		if (!ok)
			fprintf(stderr, "seed %d: send %zd recv %zd\n", k, a, b);
		CHECK(ok);
	}
}

static void garbage(const char *scheme)
{
	url = fmt("%s?capacity=%d&spin_us=5", test_url(scheme), CAP);
	ipck_chan *l, *s;
	REQUIRE(ipck_open(&l, url, IPCK_LISTEN) == 0);
	for (int k = 0; k < 7 + FUZZ_SEEDS; k++) {
		the_case = k;
		pid_t pid = spawn(hostile, NULL);
		int r = ipck_accept(l, &s, 10000);
		CHECK_OK(r);
		if (r == 0) {
			if (k < 7)
				expect_eproto(s, k);
			else
				survive(s, k);
			say(go[1]);
			ipck_close(s);
		}
		CHECK_EQ(reap(pid), 0);
	}
	CHECK_OK(ipck_close(l));
}

/* A listener's object that is not one: -EPROTO, or -ECONNREFUSED if never made. */
static void bad_objects(const char *scheme)
{
	const char *u = test_url(scheme);
	ipck_shm *o;
	void *p;
	ipck_chan *c;
	for (int k = 0; k < 3; k++) {
		REQUIRE(ipck_shm_create(&o, u, k == 2 ? 64 : 4096) == 0);
		REQUIRE(ipck_shm_map(o, &p) == 0);
		struct ring_hdr *h = p;
		if (k < 2) {
			ipck__ring_format(h, CAP, RING_HDR_SIZE, RING_CTL, -1);
			if (k == 0)
				h->magic = 0x12345678;
			else
				h->version = 99;
		}
		int r = ipck_open(&c, fmt("%s?timeout=200", u), 0);
		CHECK_EQ(r, k < 2 ? -EPROTO : -ECONNREFUSED);
		CHECK_OK(ipck_shm_close(o));
		CHECK_OK(ipck_shm_unlink(u));
	}
}

/* ---- SIGKILL ---------------------------------------------------------------------- */

enum { K_IDLE, K_FULL, K_RESERVED, K_IN_RECV, NKILL };

/* A client that gets to step the_case, says so, and waits there. */
static int victim(void *arg)
{
	(void)arg;
	ipck_chan *c;
	char m[100] = {0};
	void *p;
	REQUIRE(ipck_open(&c, url, 0) == 0);
	switch (the_case) {
	case K_IDLE:
		say(done[1]);
		pause();
		break;
	case K_FULL:   /* count what went in, block on the full ring */
		say(done[1]);
		while (ipck_send(c, m, sizeof(m), -1) == sizeof(m))
			(*counter)++;
		break;
	case K_RESERVED:
		for (int i = 0; i < 3; i++)
			REQUIRE(ipck_send(c, m, sizeof(m), 5000) == sizeof(m));
		REQUIRE(ipck_reserve(c, 50, &p, 5000) == 0);
		memset(p, 1, 50);
		say(done[1]);
		pause();
		break;
	case K_IN_RECV:
		say(done[1]);
		ipck_recv(c, m, sizeof(m), -1);
		break;
	}
	return 0;
}

static void kill_client(const char *scheme, int k)
{
	ipck_chan *l, *s;
	char buf[CAP];
	url = fmt("%s?capacity=%d", test_url(scheme), CAP);
	*counter = 0;
	the_case = k;
	REQUIRE(ipck_open(&l, url, IPCK_LISTEN) == 0);
	pid_t pid = spawn(victim, NULL);
	REQUIRE(ipck_accept(l, &s, 10000) == 0);
	hear(done[0]);
	usleep(k == K_IN_RECV || k == K_FULL ? 100000 : 1000);   /* let it block, or sleep */
	kill(pid, SIGKILL);
	CHECK_EQ(reap(pid), 128 + SIGKILL);
	uint32_t want = k == K_FULL ? *counter : k == K_RESERVED ? 3 : 0, got = 0;
	ssize_t r;
	long long t0 = now_ms();
	while ((r = ipck_recv(s, buf, sizeof(buf), 5000)) >= 0) {
		got++;
		t0 = now_ms();
	}
	long long dt = now_ms() - t0;
	CHECK_EQ(r, -EPIPE);
	CHECK_EQ(got, want);
	CHECK(dt < 1000);
	CHECK_EQ(ipck_send(s, buf, 10, 1000), -EPIPE);
	fprintf(stderr, "  %s: client killed at step %d: %u messages, then EPIPE in %lld ms\n",
		scheme, k, got, dt);
	CHECK_OK(ipck_close(s));
	CHECK_OK(ipck_close(l));
}

/* A listener process that accepts, then fills the ring (K_FULL) or idles. */
static int victim_server(void *arg)
{
	(void)arg;
	ipck_chan *l, *s;
	char m[100] = {0};
	REQUIRE(ipck_open(&l, url, IPCK_LISTEN) == 0);
	say(done[1]);
	if (the_case == K_RESERVED)   /* killed before it accepts anybody */
		pause();
	REQUIRE(ipck_accept(l, &s, 10000) == 0);
	say(done[1]);
	if (the_case == K_FULL)
		while (ipck_send(s, m, sizeof(m), -1) == sizeof(m))
			(*counter)++;
	pause();
	return 0;
}

static void kill_server(const char *scheme, int k)
{
	ipck_chan *c;
	char buf[CAP];
	url = fmt("%s?capacity=%d&timeout=300", test_url(scheme), CAP);
	*counter = 0;
	the_case = k;
	pid_t pid = spawn(victim_server, NULL);
	hear(done[0]);
	if (k == K_RESERVED) {
		kill(pid, SIGKILL);
		CHECK_EQ(reap(pid), 128 + SIGKILL);
		CHECK_EQ(ipck_open(&c, url, 0), -ECONNREFUSED);
		CHECK_OK(ipck_unlink(url));   /* its object outlived it */
		return;
	}
	REQUIRE(ipck_open(&c, url, 0) == 0);
	hear(done[0]);
	usleep(100000);
	kill(pid, SIGKILL);
	CHECK_EQ(reap(pid), 128 + SIGKILL);
	uint32_t got = 0;
	ssize_t r;
	long long t0 = now_ms();
	if (k == K_IDLE) {   /* we are the one blocked on a full ring */
		while ((r = ipck_send(c, buf, 100, 5000)) == 100)
			t0 = now_ms();
	} else {
		while ((r = ipck_recv(c, buf, sizeof(buf), 5000)) >= 0) {
			got++;
			t0 = now_ms();
		}
		CHECK_EQ(got, *counter);
	}
	long long dt = now_ms() - t0;
	CHECK_EQ(r, -EPIPE);
	CHECK(dt < 1000);
	fprintf(stderr, "  %s: server killed at step %d: %u messages, then EPIPE in %lld ms\n",
		scheme, k, got, dt);
	CHECK_OK(ipck_close(c));
	CHECK_OK(ipck_unlink(url));
}

static void run(const char *scheme)
{
	int before = check_failures;
	garbage(scheme);
	bad_objects(scheme);
	for (int k = 0; k < NKILL; k++)
		kill_client(scheme, k);
	kill_server(scheme, K_IDLE);
	kill_server(scheme, K_FULL);
	kill_server(scheme, K_RESERVED);
	fprintf(stderr, "%s %s\n", check_failures == before ? "ok  " : "FAIL", scheme);
}

int main(int argc, char **argv)
{
	REQUIRE(pipe(go) == 0 && pipe(done) == 0);
	counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(counter != MAP_FAILED);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			run(argv[i]);
	} else {
		run("pshm");
		run("svshm");
		run("mmap");
	}
	check_exit();
}
