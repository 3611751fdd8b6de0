/*
 * queues_rtt.c - 64-byte round trip over svmsg and pmsg: through libipckit,
 * and with the same system calls made directly (blocking msgsnd/msgrcv on
 * one queue with two types; mq_send/mq_receive on two queues).  A child
 * echoes; the parent times each round trip.  Runs of the six variants are
 * interleaved; each run's median is kept, and the median of those is
 * reported with the ratio library / direct.  Not a test: run it alone
 * (flock /work/wt/bench.lock).
 *
 *   queues_rtt [ROUNDS [RUNS]]      (default 20000 rounds, 5 runs)
 */
#include <ipckit.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG 64

static int rounds = 20000, runs = 5;
static void cleanup(void);

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

/* One round trip, as each variant does it; returns 0 or -1. */
struct variant {
	const char *name;
	int (*setup)(struct variant *v, int server);  /* child: server = 1 */
	int (*rt)(struct variant *v);                  /* parent: send, receive */
	int (*echo)(struct variant *v);                /* child: receive, send; 1 at the end */
	void (*done)(struct variant *v, int server);
	const char *url;
	int timeout;
	ipck_chan *l, *c;
	int qid;
	mqd_t q1, q2;
	char name1[64], name2[64];
	pid_t pid;
	long long med[64];   /* per run */
};

/* ---- through the library -------------------------------------------------- */

static int lib_setup(struct variant *v, int server)
{
	if (server)
		return ipck_open(&v->c, v->url, 0);
	return ipck_open(&v->l, v->url, IPCK_LISTEN);
}

static int lib_accept(struct variant *v)
{
	return ipck_accept(v->l, &v->c, 5000);
}

static int lib_rt(struct variant *v)
{
	char b[MSG] = {1};
	if (ipck_send(v->c, b, MSG, v->timeout) != MSG)
		return -1;
	return ipck_recv(v->c, b, MSG, v->timeout) == MSG ? 0 : -1;
}

static int lib_echo(struct variant *v)
{
	char b[MSG];
	ssize_t n;
	while ((n = ipck_recv(v->c, b, MSG, v->timeout)) == -ETIMEDOUT)
		;   /* idle while the other variants run */
	if (n < 0)
		return 1;
	return ipck_send(v->c, b, (size_t)n, v->timeout) == n ? 0 : 1;
}

static void lib_done(struct variant *v, int server)
{
	ipck_close(v->c);
	if (!server)
		ipck_close(v->l);
}

/* ---- System V, direct ------------------------------------------------------- */

struct m64 { long mtype; char t[MSG]; };

static int sv_setup(struct variant *v, int server)
{
	if (server)
		return 0;   /* the parent made it before fork */
	v->qid = msgget(0x53000000 | (getpid() & 0xffffff), IPC_CREAT | IPC_EXCL | 0600);
	return v->qid < 0 ? -errno : 0;
}

static int sv_rt(struct variant *v)
{
	struct m64 m = {2, {1}};
	if (msgsnd(v->qid, &m, MSG, 0) < 0)
		return -1;
	return msgrcv(v->qid, &m, MSG, 3, 0) == MSG ? 0 : -1;
}

static int sv_echo(struct variant *v)
{
	struct m64 m;
	if (msgrcv(v->qid, &m, MSG, 2, 0) < 0)
		return 1;
	m.mtype = 3;
	return msgsnd(v->qid, &m, MSG, 0) < 0;
}

static void sv_done(struct variant *v, int server)
{
	if (!server)
		msgctl(v->qid, IPC_RMID, NULL);
}

/* ---- POSIX, direct ------------------------------------------------------------ */

static int pm_setup(struct variant *v, int server)
{
	struct mq_attr a = {.mq_maxmsg = 10, .mq_msgsize = 8192};
	if (server)
		return 0;
	snprintf(v->name1, sizeof(v->name1), "/qrtt-%d-a", (int)getpid());
	snprintf(v->name2, sizeof(v->name2), "/qrtt-%d-b", (int)getpid());
	v->q1 = mq_open(v->name1, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
	v->q2 = mq_open(v->name2, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
	return v->q1 < 0 || v->q2 < 0 ? -errno : 0;
}

static int pm_rt(struct variant *v)
{
	char b[8192] = {1};
	if (mq_send(v->q1, b, MSG, 0) < 0)
		return -1;
	return mq_receive(v->q2, b, sizeof(b), NULL) == MSG ? 0 : -1;
}

static int pm_echo(struct variant *v)
{
	char b[8192];
	ssize_t n = mq_receive(v->q1, b, sizeof(b), NULL);
	return n < 0 || mq_send(v->q2, b, (size_t)n, 0) < 0;
}

static void pm_done(struct variant *v, int server)
{
	mq_close(v->q1);
	mq_close(v->q2);
	if (!server) {
		mq_unlink(v->name1);
		mq_unlink(v->name2);
	}
}

/* ---- the runs ------------------------------------------------------------------ */

static int child(struct variant *v)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);   /* the direct echoes block forever */
	if (getppid() == 1 || v->setup(v, 1) < 0)
		return 1;
	while (v->echo(v) == 0)
		;
	v->done(v, 1);
	return 0;
}

static struct variant *started[8];
static size_t nstarted;

static void fail(const struct variant *v, const char *what)
{
	fprintf(stderr, "%s: %s failed\n", v->name, what);
	cleanup();
	exit(1);
}

static void start(struct variant *v)
{
	if (v->setup(v, 0) < 0)
		fail(v, "setup");
	fflush(NULL);
	v->pid = fork();
	if (v->pid == 0)
		_exit(child(v));
	started[nstarted++] = v;
	if (v->setup == lib_setup && lib_accept(v) < 0)
		fail(v, "accept");
}

/* One run: the median round trip in ns. */
static long long one_run(struct variant *v, long long *t)
{
	for (int i = 0; i < rounds / 10; i++)   /* warm up */
		v->rt(v);
	for (int i = 0; i < rounds; i++) {
		long long t0 = now_ns();
		if (v->rt(v) < 0)
			fail(v, "round trip");
		t[i] = now_ns() - t0;
	}
	qsort(t, (size_t)rounds, sizeof(*t), cmp_ll);
	return t[rounds / 2];
}

static void stop(struct variant *v)
{
	kill(v->pid, SIGKILL);   /* the direct echoes block forever */
	waitpid(v->pid, NULL, 0);
	v->done(v, 0);
}

static void cleanup(void)
{
	while (nstarted > 0)
		stop(started[--nstarted]);
}

/* Median of the run medians, in us; prints every run's too. */
static double report(struct variant *v)
{
	qsort(v->med, (size_t)runs, sizeof(v->med[0]), cmp_ll);
	printf("%-20s", v->name);
	for (int r = 0; r < runs; r++)
		printf(" %6.2f", v->med[r] / 1000.0);
	double m = v->med[runs / 2] / 1000.0;
	printf("   median %6.2f us\n", m);
	return m;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		rounds = atoi(argv[1]);
	if (argc > 2)
		runs = atoi(argv[2]);
	char sv[64], pm[64], sv1[80], pm1[80];
	snprintf(sv, sizeof(sv), "svmsg:0x%x", 0x51000000 | (getpid() & 0xffffff));
	snprintf(pm, sizeof(pm), "pmsg:/qrtt-lib-%d", (int)getpid());
	snprintf(sv1, sizeof(sv1), "svmsg:0x%x", 0x52000000 | (getpid() & 0xffffff));
	snprintf(pm1, sizeof(pm1), "%s-b", pm);
	struct variant vs[] = {
		{.name = "svmsg direct", sv_setup, sv_rt, sv_echo, sv_done},
		{.name = "svmsg lib, -1", lib_setup, lib_rt, lib_echo, lib_done, .url = sv, .timeout = -1},
		{.name = "svmsg lib, 1000 ms", lib_setup, lib_rt, lib_echo, lib_done, .url = sv1, .timeout = 1000},
		{.name = "pmsg direct", pm_setup, pm_rt, pm_echo, pm_done},
		{.name = "pmsg lib, -1", lib_setup, lib_rt, lib_echo, lib_done, .url = pm, .timeout = -1},
		{.name = "pmsg lib, 1000 ms", lib_setup, lib_rt, lib_echo, lib_done, .url = pm1, .timeout = 1000},
	};
	size_t nv = sizeof(vs) / sizeof(vs[0]);
	long long *t = malloc(sizeof(*t) * (size_t)rounds);
	if (!t || runs < 1 || runs > 64)
		return 1;
	for (size_t i = 0; i < nv; i++)
		start(&vs[i]);
	for (int r = 0; r < runs; r++)   /* interleaved: the machine's mood hits all alike */
		for (size_t i = 0; i < nv; i++)
			vs[i].med[r] = one_run(&vs[i], t);
	printf("64-byte round trip, median of %d rounds per run, runs sorted (us):\n", rounds);
	double m[6];
	for (size_t i = 0; i < nv; i++)
		m[i] = report(&vs[i]);
	cleanup();
	printf("ratio lib/direct: svmsg %.3f (timeout -1), %.3f (1000 ms); "
	       "pmsg %.3f (-1), %.3f (1000 ms)\n", m[1] / m[0], m[2] / m[0], m[4] / m[3], m[5] / m[3]);
	free(t);
	return 0;
}
