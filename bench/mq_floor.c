/*
 * mq_floor.c - the floor under a relay between two POSIX queues: what one
 * mq_send and one mq_receive of a 65-byte message (ipckit's tag byte and
 * 64 bytes) cost, in one process, with no peer, no contention and no
 * context switch.  A relayed message takes two of each (the producer's
 * send, the relay's receive and send, the consumer's receive) and there is
 * no call that moves several messages of a queue at once, so on C CPUs a
 * relay carries at most C / (2 * (send + receive)) messages per second.
 *
 *   mq_floor [-n N] [-r REPS]     prints the medians, in ns per call
 * Run it under `flock /work/wt/bench.lock` (make bench-relay-floor does).
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define DEPTH 10   /* the default msg_max: fill, then empty, the queue */
#define MAX_REP 31

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* One rep: ns per mq_send in *s, per mq_receive in *r; -1 on a failure. */
static int rep(mqd_t q, long n, double *s, double *r)
{
	char msg[65] = {0}, buf[8192];
	double ts = 0, tr = 0;
	for (long k = 0; k < n / DEPTH; k++) {
		double t0 = now();
		for (int i = 0; i < DEPTH; i++)
			if (mq_send(q, msg, sizeof(msg), 0) < 0)
				return -1;
		double t1 = now();
		for (int i = 0; i < DEPTH; i++)
			if (mq_receive(q, buf, sizeof(buf), NULL) < 0)
				return -1;
		ts += t1 - t0, tr += now() - t1;
	}
	*s = ts / (double)n * 1e9, *r = tr / (double)n * 1e9;
	return 0;
}

int main(int argc, char **argv)
{
	struct mq_attr a = {.mq_maxmsg = DEPTH, .mq_msgsize = 8192};
	double s[MAX_REP], r[MAX_REP];
	long n = 200000;
	int c, reps = 5;
	char name[64];
	while ((c = getopt(argc, argv, "n:r:")) != -1) {
		if (c == 'n')
			n = atol(optarg);
		else if (c == 'r')
			reps = atoi(optarg);
		else
			return 2;
	}
	if (n < DEPTH || reps < 1 || reps > MAX_REP)
		return 2;
	snprintf(name, sizeof(name), "/mq_floor.%d", (int)getpid());
	mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
	if (q < 0) {
		perror("mq_floor: mq_open");
		return 1;
	}
	mq_unlink(name);
	for (int i = 0; i < reps; i++)
		if (rep(q, n, &s[i], &r[i]) < 0) {
			perror("mq_floor");
			return 1;
		}
	qsort(s, (size_t)reps, sizeof(*s), cmp_d);
	qsort(r, (size_t)reps, sizeof(*r), cmp_d);
	double cs = s[reps / 2], cr = r[reps / 2];
	printf("mq_send %.0f ns, mq_receive %.0f ns (medians of %d reps, one process)\n", cs, cr, reps);
	printf("a relayed message: 2 of each, %.0f ns of CPU; on 2 CPUs at most %.0f msg/s\n",
	       2 * (cs + cr), 2e9 / (2 * (cs + cr)));
	mq_close(q);
	return 0;
}
