/*
 * sm_server.c with libipckit - ../sm_server.c's exchange with the library's
 * segment primitive, "svshm:KEY": the server creates the segment, writes
 * the alphabet and waits (polling the state word, as the classic does)
 * until the client has read it; then it removes the segment.
 *
 * What the library saves: the exclusive 0600 creation, the shmat/shmdt
 * pair, the client's owner and size checks, and removal by URL from any
 * path out.  What it does not: the state word and its polling are still
 * yours, a segment is only bytes.  shmserver.c adds a semaphore; the
 * svshm: channel (a ring with its own waiting) would do the whole exchange.
 *
 * usage: sm_server [KEY]           (default 5678)
 *
 *   $ ./sm_server 0x5678 & sleep 0.2; ./sm_client 0x5678; wait
 */
#include <ipckit.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { EMPTY, WRITTEN, READ };   /* values of the state word */

struct sm_area {
	_Atomic int state;   /* EMPTY, then WRITTEN by the server, READ by the client */
	char text[64];       /* NUL-terminated */
};

static volatile sig_atomic_t stop;
static char url[64];

static void on_stop(int sig)
{
	stop = sig;
}

static long ok(long r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "sm_server: %s: %s (%s)\n", what, ipck_errname((int)r), ipck_strerror((int)r));
		ipck_shm_unlink(url);
		exit(1);
	}
	return r;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	snprintf(url, sizeof(url), "svshm:%s", argc > 1 ? argv[1] : "5678");

	ipck_shm *shm;
	struct sm_area *a;
	printf("step: ipck_shm_create(&shm, \"%s\", %zu); ipck_shm_map\n", url, sizeof(*a));
	ok(ipck_shm_create(&shm, url, sizeof(*a)), "ipck_shm_create");
	ok(ipck_shm_map(shm, (void **)&a), "ipck_shm_map");

	for (int i = 0; i < 26; i++)
		a->text[i] = (char)('a' + i);
	a->text[26] = '\0';
	atomic_store_explicit(&a->state, WRITTEN, memory_order_release);  /* text first */
	printf("server: wrote \"%s\", waiting for the client\n", a->text);
	for (int i = 0; atomic_load_explicit(&a->state, memory_order_acquire) != READ; i++) {
		if (stop || i == 3000)
			ok(stop ? -EINTR : -ETIMEDOUT, "waiting for the client");
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	printf("server: the client has read it\n");

	printf("step: ipck_shm_close(shm); ipck_shm_unlink(\"%s\")\n", url);
	ok(ipck_shm_close(shm), "ipck_shm_close");
	ok(ipck_shm_unlink(url), "ipck_shm_unlink");
	return 0;
}
