/*
 * bounded_buffer.c with libipckit - ../bounded_buffer.c with the library's
 * primitives: the buffer in a System V segment ("svshm:KEY"), the three
 * semaphores empty/full/mutex in a System V set ("svsem:KEY").  PRODUCERS
 * processes put ITEMS numbers each, CONSUMERS processes take them until a
 * -1, and the parent checks that every item was consumed exactly once.
 *
 * What the library saves: SETALL and union semun (create gives every
 * semaphore of the set one value, here 0; "empty" and "mutex" get theirs by
 * posts before any child runs), struct sembuf, timed waits, the removal by
 * URL.  The buffer, its indices and the order of the waits (empty before
 * mutex) are the algorithm, and stay yours.  For messages between two
 * processes, the svshm: channel is a ready-made single-producer ring.
 *
 * usage: bounded_buffer [KEY]      (default 5682)
 *
 *   $ ./bounded_buffer 0x5682
 */
#include <ipckit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define SLOTS     8
#define PRODUCERS 3
#define CONSUMERS 2
#define ITEMS     200              /* per producer */
#define TOTAL     (PRODUCERS * ITEMS)
#define WAIT_MS   10000            /* a stuck peer ends the run, not hangs it */
enum { EMPTY, FULL, MUTEX };

struct buffer {
	int slot[SLOTS];               /* the bounded buffer */
	unsigned in, out;              /* next slot to fill / to empty; under MUTEX */
	unsigned char seen[TOTAL];     /* times each item was consumed; under MUTEX */
};

static char shm_url[64], sem_url[64];
static pid_t parent;
static ipck_sem *sem;

static long ok(long r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "bounded_buffer: %s: %s (%s)\n", what, ipck_errname((int)r), ipck_strerror((int)r));
		if (getpid() == parent) {
			ipck_shm_unlink(shm_url);
			ipck_sem_unlink(sem_url);
		}
		exit(1);
	}
	return r;
}

static void put(struct buffer *b, int item)
{
	ok(ipck_sem_wait(sem, EMPTY, WAIT_MS), "wait empty");   /* room first, then the lock */
	ok(ipck_sem_wait(sem, MUTEX, WAIT_MS), "wait mutex");
	b->slot[b->in] = item;
	b->in = (b->in + 1) % SLOTS;
	ok(ipck_sem_post(sem, MUTEX), "post mutex");
	ok(ipck_sem_post(sem, FULL), "post full");
}

static int take(struct buffer *b)
{
	ok(ipck_sem_wait(sem, FULL, WAIT_MS), "wait full");
	ok(ipck_sem_wait(sem, MUTEX, WAIT_MS), "wait mutex");
	int item = b->slot[b->out];
	b->out = (b->out + 1) % SLOTS;
	if (item >= 0 && item < TOTAL)
		b->seen[item]++;
	ok(ipck_sem_post(sem, MUTEX), "post mutex");
	ok(ipck_sem_post(sem, EMPTY), "post empty");
	return item;
}

static void producer(struct buffer *b, int p)
{
	for (int i = 0; i < ITEMS; i++)
		put(b, p * ITEMS + i);
	printf("producer %d: put %d items\n", p, ITEMS);
}

static void consumer(struct buffer *b, int c)
{
	int n = 0, item;
	while ((item = take(b)) != -1) {
		if (item < 0 || item >= TOTAL)
			ok(-EPROTO, "item out of range");
		n++;
	}
	printf("consumer %d: took %d items\n", c, n);
}

static pid_t start(struct buffer *b, void (*fn)(struct buffer *, int), int i)
{
	pid_t pid = fork();
	if (pid < 0)
		ok(-errno, "fork");
	if (pid == 0) {
		fn(b, i);
		exit(0);
	}
	return pid;
}

static void wait_all(const pid_t *pids, int n)
{
	for (int i = 0; i < n; i++) {
		int st;
		if (waitpid(pids[i], &st, 0) < 0)
			ok(-errno, "waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			ok(-ECHILD, "a child failed");
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	parent = getpid();
	const char *key = argc > 1 ? argv[1] : "5682";
	snprintf(shm_url, sizeof(shm_url), "svshm:%s", key);
	snprintf(sem_url, sizeof(sem_url), "svsem:%s", key);

	printf("step: ipck_sem_create(&sem, \"%s\", 3, 0); post empty x %d, mutex x 1\n", sem_url, SLOTS);
	ok(ipck_sem_create(&sem, sem_url, 3, 0), "ipck_sem_create");
	for (int i = 0; i < SLOTS; i++)
		ok(ipck_sem_post(sem, EMPTY), "post empty");
	ok(ipck_sem_post(sem, MUTEX), "post mutex");
	ipck_shm *shm;
	struct buffer *b;
	printf("step: ipck_shm_create(&shm, \"%s\", %zu); ipck_shm_map\n", shm_url, sizeof(*b));
	ok(ipck_shm_create(&shm, shm_url, sizeof(*b)), "ipck_shm_create");
	ok(ipck_shm_map(shm, (void **)&b), "ipck_shm_map");

	pid_t prod[PRODUCERS], cons[CONSUMERS];
	printf("step: fork() x %d producers, %d consumers\n", PRODUCERS, CONSUMERS);
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
			ok(-EPROTO, "an item was not consumed exactly once");
	printf("parent: all %d items consumed exactly once\n", TOTAL);
	printf("step: ipck_shm_close, ipck_shm_unlink, ipck_sem_close, ipck_sem_unlink\n");
	ok(ipck_shm_close(shm), "ipck_shm_close");
	ok(ipck_shm_unlink(shm_url), "ipck_shm_unlink");
	ok(ipck_sem_close(sem), "ipck_sem_close");
	ok(ipck_sem_unlink(sem_url), "ipck_sem_unlink");
	return 0;
}
