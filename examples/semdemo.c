/*
 * semdemo.c - a System V semaphore as a lock between two processes.  One
 * semaphore starting at 1: P (semop -1) takes the lock, V (semop +1) gives it
 * back.  Parent and child each add 1 to a shared counter ROUNDS times with a
 * deliberately slow read-sleep-write; with the lock no update is lost.
 *
 * SEM_UNDO: the kernel records each process's operations and reverses them
 * when it exits.  At the end the child takes the lock and exits without
 * giving it back, as a crashing process would; the parent still gets the
 * lock, because the kernel undid the child's P.  Without SEM_UNDO the
 * parent would wait forever (here: fail after 5 s).
 *
 * usage: semdemo [KEY | PATH]      (default key 5680)
 *
 *   $ ./semdemo 0x5680
 *   step: semget(0x5680, 1, IPC_CREAT|IPC_EXCL|0600)
 *   step: semctl(53, 0, SETVAL, 1)
 *   step: fork()
 *   step: parent: semop(53, {0, -1, SEM_UNDO}) P
 *   step: child: semop(53, {0, -1, SEM_UNDO}) P
 *   parent: counter 0 -> 1
 *   step: parent: semop(53, {0, +1, SEM_UNDO}) V
 *   step: parent: semop(53, {0, -1, SEM_UNDO}) P
 *   child: counter 1 -> 2
 *   step: child: semop(53, {0, +1, SEM_UNDO}) V
 *   step: child: semop(53, {0, -1, SEM_UNDO}) P
 *   parent: counter 2 -> 3
 *   ...
 *   step: parent: waitpid(26071)
 *   child: counter 9 -> 10
 *   step: child: semop(53, {0, +1, SEM_UNDO}) V
 *   step: child: semop(53, {0, -1, SEM_UNDO}) P
 *   child: exits holding the lock
 *   step: parent: semop(53, {0, -1, SEM_UNDO}) P
 *   parent: got the lock the child died holding (SEM_UNDO)
 *   parent: counter is 10 = 2 x 5, no update lost
 *   step: semctl(53, 0, IPC_RMID)
 */
#include "ex.h"
#include <sys/mman.h>
#include <sys/sem.h>
#include <time.h>

#define ROUNDS 5

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int semid = -1;
static pid_t creator;

static void remove_set(void)
{
	if (getpid() == creator && semctl(semid, 0, IPC_RMID) == -1)
		perror("semctl(IPC_RMID)");
}

/* P or V on the one semaphore, with SEM_UNDO; a P gives up after 5 s. */
static void sem_change(int delta, const char *who)
{
	struct sembuf op = {.sem_num = 0, .sem_op = (short)delta, .sem_flg = SEM_UNDO};
	struct timespec limit = {5, 0};
	step("%s: semop(%d, {0, %+d, SEM_UNDO}) %s", who, semid, delta, delta < 0 ? "P" : "V");
	if (semtimedop(semid, &op, 1, delta < 0 ? &limit : NULL) == -1)
		die(errno == EAGAIN ? "semtimedop: lock not released within 5 s" : "semtimedop");
}

static void add_rounds(volatile int *counter, const char *who)
{
	struct timespec slow = {0, 2 * 1000 * 1000};
	for (int i = 0; i < ROUNDS; i++) {
		sem_change(-1, who);
		int v = *counter;
		nanosleep(&slow, NULL);   /* the other process would run here */
		*counter = v + 1;
		printf("%s: counter %d -> %d\n", who, v, v + 1);
		sem_change(+1, who);
	}
}

int main(int argc, char **argv)
{
	ex_init(argv);
	key_t key = ex_key(argc > 1 ? argv[1] : NULL, 5680);
	ex_deadline(20);   /* Ctrl-C: both processes stop, the set is removed */

	step("semget(0x%x, 1, IPC_CREAT|IPC_EXCL|0600)", (unsigned)key);
	semid = semget(key, 1, IPC_CREAT | IPC_EXCL | 0600);
	if (semid == -1)
		die("semget");
	creator = getpid();
	atexit(remove_set);
	step("semctl(%d, 0, SETVAL, 1)", semid);
	if (semctl(semid, 0, SETVAL, (union semun){.val = 1}) == -1)
		die("semctl(SETVAL)");

	/* The counter lives in memory both processes share after fork. */
	volatile int *counter = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counter == MAP_FAILED)
		die("mmap");

	step("fork()");
	pid_t pid = fork();
	if (pid == -1)
		die("fork");
	if (pid == 0) {
		add_rounds(counter, "child");
		sem_change(-1, "child");
		printf("child: exits holding the lock\n");
		_exit(0);   /* no V: the kernel's undo gives it back */
	}
	add_rounds(counter, "parent");

	step("parent: waitpid(%d)", (int)pid);
	ex_wait_child(pid);
	sem_change(-1, "parent");
	printf("parent: got the lock the child died holding (SEM_UNDO)\n");
	if (*counter != 2 * ROUNDS)
		fail("counter is %d, expected %d: an update was lost", *counter, 2 * ROUNDS);
	printf("parent: counter is %d = 2 x %d, no update lost\n", *counter, ROUNDS);
	step("semctl(%d, 0, IPC_RMID)", semid);
	return 0;   /* remove_set runs at exit */
}
