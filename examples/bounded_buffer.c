/*
 * bounded_buffer.c - the producer-consumer problem with System V shared
 * memory and three System V semaphores: "empty" counts free slots (starts at
 * SLOTS), "full" counts filled slots (starts at 0), "mutex" (starts at 1)
 * guards the indices.  PRODUCERS processes each put ITEMS numbers in; then
 * the parent puts one -1 per consumer, the sign to stop.  CONSUMERS processes
 * take numbers out and count, in shared memory, how often each was seen.
 * At the end the parent checks that every item was consumed exactly once.
 *
 * The order of the waits is the classic trap: a producer must wait on
 * "empty" before it takes "mutex"; taking "mutex" first and then sleeping on
 * "empty" would hold the lock the consumers need to make room: deadlock.
 *
 * usage: bounded_buffer [KEY | PATH]     (default key 5682)
 *
 *   $ ./bounded_buffer 0x5682
 *   step: semget(0x5682, 3, IPC_CREAT|IPC_EXCL|0600)
 *   step: semctl(54, 0, SETALL, {empty 8, full 0, mutex 1})
 *   step: shmget(0x5682, 640, IPC_CREAT|IPC_EXCL|0600)
 *   step: shmat(55, NULL, 0)
 *   step: fork() x 3 producers, 2 consumers
 *   step: consumer 0: semop(full -1), semop(mutex -1), take, semop(mutex +1), semop(empty +1)
 *   step: producer 0: semop(empty -1), semop(mutex -1), put, semop(mutex +1), semop(full +1)
 *   step: consumer 1: semop(full -1), semop(mutex -1), take, semop(mutex +1), semop(empty +1)
 *   step: producer 1: semop(empty -1), semop(mutex -1), put, semop(mutex +1), semop(full +1)
 *   step: producer 2: semop(empty -1), semop(mutex -1), put, semop(mutex +1), semop(full +1)
 *   producer 0: put 200 items
 *   producer 2: put 200 items
 *   producer 1: put 200 items
 *   consumer 0: took 312 items
 *   consumer 1: took 288 items
 *   parent: all 600 items consumed exactly once
 *   step: shmdt, shmctl(55, IPC_RMID), semctl(54, 0, IPC_RMID)
 */
#include "ex.h"
#include <sys/sem.h>
#include <sys/shm.h>
#include <time.h>

#define SLOTS     8
#define PRODUCERS 3
#define CONSUMERS 2
#define ITEMS     200              /* per producer */
#define TOTAL     (PRODUCERS * ITEMS)
enum { EMPTY, FULL, MUTEX, NSEMS };

struct buffer {
	int slot[SLOTS];               /* the bounded buffer */
	unsigned in, out;              /* next slot to fill / to empty; under MUTEX */
	unsigned char seen[TOTAL];     /* times each item was consumed; under MUTEX */
};

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int shmid = -1, semid = -1;
static pid_t parent;

static void remove_objects(void)
{
	if (getpid() != parent)
		return;   /* children only detach */
	if (shmid != -1 && shmctl(shmid, IPC_RMID, NULL) == -1)
		perror("shmctl(IPC_RMID)");
	if (semid != -1 && semctl(semid, 0, IPC_RMID) == -1)
		perror("semctl(IPC_RMID)");
}

static void sem_add(int n, int delta)
{
	struct sembuf op = {.sem_num = (unsigned short)n, .sem_op = (short)delta};
	struct timespec limit = {10, 0};   /* a stuck peer ends the run, not hangs it */
	if (semtimedop(semid, &op, 1, &limit) == -1)
		die("semtimedop");
}

static void put(struct buffer *b, int item)
{
	sem_add(EMPTY, -1);   /* wait for room first, then lock */
	sem_add(MUTEX, -1);
	b->slot[b->in] = item;
	b->in = (b->in + 1) % SLOTS;
	sem_add(MUTEX, +1);
	sem_add(FULL, +1);
}

static int take(struct buffer *b)
{
	sem_add(FULL, -1);
	sem_add(MUTEX, -1);
	int item = b->slot[b->out];
	b->out = (b->out + 1) % SLOTS;
	if (item >= 0 && item < TOTAL)
		b->seen[item]++;
	sem_add(MUTEX, +1);
	sem_add(EMPTY, +1);
	return item;
}

static void producer(struct buffer *b, int p)
{
	step("producer %d: semop(empty -1), semop(mutex -1), put, semop(mutex +1), semop(full +1)", p);
	for (int i = 0; i < ITEMS; i++)
		put(b, p * ITEMS + i);
	printf("producer %d: put %d items\n", p, ITEMS);
}

static void consumer(struct buffer *b, int c)
{
	step("consumer %d: semop(full -1), semop(mutex -1), take, semop(mutex +1), semop(empty +1)", c);
	int n = 0, item;
	while ((item = take(b)) != -1) {
		if (item < 0 || item >= TOTAL)
			fail("consumer %d: item %d out of range", c, item);
		n++;
	}
	printf("consumer %d: took %d items\n", c, n);
}

static pid_t start(struct buffer *b, void (*fn)(struct buffer *, int), int i)
{
	pid_t pid = fork();
	if (pid == -1)
		die("fork");
	if (pid == 0) {
		fn(b, i);
		exit(0);
	}
	return pid;
}

static void wait_all(const pid_t *pids, int n)
{
	for (int i = 0; i < n; i++)
		ex_wait_child(pids[i]);
}

static struct buffer *create(key_t key)
{
	step("semget(0x%x, 3, IPC_CREAT|IPC_EXCL|0600)", (unsigned)key);
	semid = semget(key, NSEMS, IPC_CREAT | IPC_EXCL | 0600);
	if (semid == -1)
		die("semget");
	unsigned short init[NSEMS] = {[EMPTY] = SLOTS, [FULL] = 0, [MUTEX] = 1};
	step("semctl(%d, 0, SETALL, {empty %d, full 0, mutex 1})", semid, SLOTS);
	if (semctl(semid, 0, SETALL, (union semun){.array = init}) == -1)
		die("semctl(SETALL)");
	step("shmget(0x%x, %zu, IPC_CREAT|IPC_EXCL|0600)", (unsigned)key, sizeof(struct buffer));
	shmid = shmget(key, sizeof(struct buffer), IPC_CREAT | IPC_EXCL | 0600);
	if (shmid == -1)
		die("shmget");
	step("shmat(%d, NULL, 0)", shmid);
	struct buffer *b = shmat(shmid, NULL, 0);   /* zero-filled; inherited by fork */
	if (b == (void *)-1)
		die("shmat");
	return b;
}

int main(int argc, char **argv)
{
	ex_init(argv);
	parent = getpid();
	ex_deadline(30);
	atexit(remove_objects);
	struct buffer *b = create(ex_key(argc > 1 ? argv[1] : NULL, 5682));

	pid_t prod[PRODUCERS], cons[CONSUMERS];
	step("fork() x %d producers, %d consumers", PRODUCERS, CONSUMERS);
	for (int c = 0; c < CONSUMERS; c++)
		cons[c] = start(b, consumer, c);
	for (int p = 0; p < PRODUCERS; p++)
		prod[p] = start(b, producer, p);
	wait_all(prod, PRODUCERS);
	for (int c = 0; c < CONSUMERS; c++)
		put(b, -1);   /* one stop sign per consumer */
	wait_all(cons, CONSUMERS);

	for (int i = 0; i < TOTAL; i++)
		if (b->seen[i] != 1)
			fail("item %d consumed %d times", i, b->seen[i]);
	printf("parent: all %d items consumed exactly once\n", TOTAL);
	step("shmdt, shmctl(%d, IPC_RMID), semctl(%d, 0, IPC_RMID)", shmid, semid);
	if (shmdt(b) == -1)
		die("shmdt");
	return 0;   /* remove_objects runs at exit */
}
