/*
 * sm_client.c with libipckit - the other half of sm_server.c: open the
 * segment "svshm:KEY" (the library checks its owner and learns its size),
 * wait for the text, print it, say it has been read.
 *
 * usage: sm_client [KEY]           (the server's; default 5678)
 *
 * Transcript: see sm_server.c.
 */
#include <ipckit.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { EMPTY, WRITTEN, READ };

struct sm_area {
	_Atomic int state;   /* EMPTY, then WRITTEN by the server, READ by the client */
	char text[64];       /* NUL-terminated */
};

static long ok(long r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "sm_client: %s: %s (%s)\n", what, ipck_errname((int)r), ipck_strerror((int)r));
		exit(1);
	}
	return r;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	char url[64];
	snprintf(url, sizeof(url), "svshm:%s", argc > 1 ? argv[1] : "5678");
	const struct timespec tick = {0, 10 * 1000 * 1000};

	ipck_shm *shm;
	int r;
	printf("step: ipck_shm_open(&shm, \"%s\"); ipck_shm_map\n", url);
	for (int i = 0; (r = ipck_shm_open(&shm, url)) == -ENOENT && i < 1000; i++)
		nanosleep(&tick, NULL);   /* not there yet */
	ok(r, "ipck_shm_open");
	if (ipck_shm_size(shm) < (ssize_t)sizeof(struct sm_area))
		ok(-EPROTO, "segment smaller than expected");
	struct sm_area *a;
	ok(ipck_shm_map(shm, (void **)&a), "ipck_shm_map");

	for (int i = 0; atomic_load_explicit(&a->state, memory_order_acquire) != WRITTEN; i++) {
		if (i == 1000)
			ok(-ETIMEDOUT, "waiting for the server");
		nanosleep(&tick, NULL);
	}
	printf("client: read \"%.*s\"\n", (int)strnlen(a->text, sizeof(a->text)), a->text);
	atomic_store_explicit(&a->state, READ, memory_order_release);
	ok(ipck_shm_close(shm), "ipck_shm_close");
	return 0;
}
