/*
 * shmserver.c - System V shared memory guarded by a System V semaphore set.
 * The server writes the alphabet into a segment and posts "filled"; the
 * client waits on "filled", reads the text, writes it back in capitals and
 * posts "done"; the server waits on "done", prints the reply, removes both
 * objects.  Nobody polls: each side sleeps in semop until it may go on.
 *
 * Order matters.  semget creates a set whose values are not defined by
 * POSIX, so the server sets them (SETALL) before it creates the segment: a
 * client that finds the segment finds initialised semaphores.  The two
 * objects share one key: each System V kind has its own key space.
 *
 * usage: shmserver [KEY | PATH]    (default key 5679); then shmclient KEY
 *
 *   $ ./shmserver 0x5679 & sleep 0.2; ./shmclient 0x5679; wait
 *   step: semget(0x5679, 2, IPC_CREAT|IPC_EXCL|0600)
 *   step: semctl(52, 0, SETALL, {0, 0})
 *   step: shmget(0x5679, 64, IPC_CREAT|IPC_EXCL|0600)
 *   step: shmat(54, NULL, 0)
 *   server: wrote "abcdefghijklmnopqrstuvwxyz"
 *   step: semop(52, {filled, +1}) posts
 *   step: semop(52, {done, -1}) waits
 *   step: shmget(0x5679, 64, 0)
 *   step: semget(0x5679, 2, 0)
 *   step: shmat(54, NULL, 0)
 *   step: semop(52, {filled, -1}) waits
 *   client: read "abcdefghijklmnopqrstuvwxyz"
 *   step: semop(52, {done, +1}) posts
 *   step: shmdt(0x7f91b45d3000)
 *   server: the client replied "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
 *   step: shmdt(0x7f65b69c1000)
 *   step: shmctl(54, IPC_RMID, NULL); semctl(52, 0, IPC_RMID)
 *   $ ipcs -m -s | grep -c 0x00005679
 *   0
 */
#include "ex.h"
#include <sys/sem.h>
#include <sys/shm.h>
#include <time.h>

#define TEXT_SIZE 64
enum { SEM_FILLED, SEM_DONE, NSEMS };

union semun {   /* the caller defines it, says semctl(2) */
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int shmid = -1, semid = -1;

static void remove_objects(void)
{
	if (shmid != -1 && shmctl(shmid, IPC_RMID, NULL) == -1)
		perror("shmctl(IPC_RMID)");
	if (semid != -1 && semctl(semid, 0, IPC_RMID) == -1)
		perror("semctl(IPC_RMID)");
}

/* Add delta to semaphore n: -1 waits until it is positive, +1 posts. */
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
	ex_deadline(30);

	step("semget(0x%x, %d, IPC_CREAT|IPC_EXCL|0600)", (unsigned)key, NSEMS);
	semid = semget(key, NSEMS, IPC_CREAT | IPC_EXCL | 0600);
	if (semid == -1)
		die("semget");
	atexit(remove_objects);
	unsigned short zero[NSEMS] = {0, 0};
	step("semctl(%d, 0, SETALL, {0, 0})", semid);
	if (semctl(semid, 0, SETALL, (union semun){.array = zero}) == -1)
		die("semctl(SETALL)");

	step("shmget(0x%x, %d, IPC_CREAT|IPC_EXCL|0600)", (unsigned)key, TEXT_SIZE);
	shmid = shmget(key, TEXT_SIZE, IPC_CREAT | IPC_EXCL | 0600);
	if (shmid == -1)
		die("shmget");
	step("shmat(%d, NULL, 0)", shmid);
	char *text = shmat(shmid, NULL, 0);
	if (text == (void *)-1)
		die("shmat");

	for (int i = 0; i < 26; i++)
		text[i] = (char)('a' + i);
	text[26] = '\0';
	printf("server: wrote \"%s\"\n", text);
	sem_add(SEM_FILLED, +1, "filled");
	sem_add(SEM_DONE, -1, "done");
	printf("server: the client replied \"%.*s\"\n", (int)strnlen(text, TEXT_SIZE), text);

	step("shmdt(%p)", (void *)text);
	if (shmdt(text) == -1)
		die("shmdt");
	step("shmctl(%d, IPC_RMID, NULL); semctl(%d, 0, IPC_RMID)", shmid, semid);
	remove_objects();
	shmid = semid = -1;
	return 0;
}
