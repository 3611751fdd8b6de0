/*
 * ring_bench.c - the shared-memory ring against the hardware and against
 * sockets, in one run, pinned (CPUs 0 and 1) and unpinned.  Uses only the
 * public API for everything it measures through the library.
 *
 *   rtt      64-byte round trip: a bare cache-line ping-pong between two
 *            processes (the physical limit: one shared line, and a line per
 *            direction, each spinning with and without pause; the ratios
 *            take the faster), pshm: (spinning, and sleeping
 *            only with spin_us=0), seqpacket (raw socketpair, and the
 *            library's socketpair:; unix-seqpacket: when the library has it)
 *   oneway   64-byte messages per second: a bare SPSC ring (cached indices) of 1 MiB and of 4 MiB,
 *            pshm: with send/recv and with reserve/commit + peek/release,
 *            and the seqpacket socketpair
 *   bw       GB/s with 1 KiB, 4 KiB and 1 MiB messages through pshm:, and
 *            memcpy of 1 MiB blocks in the same process, same run
 *   idle     CPU used by a receiver blocked 2 s on an idle pshm: channel
 *
 * Every figure is the median of several samples.  Run it under
 * `flock /work/wt/bench.lock` (make ring-bench does).
 *   ring_bench [-q] [-p|-u] [rtt|oneway|bw|idle...]
 *     -q fewer samples, -p pinned only, -u unpinned only; default: every group
 */
#include "bench_util.h"
#include "ipckit.h"
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int samples = 11;
static const char *groups = "rtt oneway bw idle";   /* what to measure */
static int pinned;           /* this pass: pin the two processes */
static char url_buf[256];

static void pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	if (cpu >= 0) {
		CPU_SET(cpu, &s);
	} else {
		for (int i = 0; i < CPU_SETSIZE && i < 1024; i++)
			CPU_SET(i, &s);
	}
	sched_setaffinity(0, sizeof(s), &s);
}

static void die(const char *what, long r)
{
	fprintf(stderr, "ring_bench: %s: %s\n", what, r < 0 ? ipck_errname((int)r) : "failed");
	exit(1);
}

#define TRY(x) do { long r_ = (long)(x); if (r_ < 0) die(#x, r_); } while (0)

static pid_t child(void (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t p = fork();
	if (p == 0) {
		pin(pinned ? 0 : -1);
		fn(arg);
		_exit(0);
	}
	pin(pinned ? 1 : -1);
	return p;
}

static void reap(pid_t p)
{
	int st;
	while (waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
}

/* ---- bare hardware: one cache line, and an SPSC ring ------------------------------- */

struct bare {
	_Alignas(128) _Atomic uint64_t ping;
	_Alignas(128) _Atomic uint64_t pong;      /* two-line ping-pong: the answer */
	_Alignas(128) _Atomic uint64_t head;      /* ring: producer's index */
	_Alignas(128) _Atomic uint64_t tail;      /* ring: consumer's index */
	_Alignas(128) unsigned char slot[65536][64];   /* bare_n of them are used */
};
#define BARE_QUIT UINT64_MAX

/*
 * The bare ping-pong, two ways: one line both sides write (each read then
 * write hands the line over whole: one transfer a way), or one line per
 * direction, each written by one side only, as a ring's lines are (the
 * writer must take the line back from the reader, then the reader fetch
 * it: two transfers a way).
 */
static bool two_lines;
static bool no_pause;   /* spin on bare loads: the reference is the faster way */

/* The spin hint the library's waiting loops use (unless no_pause). */
static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	if (!no_pause)
		__builtin_ia32_pause();
#endif
}

static void bare_pong(void *arg)
{
	struct bare *b = arg;
	_Atomic uint64_t *ans = two_lines ? &b->pong : &b->ping;
	for (uint64_t want = 1;; want += 2) {
		uint64_t v;
		while ((v = atomic_load_explicit(&b->ping, memory_order_acquire)) != want) {
			if (v == BARE_QUIT)
				return;
			relax();
		}
		atomic_store_explicit(ans, want + 1, memory_order_release);
	}
}

static double bare_rtt(bool two, bool pause)
{
	no_pause = !pause;
	struct bare *b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		die("mmap", -errno);
	two_lines = two;
	pid_t p = child(bare_pong, b);
	_Atomic uint64_t *ans = two ? &b->pong : &b->ping;
	double v[64];
	uint64_t x = 0;
	for (int s = -1; s < samples; s++) {
		double t0 = now();
		for (int i = 0; i < 20000; i++, x += 2) {
			atomic_store_explicit(&b->ping, x + 1, memory_order_release);
			while (atomic_load_explicit(ans, memory_order_acquire) != x + 2)
				relax();
		}
		if (s >= 0)
			v[s] = (now() - t0) / 20000 * 1e9;
	}
	atomic_store(&b->ping, BARE_QUIT);
	reap(p);
	munmap(b, sizeof(*b));
	return median(v, samples);
}

#define BARE_MSGS 20000000u
static uint64_t bare_n = 1u << 14;   /* slots: 1 MiB, or 4 MiB */

static void bare_producer(void *arg)
{
	struct bare *b = arg;
	unsigned char m[64] = {1};
	uint64_t tail = 0;
	for (int s = -1; s < samples; s++)
		for (uint64_t h = atomic_load(&b->head), end = h + BARE_MSGS; h < end; h++) {
			while (h - tail >= bare_n)
				tail = atomic_load_explicit(&b->tail, memory_order_acquire);
			memcpy(b->slot[h & (bare_n - 1)], m, 64);
			atomic_store_explicit(&b->head, h + 1, memory_order_release);
		}
}

static double bare_oneway(uint64_t bytes)
{
	bare_n = bytes / 64;
	struct bare *b = mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		die("mmap", -errno);
	pid_t p = child(bare_producer, b);
	double v[64];
	unsigned char m[64];
	uint64_t t = 0, head = 0, sum = 0;
	for (int s = -1; s < samples; s++) {
		double t0 = now();
		for (uint64_t end = t + BARE_MSGS; t < end; t++) {
			while (t == head)
				head = atomic_load_explicit(&b->head, memory_order_acquire);
			memcpy(m, b->slot[t & (bare_n - 1)], 64);
			sum += m[0];
			atomic_store_explicit(&b->tail, t + 1, memory_order_release);
		}
		if (s >= 0)
			v[s] = BARE_MSGS / (now() - t0) / 1e6;
	}
	reap(p);
	munmap(b, sizeof(*b));
	return sum ? median(v, samples) : 0;
}

/* ---- channels ---------------------------------------------------------------------- */

/* What the parent asks the child: echo, or produce count messages of size. */
struct order {
	uint32_t what;   /* 0 quit, 1 echo until a 1-byte message, 2 produce, 3 produce
			  * zero-copy, 4 wait for one message and say what it cost */
	uint32_t size;
	uint64_t count;
};

static unsigned char *big;   /* message source and sink, 8 MiB */
static double cpu_s(void);

static void produce(ipck_chan *c, const struct order *o)
{
	for (uint64_t i = 0; i < o->count; i++) {
		if (o->what == 3) {
			void *p;
			TRY(ipck_reserve(c, o->size, &p, -1));
			memcpy(p, big, o->size);
			TRY(ipck_commit(c));
		} else {
			TRY(ipck_send(c, big, o->size, -1));
		}
	}
}

static void serve(ipck_chan *c)
{
	struct order o;
	for (;;) {
		TRY(ipck_recv(c, &o, sizeof(o), -1));
		if (o.what == 0)
			return;
		if (o.what == 4) {   /* idle: CPU and wall time of one long wait */
			double c0 = cpu_s(), t0 = now(), used[2];
			TRY(ipck_recv(c, big, 1 << 23, -1));
			used[0] = cpu_s() - c0;
			used[1] = now() - t0;
			TRY(ipck_send(c, used, sizeof(used), -1));
			continue;
		}
		if (o.what >= 2) {
			produce(c, &o);
			continue;
		}
		ssize_t n;
		while ((n = ipck_recv(c, big, 1 << 23, -1)) != 1)
			TRY(ipck_send(c, big, (size_t)(n < 0 ? (die("echo", n), 0) : n), -1));
	}
}

static void serve_url(void *arg)
{
	ipck_chan *c;
	(void)arg;
	TRY(ipck_open(&c, url_buf, 0));
	serve(c);
	ipck_close(c);
}

static void serve_pair(void *arg)
{
	serve(arg);
}

/* A connected channel to a serving child: a URL with a listener, or a pair. */
static ipck_chan *connect_to(const char *url, pid_t *pid, ipck_chan **l)
{
	ipck_chan *a, *b, *s;
	*l = NULL;
	if (url[strlen(url) - 1] == ':' || strstr(url, ":?")) {
		TRY(ipck_pair(url, &a, &b));
		*pid = child(serve_pair, b);
		ipck_close(b);
		return a;
	}
	snprintf(url_buf, sizeof(url_buf), "%s", url);
	ipck_unlink(url);
	TRY(ipck_open(l, url, IPCK_LISTEN));
	*pid = child(serve_url, NULL);
	TRY(ipck_accept(*l, &s, 10000));
	return s;
}

static void hang_up(ipck_chan *s, ipck_chan *l, pid_t pid)
{
	struct order o = {0, 0, 0};
	TRY(ipck_send(s, &o, sizeof(o), -1));
	reap(pid);
	ipck_close(s);
	ipck_close(l);
}

/* 64-byte round trip in ns. */
static double chan_rtt(const char *url, int batch)
{
	ipck_chan *l, *s;
	pid_t pid;
	double v[64];
	s = connect_to(url, &pid, &l);
	struct order o = {1, 0, 0};
	TRY(ipck_send(s, &o, sizeof(o), -1));
	for (int k = -1; k < samples; k++) {
		double t0 = now();
		for (int i = 0; i < batch; i++) {
			TRY(ipck_send(s, big, 64, -1));
			TRY(ipck_recv(s, big + 4096, 4096, -1));
		}
		if (k >= 0)
			v[k] = (now() - t0) / batch * 1e9;
	}
	TRY(ipck_send(s, big, 1, -1));
	hang_up(s, l, pid);
	return median(v, samples);
}

/* One way: messages per second (what = 2 or 3), received with recv or peek. */
static double chan_oneway(const char *url, uint32_t size, uint64_t count, uint32_t what, bool peek,
			  double *gbs)
{
	ipck_chan *l, *s;
	pid_t pid;
	double v[64];
	s = connect_to(url, &pid, &l);
	for (int k = -1; k < samples; k++) {
		struct order o = {what, size, count};
		TRY(ipck_send(s, &o, sizeof(o), -1));
		double t0 = now();
		for (uint64_t i = 0; i < count; i++) {
			if (peek) {
				const void *p;
				size_t n;
				TRY(ipck_peek(s, &p, &n, -1));
				memcpy(big + 4096, p, n < 64 ? n : 64);   /* look at it */
				TRY(ipck_release(s));
			} else {
				TRY(ipck_recv(s, big + (1 << 22), 1 << 22, -1));
			}
		}
		if (k >= 0)
			v[k] = (double)count / (now() - t0);
	}
	hang_up(s, l, pid);
	double m = median(v, samples);
	if (gbs)
		*gbs = m * size / 1e9;
	return m;
}

/* memcpy of 1 MiB blocks, GB/s, in this process. */
static double memcpy_bw(void)
{
	double v[64];
	unsigned char *src = big, *dst = big + (4 << 20);
	for (int k = -1; k < samples; k++) {
		double t0 = now();
		for (int i = 0; i < 2000; i++) {
			memcpy(dst, src, 1 << 20);
			__asm__ __volatile__("" ::"r"(dst) : "memory");
		}
		if (k >= 0)
			v[k] = 2000.0 * (1 << 20) / (now() - t0) / 1e9;
	}
	return median(v, samples);
}

/* CPU share of a receiver blocked 2 s on an idle channel, in percent. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static double idle_cpu(const char *url)
{
	ipck_chan *l, *s;
	pid_t pid;
	double used[2];
	s = connect_to(url, &pid, &l);
	struct order o = {4, 0, 0};
	TRY(ipck_send(s, &o, sizeof(o), -1));   /* it now waits for a message */
	usleep(2000000);
	TRY(ipck_send(s, big, 1, -1));
	TRY(ipck_recv(s, used, sizeof(used), -1));
	hang_up(s, l, pid);
	return used[0] / used[1] * 100;
}

static bool have_scheme(const char *name)
{
	const struct ipck_scheme_info *s;
	for (size_t i = 0; (s = ipck_scheme_at(i)); i++)
		if (!strcmp(s->name, name))
			return true;
	return false;
}

/* ---- the table -------------------------------------------------------------------- */

struct row {
	const char *name, *unit, *target;
	double v[2];   /* pinned, unpinned */
};

static struct row rows[32];
static int nrows;

static void put(int pass, const char *name, const char *unit, const char *target, double v)
{
	int i;
	for (i = 0; i < nrows && strcmp(rows[i].name, name); i++)
		;
	if (i == nrows)
		rows[nrows++] = (struct row){name, unit, target, {0, 0}};
	rows[i].v[pass] = v;
	fprintf(stderr, "  %-44s %12.3f %s\n", name, v, unit);
}

static char seq[256];   /* unix-seqpacket: when the library has it */

static void group_rtt(int p, const char *ring)
{
	char u[256];
	double b1 = bare_rtt(false, true), b1n = bare_rtt(false, false);
	double b2 = bare_rtt(true, true), b2n = bare_rtt(true, false);
	put(p, "rtt bare ping-pong, one shared line", "ns", "", b1);
	put(p, "rtt bare ping-pong, shared line, no pause", "ns", "", b1n);
	put(p, "rtt bare ping-pong, a line per direction", "ns", "", b2);
	put(p, "rtt bare ping-pong, line per dir., no pause", "ns", "", b2n);
	/* The reference is the faster of the two ways to spin. */
	double bare = b1 < b1n ? b1 : b1n, bare2 = b2 < b2n ? b2 : b2n;
	snprintf(u, sizeof(u), "%s?capacity=1048576", ring);
	double rtt = chan_rtt(u, 20000);
	put(p, "rtt pshm: 64 B", "ns", "", rtt);
	put(p, "rtt pshm: / bare shared line", "x", "<= 1.3", rtt / bare);
	put(p, "rtt pshm: / bare line per direction", "x", "", rtt / bare2);
	snprintf(u, sizeof(u), "%s?spin_us=0", ring);
	put(p, "rtt pshm: sleeping (spin_us=0)", "ns", "", chan_rtt(u, 2000));
	double sp = chan_rtt("socketpair:", 20000);
	put(p, "rtt socketpair: (library, seqpacket)", "ns", "", sp);
	if (*seq) {
		double us = chan_rtt(seq, 20000);
		put(p, "rtt unix-seqpacket: (library)", "ns", "", us);
		put(p, "rtt unix-seqpacket: / pshm:", "x", ">= 20", us / rtt);
	} else {
		put(p, "rtt socketpair: / pshm:", "x", ">= 20", sp / rtt);
	}
}

static void group_oneway(int p, const char *ring)
{
	char u[256];
	put(p, "oneway bare SPSC ring 64 B, 1 MiB", "M/s", "", bare_oneway(1 << 20));
	put(p, "oneway bare SPSC ring 64 B, 4 MiB", "M/s", "", bare_oneway(4 << 20));
	snprintf(u, sizeof(u), "%s?capacity=1048576", ring);
	put(p, "oneway pshm: 64 B, capacity 1 MiB (default)", "M/s", "",
	    chan_oneway(u, 64, 20000000, 2, false, NULL) / 1e6);
	snprintf(u, sizeof(u), "%s?capacity=4194304", ring);
	double ow = chan_oneway(u, 64, 20000000, 2, false, NULL) / 1e6;
	put(p, "oneway pshm: 64 B send/recv, capacity 4 MiB", "M/s", ">= 100", ow);
	put(p, "oneway pshm: 64 B reserve/commit, peek/release", "M/s", "",
	    chan_oneway(u, 64, 20000000, 3, true, NULL) / 1e6);
	double so = chan_oneway(*seq ? seq : "socketpair:", 64, 300000, 2, false, NULL) / 1e6;
	put(p, *seq ? "oneway unix-seqpacket: 64 B" : "oneway socketpair: 64 B", "M/s", "", so);
	put(p, "oneway pshm: / seqpacket", "x", ">= 10", ow / so);
}

static void group_bw(int p, const char *ring)
{
	char u[256];
	double g1, g4, gm;
	snprintf(u, sizeof(u), "%s?capacity=4194304", ring);
	chan_oneway(u, 1024, 4000000, 2, false, &g1);
	put(p, "bw pshm: 1 KiB, capacity 4 MiB", "GB/s", ">= 20", g1);
	chan_oneway(u, 4096, 1000000, 2, false, &g4);
	put(p, "bw pshm: 4 KiB, capacity 4 MiB", "GB/s", ">= 20", g4);
	chan_oneway(u, 1 << 20, 2000, 2, false, &gm);
	put(p, "bw pshm: 1 MiB, capacity 4 MiB", "GB/s", "", gm);
	double mc = memcpy_bw();
	put(p, "bw memcpy 1 MiB", "GB/s", "", mc);
	put(p, "bw pshm: 1 MiB / memcpy", "x", ">= 0.5", gm / mc);
}

static void pass(int p, const char *ring)
{
	pinned = p == 0;
	fprintf(stderr, "%s:\n", pinned ? "pinned (CPUs 0, 1)" : "unpinned");
	if (have_scheme("unix-seqpacket"))
		snprintf(seq, sizeof(seq), "unix-seqpacket:/tmp/ipck-bench-%d.sock", (int)getpid());
	if (strstr(groups, "rtt"))
		group_rtt(p, ring);
	if (strstr(groups, "oneway"))
		group_oneway(p, ring);
	if (strstr(groups, "bw"))
		group_bw(p, ring);
	if (strstr(groups, "idle"))
		put(p, "idle pshm: receiver CPU after spin window", "%", "~0", idle_cpu(ring));
}

int main(int argc, char **argv)
{
	char ring[128], sel[256] = "";
	int only = -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q"))
			samples = 5;
		else if (!strcmp(argv[i], "-p") || !strcmp(argv[i], "-u"))
			only = argv[i][1] == 'u';
		else
			snprintf(sel + strlen(sel), sizeof(sel) - strlen(sel), "%s ", argv[i]);
	}
	if (*sel)
		groups = sel;
	big = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big == MAP_FAILED)
		die("mmap", -errno);
	memset(big, 7, 8 << 20);
	snprintf(ring, sizeof(ring), "pshm:/ipck-bench-%d", (int)getpid());
	if (only != 1)
		pass(0, ring);
	if (only != 0)
		pass(1, ring);
	printf("%-44s %10s %10s %6s  %s\n", "measure (median)", "pinned", "unpinned", "unit", "target");
	for (int i = 0; i < nrows; i++)
		printf("%-44s %10.3f %10.3f %6s  %s\n", rows[i].name, rows[i].v[0], rows[i].v[1],
		       rows[i].unit, rows[i].target);
	return 0;
}
