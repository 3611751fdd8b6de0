/*
 * sm_client.c - the other half of sm_server.c: attach the server's System V
 * segment, wait for its text, print it, and say it has been read.  The
 * server removes the segment; the client only detaches.
 *
 * Done right: the segment may not exist yet (the server is slower to start
 * than you are to type), so shmget is retried on ENOENT for a few seconds;
 * its size is checked with IPC_STAT before the struct is trusted; the text
 * is printed with a bound, since another process wrote it.
 *
 * usage: sm_client [KEY | PATH]    (the server's; default 5678)
 *
 * Transcript: see sm_server.c.
 */
#include "ex.h"
#include <stdatomic.h>
#include <sys/shm.h>
#include <time.h>

enum { EMPTY, WRITTEN, READ };

struct sm_area {
	_Atomic int state;   /* EMPTY, then WRITTEN by the server, READ by the client */
	char text[64];       /* NUL-terminated */
};

int main(int argc, char **argv)
{
	ex_init(argv);
	key_t key = ex_key(argc > 1 ? argv[1] : NULL, 5678);
	ex_deadline(10);

	int shmid, tries = 0;
	step("shmget(0x%x, 0, 0)", (unsigned)key);
	while ((shmid = shmget(key, 0, 0)) == -1 && ex_retry(&tries))
		;   /* ENOENT: the server has not created it yet */
	if (shmid == -1)
		die("shmget");

	struct shmid_ds ds;
	if (shmctl(shmid, IPC_STAT, &ds) == -1)
		die("shmctl(IPC_STAT)");
	if (ds.shm_segsz < sizeof(struct sm_area))
		fail("segment is %zu bytes, expected %zu", (size_t)ds.shm_segsz, sizeof(struct sm_area));

	step("shmat(%d, NULL, 0)", shmid);
	struct sm_area *a = shmat(shmid, NULL, 0);
	if (a == (void *)-1)
		die("shmat");

	struct timespec tick = {0, 10 * 1000 * 1000};
	while (atomic_load_explicit(&a->state, memory_order_acquire) != WRITTEN)
		if (nanosleep(&tick, NULL) == -1)
			die("waiting for the server: nanosleep");
	printf("client: read \"%.*s\"\n", (int)strnlen(a->text, sizeof(a->text)), a->text);
	atomic_store_explicit(&a->state, READ, memory_order_release);

	step("shmdt(%p)", (void *)a);
	if (shmdt(a) == -1)
		die("shmdt");
	return 0;
}
