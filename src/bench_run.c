/*
 * bench_run.c - one transport target measured by two processes, A and B.
 *
 * A (the driver) sets the transport up, forks B, and for each size runs the
 * repetitions of two phases, telling B over a control socket pair what comes:
 *   ping   A sends a message, B sends it back; A times each round trip.
 *   flood  A sends count messages one way; B receives them and answers on
 *          the control socket with the time of the last one and its CPU
 *          time, so the rate is count / (last receipt - first send).
 * The data path carries nothing but the measured messages.  On a lossy
 * transport (udp) every wait has a short timeout and a lost message is a
 * lost sample, never a hang.
 */
#include "bench.h"
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { OP_GO = 1, OP_READY, OP_PING, OP_SINK, OP_DONE, OP_QUIT };

/* Control message between A and B. */
struct bmsg {
	uint32_t op;
	int32_t err;        /* B's failure, as a negative errno */
	uint64_t size, count;
	int64_t cpu_ns;     /* B's CPU time over the phase */
	int64_t t_last;     /* CLOCK_MONOTONIC ns of B's last receipt */
};

#define IO_TMO_MS (lk->io_tmo)            /* sanity bound of one send or receive */
#define CTL_TMO_MS (lk->io_tmo + 5000)   /* A waits this long for B's answer */
#define LOSSY_TMO_MS 100      /* a message not here by then is lost */
#define MAX_SAMPLES (1u << 20)
#define MAX_MSGS (1ull << 26)
#define MIN_ROUNDS 10         /* a phase has at least this many, whatever the time */

/* How long a phase runs: count messages, or from min to max until end. */
struct phase {
	uint64_t count;       /* fixed count (--rounds), or 0 */
	uint64_t min, max;
	int64_t end;          /* CLOCK_MONOTONIC ns */
};

int64_t ipck__bench_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

void ipck__bench_sort(int64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_i64);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double ipck__bench_median(double *v, unsigned n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

pid_t ipck__bench_fork(void)
{
	pid_t parent = getpid();
	pid_t p = fork();
	if (p == 0) {
		/* Die with the process that forked us, so nothing outlives E. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
	}
	return p;
}

/* The CPU of side, or -1 to leave it to the scheduler (see ipck__bench_pin). */
static int place_cpu(const struct bjob *j, int side)
{
	if (j->pin)
		return j->cpu[side];
	if (j->spread[1] >= 0 && (j->t->spins || j->place == IPCK_PLACE_TWO))
		return j->spread[side];
	if (j->spread[0] >= 0 && j->place == IPCK_PLACE_ONE)
		return j->spread[0];
	return -1;
}

void ipck__bench_pin(const struct bjob *j, int side)
{
	int cpu = place_cpu(j, side);
	if (cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);  /* CPUs checked by E before the run */
}

void ipck__bench_row_init(const struct bjob *j, struct ipck_bench_row *r, size_t size)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->scheme, sizeof(r->scheme), "%s", j->t->name);
	snprintf(r->wait, sizeof(r->wait), "%s", j->t->wait);
	r->size = size;
	r->pinned = place_cpu(j, 0) >= 0;
	r->ref = j->t->ref;
	r->max_msg = j->lk.max_msg;
}

static int wire_send(struct bjob *j, const struct bwire *w)
{
	ssize_t n = write(j->out_fd, w, sizeof(*w));   /* < PIPE_BUF: atomic */
	return n == (ssize_t)sizeof(*w) ? 0 : -EPIPE;
}

int ipck__bench_emit(struct bjob *j, const struct ipck_bench_row *r)
{
	struct bwire w = {.kind = WIRE_ROW, .row = *r};
	return wire_send(j, &w);
}

void ipck__bench_tell_pid(struct bjob *j, pid_t b)
{
	struct bwire w = {.kind = WIRE_PID, .pid = b};
	wire_send(j, &w);
}

static int ctl_send(int fd, const struct bmsg *m)
{
	ssize_t n = send(fd, m, sizeof(*m), MSG_NOSIGNAL);
	return n == (ssize_t)sizeof(*m) ? 0 : n < 0 ? -errno : -EPROTO;
}

/* Receive any control message, waiting at most tmo ms (-1 forever). */
static int ctl_any(int fd, struct bmsg *m, int tmo)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;
	while ((r = poll(&p, 1, tmo)) < 0 && errno == EINTR)
		;
	if (r <= 0)
		return r ? -errno : -ETIMEDOUT;
	ssize_t n = recv(fd, m, sizeof(*m), 0);
	if (n == 0)
		return -EPIPE;
	if (n != (ssize_t)sizeof(*m))
		return n < 0 ? -errno : -EPROTO;
	return 0;
}

/* Receive a control message of kind op; its err when B reports one. */
static int ctl_recv(int fd, uint32_t op, struct bmsg *m, int tmo)
{
	int r = ctl_any(fd, m, tmo);
	if (r)
		return r;
	return m->op != op ? -EPROTO : m->err;
}

/* ---- B: echo and sink ---------------------------------------------------- */

/*
 * The first byte of every measured message says whether it is the last of
 * its phase (A decides by the clock); a lossy link also ends a phase when
 * nothing comes for a while.
 */
enum { PH_MORE = 0, PH_LAST = 1 };

static int b_ping(struct blink *lk, unsigned char *buf, const struct bmsg *c)
{
	int tmo = lk->lossy ? 2 * LOSSY_TMO_MS : IO_TMO_MS;
	for (;;) {
		ssize_t n = lk->tp->recv(lk, buf, c->size, tmo);
		if (n == -ETIMEDOUT && lk->lossy)
			return 0;
		if (n <= 0)
			return n ? (int)n : -EPROTO;
		bool last = buf[0] == PH_LAST;
		n = lk->tp->send(lk, buf, (size_t)n, IO_TMO_MS);
		if (n < 0 && !lk->lossy)
			return (int)n;
		if (last)
			return 0;
	}
}

static int b_sink(struct blink *lk, unsigned char *buf, const struct bmsg *c, struct bmsg *out)
{
	int64_t cpu0 = ipck__bench_cpu_ns();
	uint64_t got = 0;
	for (;;) {
		int tmo = !lk->lossy ? IO_TMO_MS : got ? LOSSY_TMO_MS : 20 * LOSSY_TMO_MS;
		ssize_t n = lk->tp->recv(lk, buf, c->size, tmo);
		if (n == -ETIMEDOUT && lk->lossy)
			break;
		if (n <= 0)
			return n ? (int)n : -EPROTO;
		got++;
		/* A clock read costs ~25 ns: only where the phase may end */
		if (lk->lossy || buf[0] == PH_LAST)
			out->t_last = ipck__now_ns();
		if (buf[0] == PH_LAST)
			break;
	}
	out->cpu_ns = ipck__bench_cpu_ns() - cpu0;
	out->count = got;
	return 0;
}

static int b_loop(struct blink *lk, int ctl, size_t bufsz)
{
	unsigned char *buf = calloc(1, bufsz);
	struct bmsg c, d;
	int r = buf ? 0 : -ENOMEM;
	while (!r && !(r = ctl_any(ctl, &c, -1)) && c.op != OP_QUIT) {
		if (c.size > bufsz || (c.op != OP_PING && c.op != OP_SINK)) {
			r = -EPROTO;
			break;
		}
		d = (struct bmsg){.op = OP_DONE};
		d.err = c.op == OP_PING ? b_ping(lk, buf, &c) : b_sink(lk, buf, &c, &d);
		r = ctl_send(ctl, &d);
	}
	free(buf);
	return r == -EPIPE ? 0 : r;
}

static int side_b(struct bjob *j, int ctl)
{
	struct blink *lk = &j->lk;
	struct bmsg m = {.op = OP_READY};
	ipck__bench_pin(j, 1);
	int r = ctl_recv(ctl, OP_GO, &m, -1);
	if (!r)
		r = lk->tp->attach(lk, 1);
	m = (struct bmsg){.op = OP_READY, .err = r};
	if (ctl_send(ctl, &m) || r)
		return 1;
	size_t big = 1;
	for (size_t i = 0; i < j->nsizes; i++)
		if (j->sizes[i] > big)
			big = j->sizes[i];
	r = b_loop(lk, ctl, big);
	lk->tp->close(lk, 1);
	return r ? 1 : 0;
}

/* ---- A: the phases --------------------------------------------------------- */

struct actx {
	struct blink *lk;
	int ctl;
	unsigned char *buf;
	int64_t *samples;
};

/* Receive the pong of round i; on a lossy link skip stale ones (seq at 8). */
static ssize_t a_pong(struct actx *a, size_t size, uint64_t i)
{
	struct blink *lk = a->lk;
	if (!lk->lossy)
		return lk->tp->recv(lk, a->buf, size, IO_TMO_MS);
	for (;;) {
		ssize_t n = lk->tp->recv(lk, a->buf, size, LOSSY_TMO_MS);
		uint64_t seq;
		if (n < 16 || size < 16)
			return n;
		memcpy(&seq, a->buf + 8, sizeof(seq));
		if (seq == i)
			return n;
	}
}

/* Is message i the last of a phase: count reached, or the time is up? */
static bool phase_last(const struct phase *ph, uint64_t i, int64_t now)
{
	if (ph->count)
		return i + 1 >= ph->count;
	return i + 1 >= ph->max || (i + 1 >= ph->min && now >= ph->end);
}

/* Round trips until the phase ends; returns the number of samples kept. */
static long long a_ping(struct actx *a, size_t size, const struct phase *ph)
{
	struct blink *lk = a->lk;
	struct bmsg c = {.op = OP_PING, .size = size}, d;
	long long k = 0;
	bool last = false;
	int r = ctl_send(a->ctl, &c);
	for (uint64_t i = 0; !r && !last; i++) {
		int64_t t0 = ipck__now_ns();
		last = phase_last(ph, i, t0);
		a->buf[0] = last ? PH_LAST : PH_MORE;
		if (size >= 16)
			memcpy(a->buf + 8, &i, sizeof(i));
		ssize_t n = lk->tp->send(lk, a->buf, size, IO_TMO_MS);
		if (n >= 0)
			n = a_pong(a, size, i);
		if (n >= 0)
			a->samples[k++] = ipck__now_ns() - t0;
		else if (!(lk->lossy && n == -ETIMEDOUT))
			r = (int)n;
	}
	int rb = ctl_recv(a->ctl, OP_DONE, &d, CTL_TMO_MS);
	return r ? r : rb ? rb : k;
}

struct flood { double mps, cpu_tx, cpu_rx; uint64_t sent; };

/* Messages one way until the phase ends (small ones read the clock every 64). */
static int a_flood(struct actx *a, size_t size, const struct phase *ph, struct flood *f)
{
	struct blink *lk = a->lk;
	struct bmsg c = {.op = OP_SINK, .size = size}, d;
	bool last = false;
	uint64_t i;
	int r = ctl_send(a->ctl, &c);
	int64_t cpu0 = ipck__bench_cpu_ns(), t0 = ipck__now_ns(), now = t0;
	for (i = 0; !r && !last; i++) {
		if (size >= 4096 || (i & 63) == 63)
			now = ipck__now_ns();
		last = phase_last(ph, i, now);
		a->buf[0] = last ? PH_LAST : PH_MORE;
		ssize_t n = lk->tp->send(lk, a->buf, size, IO_TMO_MS);
		if (n < 0 && !lk->lossy)
			r = (int)n;
	}
	int64_t cpu = ipck__bench_cpu_ns() - cpu0;
	int rb = ctl_recv(a->ctl, OP_DONE, &d, CTL_TMO_MS);
	if (r || rb)
		return r ? r : rb;
	if (!d.count || d.t_last <= t0)
		return -EPROTO;
	f->sent = i;
	f->mps = (double)d.count * 1e9 / (double)(d.t_last - t0);
	f->cpu_tx = (double)cpu / (double)i;
	f->cpu_rx = (double)d.cpu_ns / (double)d.count;
	return 0;
}

static void a_percentiles(int64_t *s, long long k, double *p50, double *p99, double *p999)
{
	ipck__bench_sort(s, (size_t)k);
	*p50 = (double)s[k * 50 / 100];
	*p99 = (double)s[k * 99 / 100];
	*p999 = (double)s[k * 999 / 1000];
}

static bool spread_noisy(const double *v, unsigned n)
{
	double lo = v[0], hi = v[0];
	for (unsigned i = 1; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	return lo > 0 && hi > 2 * lo;
}

#define MAX_REPS 64

static struct phase phase_new(const struct bjob *j, uint64_t min, uint64_t max)
{
	return (struct phase){.count = j->rounds, .min = min, .max = max,
			      .end = ipck__now_ns() + j->phase_ns};
}

/* Every repetition of both phases at one size, reduced to one row. */
static int a_size(struct bjob *j, struct actx *a, size_t size, struct ipck_bench_row *row)
{
	double p50[MAX_REPS], p99[MAX_REPS], p999[MAX_REPS], mps[MAX_REPS], tx[MAX_REPS], rx[MAX_REPS];
	unsigned reps = j->reps < MAX_REPS ? j->reps : MAX_REPS;
	struct phase warm = {.count = 8};
	long long k = a_ping(a, size, &warm);   /* page faults, caches, wake-ups */
	int r = k < 0 ? (int)k : 0;
	for (unsigned i = 0; !r && i < reps; i++) {
		struct phase ph = phase_new(j, MIN_ROUNDS, MAX_SAMPLES);
		if ((k = a_ping(a, size, &ph)) <= 0) {
			r = k ? (int)k : -ETIMEDOUT;
			break;
		}
		a_percentiles(a->samples, k, &p50[i], &p99[i], &p999[i]);
		row->rounds = (uint64_t)k;
		struct flood f = {0};
		ph = phase_new(j, MIN_ROUNDS, MAX_MSGS);
		r = a_flood(a, size, &ph, &f);
		mps[i] = f.mps, tx[i] = f.cpu_tx, rx[i] = f.cpu_rx;
		row->msgs = f.sent;
	}
	if (r)
		return r;
	row->noisy = spread_noisy(p50, reps) || spread_noisy(mps, reps);
	row->rtt_p50_ns = ipck__bench_median(p50, reps);
	row->rtt_p99_ns = ipck__bench_median(p99, reps);
	row->rtt_p999_ns = ipck__bench_median(p999, reps);
	row->msgs_per_s = ipck__bench_median(mps, reps);
	row->mb_per_s = row->msgs_per_s * (double)size / 1e6;
	row->cpu_tx_ns = ipck__bench_median(tx, reps);
	row->cpu_rx_ns = ipck__bench_median(rx, reps);
	row->reps = reps;
	return 0;
}

static int a_one(struct bjob *j, struct actx *a, size_t size, int err)
{
	struct ipck_bench_row row;
	ipck__bench_row_init(j, &row, size);
	row.err = err ? err : a_size(j, a, size, &row);
	return ipck__bench_emit(j, &row) ? -EPIPE : row.err == -EMSGSIZE ? 0 : row.err;
}

/*
 * Every size the transport carries; a row saying so for the others; and
 * when it carries none of them, its largest message instead, so that every
 * target has a measured row.
 */
static int a_measure(struct bjob *j, struct actx *a)
{
	size_t max = j->lk.max_msg, fit = 0;
	int r = 0;
	for (size_t i = 0; i < j->nsizes && !r; i++) {
		fit += j->sizes[i] <= max;
		r = a_one(j, a, j->sizes[i], j->sizes[i] <= max ? 0 : -EMSGSIZE);
	}
	if (!r && !fit && max > 0)
		r = a_one(j, a, max, 0);
	return r;
}

/* Every size gets a row saying why nothing was measured. */
static void a_fail(struct bjob *j, int err)
{
	struct ipck_bench_row row;
	for (size_t i = 0; i < j->nsizes; i++) {
		ipck__bench_row_init(j, &row, j->sizes[i]);
		row.err = err;
		ipck__bench_emit(j, &row);
	}
}

static int a_setup(struct bjob *j, int ctl)
{
	struct blink *lk = &j->lk;
	struct bmsg m = {.op = OP_GO};
	int r = lk->tp->listen ? lk->tp->listen(lk) : 0;
	m.err = r;
	int rc = ctl_send(ctl, &m);
	if (r || rc)
		return r ? r : rc;
	r = lk->tp->attach(lk, 0);
	rc = ctl_recv(ctl, OP_READY, &m, CTL_TMO_MS);
	return r ? r : rc;
}

static int a_run(struct bjob *j, int ctl)
{
	struct actx a = {.lk = &j->lk, .ctl = ctl};
	size_t big = 1;
	for (size_t i = 0; i < j->nsizes; i++)
		if (j->sizes[i] > big)
			big = j->sizes[i];
	a.buf = calloc(1, big);
	a.samples = malloc(sizeof(*a.samples) * MAX_SAMPLES);
	int r = a.buf && a.samples ? a_measure(j, &a) : -ENOMEM;
	free(a.buf);
	free(a.samples);
	return r;
}

int ipck__bench_drive(struct bjob *j)
{
	struct blink *lk = &j->lk;
	int sv[2], r;
	ipck__bench_pin(j, 0);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (lk->tp->pair && (r = lk->tp->pair(lk)) < 0) {
		a_fail(j, r);
		return r;
	}
	pid_t b = ipck__bench_fork();
	if (b < 0)
		return -errno;
	if (b == 0) {
		close(sv[0]);
		_exit(side_b(j, sv[1]));
	}
	ipck__bench_tell_pid(j, b);
	close(sv[1]);
	r = a_setup(j, sv[0]);
	if (r)
		a_fail(j, r);
	else
		r = a_run(j, sv[0]);
	struct bmsg q = {.op = OP_QUIT};
	ctl_send(sv[0], &q);
	close(sv[0]);
	lk->tp->close(lk, 0);
	if (r)
		kill(b, SIGKILL);   /* it may be stuck on the data path */
	while (waitpid(b, NULL, 0) < 0 && errno == EINTR)
		;
	return r;
}
