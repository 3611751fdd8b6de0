/*
 * mailbox_tput.c - one sender, one receiver, 200000 messages of 64 bytes:
 * nanoseconds per message through a mailbox (?mailbox=1) and through an
 * ordinary connection of the same scheme, the median of 5 runs each.
 *   mailbox_tput URL...   (each URL without a query; make bench-mailbox)
 */
#include "ipckit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define M 200000
#define RUNS 5

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* The sender: M messages, then (a connection) wait for the word to close. */
static void send_all(const char *url, int mb)
{
	ipck_chan *s;
	char b[64] = {0}, x;
	if (ipck_open(&s, url, 0))
		_exit(2);
	for (int i = 0; i < M; i++)
		if (ipck_send(s, b, sizeof(b), -1) != sizeof(b))
			_exit(3);
	if (!mb)
		ipck_recv(s, &x, 1, -1);
	ipck_close(s);
	_exit(0);
}

/* One run: ns per message, or -1. */
static double run(const char *url, int mb)
{
	ipck_chan *l, *c;
	char b[64];
	int st;
	if (ipck_open(&l, url, IPCK_LISTEN))
		return -1;
	pid_t p = fork();
	if (p == 0)
		send_all(url, mb);
	if (mb)
		c = l;
	else if (ipck_accept(l, &c, 5000))
		c = NULL;
	long long t0 = now_ns();
	int i = 0;
	while (c && i < M && ipck_recv(c, b, sizeof(b), 10000) == sizeof(b))
		i++;
	long long t1 = now_ns();
	if (c && !mb)
		ipck_send(c, "x", 1, 1000);
	waitpid(p, &st, 0);
	if (c && !mb)
		ipck_close(c);
	ipck_close(l);
	return i == M ? (double)(t1 - t0) / M : -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	for (int a = 1; a < argc; a++) {
		char mb_url[512];
		double t[2][RUNS];
		snprintf(mb_url, sizeof(mb_url), "%s?mailbox=1", argv[a]);
		for (int r = 0; r < RUNS; r++) {   /* interleaved: the machine's noise hits both */
			t[0][r] = run(argv[a], 0);
			t[1][r] = run(mb_url, 1);
		}
		qsort(t[0], RUNS, sizeof(double), cmp);
		qsort(t[1], RUNS, sizeof(double), cmp);
		printf("%-40s connection %6.0f ns/msg   mailbox %6.0f ns/msg\n", argv[a],
		       t[0][RUNS / 2], t[1][RUNS / 2]);
	}
	return 0;
}
