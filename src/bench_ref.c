/*
 * bench_ref.c - the physical limits, measured in the same run:
 *   bare-ring  a minimal single-producer ring per direction in a shared
 *              anonymous mapping, spinning both sides, no library: what a
 *              shared-memory channel could reach at each size;
 *   cacheline  two processes bouncing one cache line: the shortest round
 *              trip this machine can do between two processes;
 *   memcpy     copy bandwidth at each size, in one process.
 */
#include "bench.h"
#include <errno.h>
#include <time.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() ((void)0)
#endif

#define RING_CAP (4u << 20)   /* bytes per direction, a power of two */

struct bring {
	_Alignas(64) _Atomic uint64_t head;  /* bytes published by the producer */
	_Alignas(64) _Atomic uint64_t tail;  /* bytes released by the consumer */
	_Alignas(64) unsigned char data[RING_CAP];
};

/*
 * Spin until cond holds.  A peer that does not answer within ~20000 pauses
 * is not running (both on one CPU, or preempted): from then on sleep a
 * microsecond between looks (sched_yield would not give it the CPU), and
 * give up after tmo ms.
 */
#define SPIN_YIELD 20000u
#define SPIN_UNTIL(cond, tmo) ({ int64_t dl_ = 0; unsigned k_ = 0; int r_ = 0; \
	while (!(cond)) { \
		if (++k_ < SPIN_YIELD) { cpu_relax(); continue; } \
		nanosleep(&(struct timespec){0, 1000}, NULL); \
		if (k_ % 16 == 0) { int64_t t_ = ipck__now_ns(); \
			if (!dl_) dl_ = t_ + (int64_t)(tmo) * 1000000; \
			else if (t_ > dl_) { r_ = -ETIMEDOUT; break; } } } r_; })

static int ring_pair(struct blink *l)
{
	void *p = mmap(NULL, 2 * sizeof(struct bring), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	l->ctx = p;
	l->max_msg = RING_CAP / 2;
	return 0;
}

/* Touch every page now, so that no page fault lands inside a timing. */
static int ring_attach(struct blink *l, int side)
{
	volatile unsigned char *p = l->ctx;
	for (size_t off = 0; off < 2 * sizeof(struct bring); off += 4096)
		(void)p[off];
	l->side = side;
	return 0;
}

static void ring_copy(unsigned char *ring, uint64_t at, void *p, size_t n, bool in)
{
	size_t off = at & (RING_CAP - 1), first = n < RING_CAP - off ? n : RING_CAP - off;
	if (in) {
		memcpy(ring + off, p, first);
		memcpy(ring, (char *)p + first, n - first);
	} else {
		memcpy(p, ring + off, first);
		memcpy((char *)p + first, ring, n - first);
	}
}

/*
 * Each side keeps the peer's index it saw last (seen[]) and reads the shared
 * one again only when the ring looks full or empty: no cache-line transfer
 * per message while the ring has room and data.
 */
static ssize_t ring_send(struct blink *l, const void *msg, size_t len, int tmo)
{
	struct bring *r = (struct bring *)l->ctx + l->side;
	uint64_t need = 8 + ((len + 7) & ~(uint64_t)7), len64 = len;
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	if (RING_CAP - (head - l->seen[0]) < need) {
		/* acquire: the consumer is done reading the bytes we are about to reuse */
		int e = SPIN_UNTIL(RING_CAP - (head - (l->seen[0] = atomic_load_explicit(&r->tail,
					memory_order_acquire))) >= need, tmo);
		if (e)
			return e;
	}
	memcpy(r->data + (head & (RING_CAP - 1)), &len64, 8);   /* 8-aligned: never wraps */
	ring_copy(r->data, head + 8, (void *)msg, len, true);
	/* release: the length and the payload are visible before the new head */
	atomic_store_explicit(&r->head, head + need, memory_order_release);
	return (ssize_t)len;
}

static ssize_t ring_recv(struct blink *l, void *buf, size_t len, int tmo)
{
	struct bring *r = (struct bring *)l->ctx + !l->side;
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed), n;
	if (l->seen[1] == tail) {
		/* acquire: pairs with the producer's release of head */
		int e = SPIN_UNTIL((l->seen[1] = atomic_load_explicit(&r->head,
					memory_order_acquire)) != tail, tmo);
		if (e)
			return e;
	}
	memcpy(&n, r->data + (tail & (RING_CAP - 1)), 8);
	if (n > len || n > RING_CAP / 2 || l->seen[1] - tail < 8 + n)
		return -EPROTO;
	ring_copy(r->data, tail + 8, buf, n, false);
	/* release: our reads of the slot are done before the producer may reuse it */
	atomic_store_explicit(&r->tail, tail + 8 + ((n + 7) & ~(uint64_t)7), memory_order_release);
	return (ssize_t)n;
}

static void ring_close(struct blink *l, int side)
{
	if (l->ctx)
		munmap(l->ctx, 2 * sizeof(struct bring));
	l->ctx = NULL;
}

const struct btp ipck__btp_ring = {
	.pair = ring_pair, .attach = ring_attach, .send = ring_send,
	.recv = ring_recv, .close = ring_close,
};

/* ---- cacheline ping-pong ------------------------------------------------- */

#define LINE_QUIT UINT64_MAX

static int line_echo(_Atomic uint64_t *line)
{
	uint64_t seen = 0;
	for (;;) {
		/* acquire: pairs with A's release of the odd value */
		uint64_t v = atomic_load_explicit(line, memory_order_acquire);
		if (v == LINE_QUIT)
			return 0;
		if (v != seen && (v & 1)) {
			atomic_store_explicit(line, v + 1, memory_order_release);
			seen = v + 1;
		} else if (SPIN_UNTIL(atomic_load_explicit(line, memory_order_relaxed) != seen, 60000)) {
			return 1;   /* A is gone */
		}
	}
}

/* Round trips until the phase ends (at least 1000), into s[]; returns the count. */
static long long line_ping(_Atomic uint64_t *line, uint64_t *seq, int64_t *s,
			   uint64_t count, int64_t end)
{
	uint64_t i;
	for (i = 0; count ? i < count : i < (1u << 20) && (i < 1000 || ipck__now_ns() < end); i++) {
		uint64_t v = *seq + 1;
		int64_t t0 = ipck__now_ns();
		atomic_store_explicit(line, v, memory_order_release);
		if (SPIN_UNTIL(atomic_load_explicit(line, memory_order_acquire) == v + 1, 5000))
			return -ETIMEDOUT;
		s[i] = ipck__now_ns() - t0;
		*seq = v + 1;
	}
	return (long long)i;
}

static int line_reps(struct bjob *j, _Atomic uint64_t *line, struct ipck_bench_row *row)
{
	double p50[64], p99[64], p999[64];
	uint64_t seq = 0, max = j->rounds > (1u << 20) ? j->rounds : 1u << 20;
	unsigned reps = j->reps < 64 ? j->reps : 64;
	int64_t *s = malloc(sizeof(*s) * max);
	long long n = s ? line_ping(line, &seq, s, 1000, 0) : -ENOMEM;   /* warm up */
	for (unsigned i = 0; n > 0 && i < reps; i++) {
		n = line_ping(line, &seq, s, j->rounds, ipck__now_ns() + j->phase_ns);
		if (n <= 0)
			break;
		ipck__bench_sort(s, (size_t)n);
		p50[i] = (double)s[n / 2], p99[i] = (double)s[n * 99 / 100];
		p999[i] = (double)s[n * 999 / 1000];
		row->rounds = (uint64_t)n;
	}
	free(s);
	if (n <= 0)
		return n ? (int)n : -EPROTO;
	row->rtt_p50_ns = ipck__bench_median(p50, reps);
	row->noisy = p50[reps - 1] > 2 * p50[0];   /* sorted by the median */
	row->rtt_p99_ns = ipck__bench_median(p99, reps);
	row->rtt_p999_ns = ipck__bench_median(p999, reps);
	row->reps = reps;
	return 0;
}

int ipck__bench_cacheline(struct bjob *j)
{
	struct ipck_bench_row row;
	_Atomic uint64_t *line = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (line == MAP_FAILED)
		return -errno;
	atomic_init(line, 0);
	ipck__bench_row_init(j, &row, 64);
	pid_t b = ipck__bench_fork();
	if (b == 0) {
		ipck__bench_pin(j, 1);
		_exit(line_echo(line));
	}
	if (b > 0)
		ipck__bench_tell_pid(j, b);
	ipck__bench_pin(j, 0);
	row.err = b < 0 ? -errno : line_reps(j, line, &row);
	atomic_store(line, LINE_QUIT);
	if (b > 0)
		waitpid(b, NULL, 0);
	munmap(line, 4096);
	return ipck__bench_emit(j, &row);
}

/* ---- memcpy -------------------------------------------------------------- */

static double copy_rate(unsigned char *dst, const unsigned char *src, size_t size, uint64_t k)
{
	int64_t t0 = ipck__now_ns();
	for (uint64_t i = 0; i < k; i++) {
		memcpy(dst, src, size);
		__asm__ volatile("" : : "r"(dst) : "memory");   /* keep every copy */
	}
	int64_t t = ipck__now_ns() - t0;
	return (double)k * 1e9 / (double)(t > 0 ? t : 1);
}

static void copy_size(struct bjob *j, unsigned char *dst, unsigned char *src, size_t size)
{
	struct ipck_bench_row row;
	double rate[64];
	unsigned reps = j->reps < 64 ? j->reps : 64;
	uint64_t k = j->rounds;
	ipck__bench_row_init(j, &row, size);
	if (!k) {
		double per = 1e9 / copy_rate(dst, src, size, 64);
		k = (uint64_t)((double)j->phase_ns / per);
		k = k < 64 ? 64 : k;
	}
	for (unsigned i = 0; i < reps; i++)
		rate[i] = copy_rate(dst, src, size, k);
	row.msgs_per_s = ipck__bench_median(rate, reps);
	row.noisy = rate[reps - 1] > 2 * rate[0];
	row.mb_per_s = row.msgs_per_s * (double)size / 1e6;
	row.cpu_tx_ns = 1e9 / row.msgs_per_s;
	row.msgs = k;
	row.reps = reps;
	ipck__bench_emit(j, &row);
}

int ipck__bench_memcpy(struct bjob *j)
{
	size_t big = 1;
	for (size_t i = 0; i < j->nsizes; i++)
		big = j->sizes[i] > big ? j->sizes[i] : big;
	unsigned char *src = malloc(big), *dst = malloc(big);
	if (!src || !dst) {
		free(src);
		free(dst);
		return -ENOMEM;
	}
	memset(src, 0x5a, big);
	memset(dst, 0, big);
	ipck__bench_pin(j, 0);
	for (size_t i = 0; i < j->nsizes; i++)
		copy_size(j, dst, src, j->sizes[i]);
	free(src);
	free(dst);
	return 0;
}
