/*
 * broadcast_tput.c - one sender, R readers on a ?broadcast=1 ring, M
 * messages of 64 bytes: messages per second the sender gets through to
 * every reader, the median of RUNS runs, for R = 1 and R = 4 (the issue's
 * target: 4 readers at no less than a quarter of the one-reader rate).
 *   broadcast_tput URL   (without a query; make bench-broadcast)
 */
#include "ipckit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define M 500000
#define RUNS 5

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void read_all(const char *url)
{
	ipck_chan *r;
	char b[64];
	if (ipck_open(&r, url, 0))
		_exit(2);
	for (int i = 0; i < M; i++)
		if (ipck_recv(r, b, sizeof(b), -1) != sizeof(b))
			_exit(3);
	ipck_close(r);
	_exit(0);
}

/* One run: messages per second, or -1. */
static double run(const char *url, int readers)
{
	ipck_chan *l, *c;
	char b[64] = {0};
	pid_t p[8];
	int st, bad = 0;
	if (ipck_open(&l, url, IPCK_LISTEN))
		return -1;
	for (int i = 0; i < readers; i++)
		if ((p[i] = fork()) == 0)
			read_all(url);
	for (int i = 0; i < readers; i++) {
		if (ipck_accept(l, &c, 10000))
			bad = 1;
		ipck_close(c);
	}
	long long t0 = now_ns();
	for (int i = 0; i < M && !bad; i++)
		if (ipck_send(l, b, sizeof(b), -1) != sizeof(b))
			bad = 1;
	for (int i = 0; i < readers; i++)
		if (waitpid(p[i], &st, 0) != p[i] || !WIFEXITED(st) || WEXITSTATUS(st))
			bad = 1;
	long long t = now_ns() - t0;
	ipck_close(l);
	return bad ? -1 : M / (t / 1e9);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(const char *url, int readers)
{
	double v[RUNS];
	for (int i = 0; i < RUNS; i++)
		if ((v[i] = run(url, readers)) < 0)
			return -1;
	qsort(v, RUNS, sizeof(v[0]), cmp);
	return v[RUNS / 2];
}

int main(int argc, char **argv)
{
	char url[512];
	if (argc != 2) {
		fprintf(stderr, "usage: broadcast_tput URL\n");
		return 2;
	}
	snprintf(url, sizeof(url), "%s?broadcast=1", argv[1]);
	double one = median(url, 1), four = median(url, 4);
	if (one < 0 || four < 0) {
		fprintf(stderr, "broadcast_tput: a run failed\n");
		return 1;
	}
	printf("%s broadcast, 64-byte messages, median of %d runs of %d:\n", argv[1], RUNS, M);
	printf("  1 reader:  %10.0f msg/s\n  4 readers: %10.0f msg/s (%.2f of one; target >= 0.25)\n",
	       one, four, four / one);
	return 0;
}
