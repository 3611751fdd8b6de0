/*
 * shmserver.c with libipckit - ../shmserver.c's exchange with the library's
 * primitives: a System V segment ("svshm:KEY") guarded by a System V set of
 * two semaphores ("svsem:KEY"), "filled" and "done".  The server writes the
 * alphabet and posts "filled"; the client reads it, writes it back in
 * capitals and posts "done"; the server prints the reply, removes both.
 *
 * What the library saves: union semun and SETALL (ipck_sem_create sets the
 * values before anyone can find the set), the owner and size checks of the
 * client's open, struct sembuf, timed waits, and the IPC_RMIDs (by URL,
 * also from an error path).  The data itself is still yours: a segment is
 * bytes; for messages over shared memory, the svshm: channel is a ring.
 * Waits come in slices of 100 ms so Ctrl-C ends them (see unix_server.c).
 *
 * usage: shmserver [KEY]           (default 5679); then shmclient KEY
 *
 *   $ ./shmserver 0x5679 & sleep 0.2; ./shmclient 0x5679; wait
 */
#include <ipckit.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_SIZE 64
#define SLICE_MS 100
enum { SEM_FILLED, SEM_DONE };

static volatile sig_atomic_t stop;
static char shm_url[64], sem_url[64];

static void on_stop(int sig)
{
	stop = sig;
}

static void remove_objects(void)
{
	ipck_shm_unlink(shm_url);
	ipck_sem_unlink(sem_url);
}

static long ok(long r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "shmserver: %s: %s (%s)\n", what, ipck_errname((int)r), ipck_strerror((int)r));
		remove_objects();
		exit(1);
	}
	return r;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	const char *key = argc > 1 ? argv[1] : "5679";
	snprintf(shm_url, sizeof(shm_url), "svshm:%s", key);
	snprintf(sem_url, sizeof(sem_url), "svsem:%s", key);

	ipck_sem *sem;
	ipck_shm *shm;
	char *text;
	printf("step: ipck_sem_create(&sem, \"%s\", 2, 0)\n", sem_url);
	ok(ipck_sem_create(&sem, sem_url, 2, 0), "ipck_sem_create");
	printf("step: ipck_shm_create(&shm, \"%s\", %d); ipck_shm_map\n", shm_url, TEXT_SIZE);
	ok(ipck_shm_create(&shm, shm_url, TEXT_SIZE), "ipck_shm_create");
	ok(ipck_shm_map(shm, (void **)&text), "ipck_shm_map");

	for (int i = 0; i < 26; i++)
		text[i] = (char)('a' + i);
	text[26] = '\0';
	printf("server: wrote \"%s\"\n", text);
	printf("step: ipck_sem_post(sem, filled); ipck_sem_wait(sem, done, %d) until the client posts\n", SLICE_MS);
	ok(ipck_sem_post(sem, SEM_FILLED), "ipck_sem_post");
	int r, waited = 0;
	while ((r = ipck_sem_wait(sem, SEM_DONE, SLICE_MS)) == -ETIMEDOUT && !stop && (waited += SLICE_MS) < 30000)
		;
	ok(stop ? -EINTR : r, "ipck_sem_wait");
	printf("server: the client replied \"%.*s\"\n", (int)strnlen(text, TEXT_SIZE), text);

	printf("step: ipck_shm_close; ipck_shm_unlink(\"%s\"); ipck_sem_close; ipck_sem_unlink(\"%s\")\n",
	       shm_url, sem_url);
	ok(ipck_shm_close(shm), "ipck_shm_close");
	ok(ipck_shm_unlink(shm_url), "ipck_shm_unlink");
	ok(ipck_sem_close(sem), "ipck_sem_close");
	ok(ipck_sem_unlink(sem_url), "ipck_sem_unlink");
	return 0;
}
