/*
 * semdemo.c with libipckit - ../semdemo.c's lock with the library's
 * semaphore primitive: "svsem:KEY?undo=1", one System V semaphore at 1,
 * every wait and post with SEM_UNDO.  Parent and child each add 1 to a
 * shared counter ROUNDS times under the lock; then the child takes the lock
 * and exits without giving it back, and the parent still gets it: the
 * kernel undid the child's wait.
 *
 * What the library saves: union semun and SETVAL (the value is set before
 * anyone can find the set), struct sembuf, timed waits that return
 * -ETIMEDOUT, and the removal by URL.  undo=1 is a URL option, so the rule
 * "a lock must be released by the kernel when its holder dies" is written
 * once, where the semaphore is named.
 *
 * usage: semdemo [KEY]             (default 5680)
 *
 *   $ ./semdemo 0x5680
 */
#include <ipckit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 5

static char url[80];
static pid_t creator;

static long ok(long r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "semdemo: %s: %s (%s)\n", what, ipck_errname((int)r), ipck_strerror((int)r));
		if (getpid() == creator)
			ipck_sem_unlink(url);
		exit(1);
	}
	return r;
}

static void add_rounds(ipck_sem *lock, volatile int *counter, const char *who)
{
	for (int i = 0; i < ROUNDS; i++) {
		printf("step: %s: ipck_sem_wait(lock, 0, 5000)\n", who);
		ok(ipck_sem_wait(lock, 0, 5000), "ipck_sem_wait");
		int v = *counter;
		nanosleep(&(struct timespec){0, 2 * 1000 * 1000}, NULL);   /* the other would run here */
		*counter = v + 1;
		printf("%s: counter %d -> %d\n", who, v, v + 1);
		printf("step: %s: ipck_sem_post(lock, 0)\n", who);
		ok(ipck_sem_post(lock, 0), "ipck_sem_post");
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(url, sizeof(url), "svsem:%s?undo=1", argc > 1 ? argv[1] : "5680");
	creator = getpid();

	ipck_sem *lock;
	printf("step: ipck_sem_create(&lock, \"%s\", 1, 1)\n", url);
	ok(ipck_sem_create(&lock, url, 1, 1), "ipck_sem_create");
	volatile int *counter = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counter == MAP_FAILED)
		ok(-errno, "mmap");

	printf("step: fork()\n");
	pid_t pid = fork();
	if (pid < 0)
		ok(-errno, "fork");
	if (pid == 0) {
		add_rounds(lock, counter, "child");
		printf("step: child: ipck_sem_wait(lock, 0, 5000)\n");
		ok(ipck_sem_wait(lock, 0, 5000), "ipck_sem_wait");
		printf("child: exits holding the lock\n");
		_exit(0);   /* no post: undo=1 has the kernel give it back */
	}
	add_rounds(lock, counter, "parent");

	int st;
	if (waitpid(pid, &st, 0) < 0)
		ok(-errno, "waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		ok(-ECHILD, "the child failed");
	printf("step: parent: ipck_sem_wait(lock, 0, 5000)\n");
	ok(ipck_sem_wait(lock, 0, 5000), "ipck_sem_wait");
	printf("parent: got the lock the child died holding (SEM_UNDO)\n");
	if (*counter != 2 * ROUNDS)
		ok(-EPROTO, "an update was lost");
	printf("parent: counter is %d = 2 x %d, no update lost\n", *counter, ROUNDS);
	printf("step: ipck_sem_close(lock); ipck_sem_unlink(\"%s\")\n", url);
	ok(ipck_sem_close(lock), "ipck_sem_close");
	ok(ipck_sem_unlink(url), "ipck_sem_unlink");
	return 0;
}
