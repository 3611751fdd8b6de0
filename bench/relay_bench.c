/*
 * relay_bench.c - the one-way rate of `ipckit relay FROM TO` beside the
 * rate of one channel of FROM's scheme alone (and of TO's, when it differs),
 * in the same run, interleaved, each figure the median of several reps.
 *
 *   direct   producer P --(one channel)--> consumer C
 *   relay    P --FROM--> `ipckit relay FROM TO` --TO--> C
 *
 * The relay is the real CLI binary, exec'd.  C listens on TO, then the relay
 * starts (it listens on FROM, accepts P, connects to TO); once C has accepted
 * and P is connected, the parent says go: P reads the clock and sends N
 * messages numbered 0..N-1, C receives them, checks the numbers (nothing
 * lost, nothing reordered) and reads the clock after the last.  The rate is
 * N / (C's end - P's start).  P then closes, so the relay sees its FROM end,
 * forwards the rest and exits by itself; its CPU time comes from wait4.
 *
 *   relay_bench [-n N] [-r REPS] [-s SIZE] [-p CPU,CPU,CPU] [-o OPTS]
 *               [-x IPCKIT] [-v] [-f] [PAIR...]
 *     PAIR      FROM-TO schemes (pshm-pshm unix-unix pmsg-pmsg pmsg-unix
 *               by default); pshm, svshm, mmap, unix, unix-seqpacket, pmsg,
 *               svmsg, fifo
 *     -n N      messages per run (default 2000000 for rings, 300000 else)
 *     -p LIST   pin P, the relay and C (direct: P and C) to these CPUs
 *     -o OPTS   options added to every URL, e.g. spin_us=0
 *     -x PATH   the ipckit binary (default build/ipckit)
 *     -v        also the CPU time and context switches (voluntary +
 *               involuntary) per message of each process, direct and relayed
 *     -f        only the floor under a relay between two POSIX queues: what
 *               one mq_send and one mq_receive of a 65-byte message (a tag
 *               byte and 64) cost in one process, with no peer, contention
 *               or context switch.  A relayed message takes two of each (no
 *               call moves several messages of a queue), so on C CPUs a
 *               relay carries at most C / (2 * (send + receive)) msg/s.
 * Run it under `flock /work/wt/bench.lock` (make bench-relay does).
 */
#include "bench_util.h"
#include "ipckit.h"
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TMO_MS   20000
#define MAX_PAIR 16
#define MAX_REP  31

static unsigned long long n_opt;
static int reps = 5, cpus[3] = {-1, -1, -1};
static bool verbose;
static size_t msg_size = 64;
static const char *url_opts = "", *ipckit_bin = "build/ipckit";
static char dir[64];

static void pin(int cpu)
{
	cpu_set_t s;
	if (cpu < 0)
		return;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s) < 0)
		perror("relay_bench: sched_setaffinity");
}

static _Noreturn void die(const char *what, long r)
{
	fprintf(stderr, "relay_bench: %s: %s\n", what, r < 0 ? ipck_errname((int)r) : "failed");
	exit(1);
}

static bool is_ring(const char *scheme)
{
	return !strcmp(scheme, "pshm") || !strcmp(scheme, "svshm") || !strcmp(scheme, "mmap");
}

/* A fresh URL of scheme for endpoint tag (a, b) of run k. */
static void make_url(char *buf, size_t cap, const char *scheme, char tag, int k)
{
	const char *sep = *url_opts ? "?" : "";
	if (!strcmp(scheme, "pshm") || !strcmp(scheme, "pmsg"))
		snprintf(buf, cap, "%s:/rb%d-%d%c%s%s", scheme, (int)getpid(), k, tag, sep, url_opts);
	else if (!strcmp(scheme, "svshm") || !strcmp(scheme, "svmsg"))
		snprintf(buf, cap, "%s:%d%s%s", scheme, 0x52420000 + (int)(getpid() & 0x3fff) * 64 +
			 (k % 32) * 2 + (tag == 'b'), sep, url_opts);
	else
		snprintf(buf, cap, "%s:%s/%d%c%s%s", scheme, dir, k, tag, sep, url_opts);
}

/* ---- the two ends ---------------------------------------------------------------- */

struct run {
	int up[2];     /* children -> parent: one byte when ready, then a double */
	int go[2];     /* parent -> P */
};

static void say(int fd, const void *p, size_t n)
{
	if (write(fd, p, n) != (ssize_t)n)
		_exit(3);
}

static void hear(int fd, void *p, size_t n)
{
	if (read(fd, p, n) != (ssize_t)n) {
		fprintf(stderr, "relay_bench: a process of the run failed\n");
		_exit(3);
	}
}

static _Noreturn void producer(struct run *ru, const char *url, unsigned long long n)
{
	ipck_chan *c;
	int r;
	pin(cpus[0]);
	for (int i = 0; (r = ipck_open(&c, url, 0)) == -ECONNREFUSED || r == -ENOENT; i++) {
		if (i > TMO_MS)
			break;
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	if (r < 0)
		die(url, r);
	char b = 'p', msg[1 << 16] = {0};
	say(ru->up[1], &b, 1);
	hear(ru->go[0], &b, 1);
	double t0 = now();
	for (unsigned long long i = 0; i < n; i++) {
		memcpy(msg, &i, sizeof(i));
		ssize_t s = ipck_send(c, msg, msg_size, TMO_MS);
		if (s < 0)
			die("producer: send", s);
	}
	say(ru->up[1], &t0, sizeof(t0));
	ipck_close(c);
	_exit(0);
}

static _Noreturn void consumer(struct run *ru, const char *url, unsigned long long n, int cpu)
{
	ipck_chan *l, *c;
	pin(cpu);
	int r = ipck_open(&l, url, IPCK_LISTEN);
	if (r < 0)
		die(url, r);
	char b = 'l', msg[1 << 16];
	say(ru->up[1], &b, 1);
	if ((r = ipck_accept(l, &c, TMO_MS)) < 0)
		die("consumer: accept", r);
	say(ru->up[1], &b, 1);
	for (unsigned long long i = 0; i < n; i++) {
		unsigned long long got;
		ssize_t s = ipck_recv(c, msg, sizeof(msg), TMO_MS);
		if (s < 0)
			die("consumer: recv", s);
		memcpy(&got, msg, sizeof(got));
		if ((size_t)s != msg_size || got != i) {
			fprintf(stderr, "relay_bench: message %llu: got %llu (%zd bytes)\n", i, got, s);
			_exit(1);
		}
	}
	double t1 = now();
	say(ru->up[1], &t1, sizeof(t1));
	ipck_close(c);
	ipck_close(l);
	_exit(0);
}

static pid_t spawn_relay(const char *from, const char *to)
{
	fflush(NULL);
	pid_t p = fork();
	if (p == 0) {
		pin(cpus[1]);
		execl(ipckit_bin, "ipckit", "relay", from, to, (char *)NULL);
		perror(ipckit_bin);
		_exit(127);
	}
	return p;
}

static pid_t spawn(void (*fn)(struct run *, const char *, unsigned long long, int),
		   struct run *ru, const char *url, unsigned long long n, int cpu)
{
	fflush(NULL);
	pid_t p = fork();
	if (p == 0)
		fn(ru, url, n, cpu);
	if (p < 0)
		die("fork", -errno);
	return p;
}

static void producer_fn(struct run *ru, const char *url, unsigned long long n, int cpu)
{
	(void)cpu;
	producer(ru, url, n);
}

static bool reap(pid_t p, struct rusage *ru)
{
	int st;
	while (wait4(p, &st, 0, ru) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* What one process of a run cost, per message. */
struct cost {
	double cpu_ns, csw;
};

static struct cost cost_of(const struct rusage *r, unsigned long long n)
{
	double ns = (r->ru_utime.tv_sec + r->ru_stime.tv_sec) * 1e9 +
		    (r->ru_utime.tv_usec + r->ru_stime.tv_usec) * 1e3;
	return (struct cost){ns / (double)n, (double)(r->ru_nvcsw + r->ru_nivcsw) / (double)n};
}

/*
 * One run: msgs/s from P to C, through the relay when to is not NULL;
 * c[0..2]: what P, C and the relay cost per message.  0 on a failure.
 */
static double run_once(const char *from, const char *to, unsigned long long n, struct cost *c)
{
	struct run ru;
	char b;
	double t0 = 0, t1 = 0;
	pid_t rel = 0;
	if (pipe(ru.up) < 0 || pipe(ru.go) < 0)
		die("pipe", -errno);
	pid_t pc = spawn(consumer, &ru, to ? to : from, n, cpus[2]);
	hear(ru.up[0], &b, 1);   /* C listens */
	if (to)
		rel = spawn_relay(from, to);
	pid_t pp = spawn(producer_fn, &ru, from, n, 0);
	close(ru.up[1]);   /* so that a child's death ends our reads */
	ru.up[1] = -1;
	hear(ru.up[0], &b, 1);   /* C accepted, P connected: either order */
	hear(ru.up[0], &b, 1);
	say(ru.go[1], &b, 1);
	hear(ru.up[0], &t0, sizeof(t0));   /* P's start and C's end, either order */
	hear(ru.up[0], &t1, sizeof(t1));
	if (t1 < t0) {
		double t = t0;
		t0 = t1, t1 = t;
	}
	struct rusage rp, rc, rr = {0};
	bool ok = reap(pp, &rp) & reap(pc, &rc);
	if (rel && !reap(rel, &rr))
		ok = false;
	c[0] = cost_of(&rp, n), c[1] = cost_of(&rc, n), c[2] = cost_of(&rr, n);
	close(ru.up[0]);
	close(ru.go[0]);
	close(ru.go[1]);
	return ok && t1 > t0 ? (double)n / (t1 - t0) : 0;
}

/* ---- the floor (-f) ------------------------------------------------------------- */

#define FLOOR_DEPTH 10   /* the default msg_max: fill, then empty, the queue */

/* One rep: ns per mq_send in *s, per mq_receive in *r; -1 on a failure. */
static int floor_rep(mqd_t q, unsigned long long n, double *s, double *r)
{
	char msg[65] = {0}, buf[8192];
	double ts = 0, tr = 0;
	for (unsigned long long k = 0; k < n / FLOOR_DEPTH; k++) {
		double t0 = now();
		for (int i = 0; i < FLOOR_DEPTH; i++)
			if (mq_send(q, msg, sizeof(msg), 0) < 0)
				return -1;
		double t1 = now();
		for (int i = 0; i < FLOOR_DEPTH; i++)
			if (mq_receive(q, buf, sizeof(buf), NULL) < 0)
				return -1;
		ts += t1 - t0, tr += now() - t1;
	}
	*s = ts / (double)n * 1e9, *r = tr / (double)n * 1e9;
	return 0;
}

static int mq_floor(unsigned long long n)
{
	struct mq_attr a = {.mq_maxmsg = FLOOR_DEPTH, .mq_msgsize = 8192};
	double s[MAX_REP], r[MAX_REP];
	char name[64];
	snprintf(name, sizeof(name), "/rb-floor.%d", (int)getpid());
	mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
	if (q < 0)
		die("mq_open", -errno);
	mq_unlink(name);
	for (int i = 0; i < reps; i++)
		if (floor_rep(q, n < FLOOR_DEPTH ? FLOOR_DEPTH : n, &s[i], &r[i]) < 0)
			die("mq_send/mq_receive", -errno);
	mq_close(q);
	/* A floor: the least disturbed rep, the fastest. */
	qsort(s, (size_t)reps, sizeof(*s), cmp_d);
	qsort(r, (size_t)reps, sizeof(*r), cmp_d);
	double cs = s[0], cr = r[0];
	printf("mq_send %.0f ns, mq_receive %.0f ns (fastest of %d reps, one process)\n", cs, cr, reps);
	printf("a relayed pmsg message: 2 of each, %.0f ns of CPU; on 2 CPUs at most %.0f msg/s\n",
	       2 * (cs + cr), 2e9 / (2 * (cs + cr)));
	return 0;
}

/* ---- the table ------------------------------------------------------------------- */

struct pair {
	char from[32], to[32];
	unsigned long long n;
	double a[MAX_REP], b[MAX_REP], rel[MAX_REP];
	struct cost ca[MAX_REP][3], cb[MAX_REP][3], cr[MAX_REP][3];   /* P, C, relay */
};

static void measure(struct pair *p, int rep, int k)
{
	char ua[256], ub[256];
	make_url(ua, sizeof(ua), p->from, 'a', k);
	p->a[rep] = run_once(ua, NULL, p->n, p->ca[rep]);
	if (strcmp(p->from, p->to)) {
		make_url(ub, sizeof(ub), p->to, 'a', k + 1);
		p->b[rep] = run_once(ub, NULL, p->n, p->cb[rep]);
	}
	make_url(ua, sizeof(ua), p->from, 'a', k + 2);
	make_url(ub, sizeof(ub), p->to, 'b', k + 2);
	p->rel[rep] = run_once(ua, ub, p->n, p->cr[rep]);
	if (!p->a[rep] || !p->rel[rep] || (strcmp(p->from, p->to) && !p->b[rep]))
		die("a run failed", 0);
}

/* The median over the reps of one process's CPU ns or switches per message. */
static double cost_med(struct cost (*c)[3], int who, bool csw)
{
	double v[MAX_REP];
	for (int r = 0; r < reps; r++)
		v[r] = csw ? c[r][who].csw : c[r][who].cpu_ns;
	return median(v, reps);
}

/* -v: what each process cost per message, CPU ns and context switches. */
static void report_cost(const char *what, struct cost (*c)[3], bool relayed)
{
	double cp = cost_med(c, 0, false), cc = cost_med(c, 1, false);
	double cr = relayed ? cost_med(c, 2, false) : 0;
	printf("    %-8s P %5.0f ns %5.2f sw   C %5.0f ns %5.2f sw", what, cp, cost_med(c, 0, true),
	       cc, cost_med(c, 1, true));
	if (relayed)
		printf("   relay %5.0f ns %5.2f sw", cr, cost_med(c, 2, true));
	printf("   all %5.0f ns\n", cp + cc + cr);
}

static void report(struct pair *p)
{
	bool same = !strcmp(p->from, p->to);
	double a = median(p->a, reps), b = same ? a : median(p->b, reps);
	double rel = median(p->rel, reps), cpu = cost_med(p->cr, 2, false);
	double slow = a < b ? a : b, want = same && is_ring(p->from) ? 0.5 : 0.8;
	char name[80];
	snprintf(name, sizeof(name), "%.31s->%.31s", p->from, p->to);
	printf("%-20s %12.0f %12.0f %12.0f %7.2f %6.2f %5s %9.0f\n", name, a, b, rel, rel / slow,
	       want, rel / slow >= want ? "ok" : "LOW", cpu);
	if (!verbose)
		return;
	/* Unpinned, a kernel scheme alone is bimodal: now and then the scheduler
	 * puts P beside C (wake-affine), at a third of the rate; see the spread. */
	printf("    spread   %s alone %.0f-%.0f", p->from, p->a[0], p->a[reps - 1]);
	if (!same)
		printf(", %s alone %.0f-%.0f", p->to, p->b[0], p->b[reps - 1]);
	printf(", relayed %.0f-%.0f msg/s\n", p->rel[0], p->rel[reps - 1]);
	report_cost(p->from, p->ca, false);
	if (!same)
		report_cost(p->to, p->cb, false);
	report_cost("relayed", p->cr, true);
}

static void usage(void)
{
	fputs("usage: relay_bench [-n N] [-r REPS] [-s SIZE] [-p CPU,CPU,CPU] [-o OPTS]\n"
	      "                   [-x IPCKIT] [-v] [-f] [FROM-TO...]\n", stderr);
	exit(2);
}

static int parse_pair(struct pair *p, const char *s)
{
	const char *d = strchr(s, '-');
	if (!strncmp(s, "unix-seqpacket", 14))
		d = strchr(s + 14, '-');
	if (!d || (size_t)(d - s) >= sizeof(p->from) || strlen(d + 1) >= sizeof(p->to))
		return -1;
	memset(p, 0, sizeof(*p));
	snprintf(p->from, sizeof(p->from), "%.*s", (int)(d - s), s);
	snprintf(p->to, sizeof(p->to), "%s", d + 1);
	p->n = n_opt ? n_opt : is_ring(p->from) && is_ring(p->to) ? 2000000 : 300000;
	return 0;
}

int main(int argc, char **argv)
{
	static const char *defaults[] = {"pshm-pshm", "unix-unix", "pmsg-pmsg", "pmsg-unix"};
	static struct pair pairs[MAX_PAIR];
	int c, np = 0;
	bool floor_only = false;
	while ((c = getopt(argc, argv, "n:r:s:p:o:x:vf")) != -1) {
		switch (c) {
		case 'n': n_opt = strtoull(optarg, NULL, 10); break;
		case 'r': reps = atoi(optarg); break;
		case 's': msg_size = strtoul(optarg, NULL, 10); break;
		case 'p':
			if (sscanf(optarg, "%d,%d,%d", &cpus[0], &cpus[1], &cpus[2]) != 3)
				usage();
			break;
		case 'o': url_opts = optarg; break;
		case 'x': ipckit_bin = optarg; break;
		case 'v': verbose = true; break;
		case 'f': floor_only = true; break;
		default: usage();
		}
	}
	if (reps < 1 || reps > MAX_REP || msg_size < 8 || msg_size > (1 << 16))
		usage();
	if (floor_only)
		return mq_floor(n_opt ? n_opt : 200000);
	bool dflt = optind == argc;
	for (int i = dflt ? 0 : optind; i < (dflt ? 4 : argc); i++)
		if (np == MAX_PAIR || parse_pair(&pairs[np++], dflt ? defaults[i] : argv[i]))
			usage();
	snprintf(dir, sizeof(dir), "/tmp/relay_bench.XXXXXX");
	if (!mkdtemp(dir))
		die("mkdtemp", -errno);
	printf("relay_bench: %zu-byte messages, %d reps (medians), %s, URL options '%s'\n",
	       msg_size, reps, cpus[0] < 0 ? "not pinned" : "pinned", url_opts);
	printf("%-20s %12s %12s %12s %7s %6s %5s %9s\n", "FROM->TO", "FROM msg/s", "TO msg/s",
	       "relay msg/s", "ratio", "target", "", "relay ns");
	for (int r = 0; r < reps; r++)
		for (int i = 0; i < np; i++)
			measure(&pairs[i], r, (r * MAX_PAIR + i) * 3);
	for (int i = 0; i < np; i++)
		report(&pairs[i]);
	rmdir(dir);
	return 0;
}
