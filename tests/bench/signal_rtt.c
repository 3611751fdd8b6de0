/*
 * signal_rtt.c - round trip of small messages over a URL, between two
 * processes: a child echoes, the parent times each round trip and prints
 * the median and the 99th percentile, plus one-way throughput of 4 KiB
 * messages.  `make bench-signal` runs it for signal: and, for scale,
 * socketpair:.
 *
 *   signal_rtt URL [SIZE] [ROUNDS]     (defaults 64 bytes, 20000 rounds)
 */
#include "ipckit.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int echo(ipck_chan *c)
{
	static char buf[65536];
	ssize_t n;
	while ((n = ipck_recv(c, buf, sizeof(buf), 30000)) >= 0)
		if (buf[0] != 'y' && ipck_send(c, buf, (size_t)n, 30000) != n)
			return 1;   /* "y..." is the throughput run: not echoed */
	ipck_close(c);
	return 0;
}

static int connect_pair(const char *url, ipck_chan **mine, pid_t *pid)
{
	ipck_chan *l = NULL, *a, *b;
	bool pair = !strchr(url, '/');
	int r = pair ? ipck_pair(url, &a, &b) : ipck_open(&l, url, IPCK_LISTEN);
	if (r < 0)
		return r;
	fflush(NULL);
	*pid = fork();
	if (*pid == 0) {
		if (pair) {
			ipck_close(a);
			_exit(echo(b));
		}
		if (ipck_open(&b, url, 0) < 0)
			_exit(1);
		_exit(echo(b));
	}
	if (pair) {
		ipck_close(b);
		*mine = a;
		return 0;
	}
	r = ipck_accept(l, mine, 10000);
	ipck_close(l);
	return r;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: signal_rtt URL [SIZE] [ROUNDS]\n");
		return 2;
	}
	size_t size = argc > 2 ? strtoul(argv[2], NULL, 0) : 64;
	int rounds = argc > 3 ? atoi(argv[3]) : 20000;
	static char buf[65536], back[65536];
	double *t = malloc(sizeof(double) * (size_t)rounds);
	ipck_chan *c;
	pid_t pid;
	int r = connect_pair(argv[1], &c, &pid);
	if (r < 0 || !t || size > sizeof(buf) || size < 2) {
		fprintf(stderr, "%s: %s\n", argv[1], r < 0 ? ipck_strerror(r) : "bad arguments");
		return 1;
	}
	memset(buf, 'x', size);
	for (int i = 0; i < rounds; i++) {
		double t0 = now_us();
		if (ipck_send(c, buf, size, 10000) != (ssize_t)size ||
		    ipck_recv(c, back, sizeof(back), 10000) != (ssize_t)size) {
			fprintf(stderr, "round %d failed\n", i);
			return 1;
		}
		t[i] = now_us() - t0;
	}
	qsort(t, (size_t)rounds, sizeof(double), cmp);
	printf("%-12s %5zu B round trip: median %.1f us, p99 %.1f us (%d rounds)\n",
	       ipck_scheme(c), size, t[rounds / 2], t[rounds * 99 / 100], rounds);

	const char *scheme = ipck_scheme(c);
	int n = 2000;   /* one way, 4 KiB, not echoed; then close */
	memset(buf, 'y', 4096);
	double t0 = now_us();
	for (int i = 0; i < n; i++)
		if (ipck_send(c, buf, 4096, 10000) != 4096)
			return 1;
	ipck_close(c);   /* the child reads to the end, then exits */
	int st;
	waitpid(pid, &st, 0);
	double s = (now_us() - t0) / 1e6;
	printf("%-12s  4096 B one way: %.1f MB/s, %.0f msg/s\n", scheme, n * 4096 / s / 1e6, n / s);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
