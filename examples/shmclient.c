/*
 * shmclient.c - the other half of shmserver.c: wait on "filled", read the
 * segment, write the text back in capitals, post "done", detach.  The server
 * removes both objects.
 *
 * The segment is looked up first (and retried while it does not exist): the
 * server creates it after it has initialised the semaphores, so once it is
 * there the semaphores are ready.  Sizes are checked before use.
 *
 * usage: shmclient [KEY | PATH]    (the server's; default 5679)
 *
 * Transcript: see shmserver.c.
 */
#include "ex.h"
#include <ctype.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <time.h>

#define TEXT_SIZE 64
enum { SEM_FILLED, SEM_DONE, NSEMS };

static int semid = -1;

static void sem_add(int n, int delta, const char *name)
{
	struct sembuf op = {.sem_num = (unsigned short)n, .sem_op = (short)delta};
	step("semop(%d, {%s, %+d}) %s", semid, name, delta, delta < 0 ? "waits" : "posts");
	if (semop(semid, &op, 1) == -1)
		die("semop");
}

int main(int argc, char **argv)
{
	ex_init(argv);
	key_t key = ex_key(argc > 1 ? argv[1] : NULL, 5679);
	ex_deadline(10);
	int shmid, tries = 0;
	step("shmget(0x%x, %d, 0)", (unsigned)key, TEXT_SIZE);
	while ((shmid = shmget(key, TEXT_SIZE, 0)) == -1 && ex_retry(&tries))
		;   /* ENOENT: not created yet.  EINVAL: smaller than TEXT_SIZE */
	if (shmid == -1)
		die("shmget");

	step("semget(0x%x, %d, 0)", (unsigned)key, NSEMS);
	semid = semget(key, NSEMS, 0);   /* EINVAL if the set has fewer */
	if (semid == -1)
		die("semget");

	step("shmat(%d, NULL, 0)", shmid);
	char *text = shmat(shmid, NULL, 0);
	if (text == (void *)-1)
		die("shmat");

	sem_add(SEM_FILLED, -1, "filled");
	size_t len = strnlen(text, TEXT_SIZE - 1);
	printf("client: read \"%.*s\"\n", (int)len, text);
	for (size_t i = 0; i < len; i++)
		text[i] = (char)toupper((unsigned char)text[i]);
	text[len] = '\0';
	sem_add(SEM_DONE, +1, "done");

	step("shmdt(%p)", (void *)text);
	if (shmdt(text) == -1)
		die("shmdt");
	return 0;
}
