/*
 * ls_fill.c - objects for the `ipckit ls` benchmark (make bench-ls): makes,
 * or removes, NSYSV System V segments with keys KEYBASE.. and NPOSIX POSIX
 * objects named PREFIX-N (half segments, 4/10 semaphores, 1/10 queues).
 *   ls_fill create|remove NSYSV NPOSIX KEYBASE PREFIX
 * Removal is by the same keys and names only: nothing else is touched.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

static int posix_kind(long i, long n)
{
	return i < n / 2 ? 0 : i < n / 2 + n * 4 / 10 ? 1 : 2;   /* shm, sem, mq */
}

static int create(long nsysv, long nposix, long base, const char *prefix)
{
	for (long i = 0; i < nsysv; i++)
		if (shmget((key_t)(base + i), 4096, IPC_CREAT | IPC_EXCL | 0600) < 0) {
			fprintf(stderr, "shmget key 0x%lx: %s\n", base + i, strerror(errno));
			return 1;
		}
	struct mq_attr a = {.mq_maxmsg = 1, .mq_msgsize = 64};
	for (long i = 0; i < nposix; i++) {
		char name[256];
		snprintf(name, sizeof(name), "%s-%ld", prefix, i);
		int k = posix_kind(i, nposix), fd = -1;
		sem_t *s = SEM_FAILED;
		mqd_t q = (mqd_t)-1;
		if (k == 0 && (fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600)) >= 0)
			close(fd);
		if (k == 1 && (s = sem_open(name, O_CREAT | O_EXCL, 0600, 1)) != SEM_FAILED)
			sem_close(s);
		if (k == 2 && (q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a)) != (mqd_t)-1)
			mq_close(q);
		if (fd < 0 && s == SEM_FAILED && q == (mqd_t)-1) {
			fprintf(stderr, "%s: %s\n", name, strerror(errno));
			return 1;
		}
	}
	return 0;
}

static int remove_all(long nsysv, long nposix, long base, const char *prefix)
{
	for (long i = 0; i < nsysv; i++) {
		int id = shmget((key_t)(base + i), 0, 0);
		if (id >= 0)
			shmctl(id, IPC_RMID, NULL);
	}
	for (long i = 0; i < nposix; i++) {
		char name[256];
		snprintf(name, sizeof(name), "%s-%ld", prefix, i);
		int k = posix_kind(i, nposix);
		if (k == 0)
			shm_unlink(name);
		else if (k == 1)
			sem_unlink(name);
		else
			mq_unlink(name);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 6 || argv[5][0] != '/') {
		fprintf(stderr, "usage: ls_fill create|remove NSYSV NPOSIX KEYBASE /PREFIX\n");
		return 2;
	}
	long nsysv = atol(argv[2]), nposix = atol(argv[3]), base = strtol(argv[4], NULL, 0);
	if (!strcmp(argv[1], "create"))
		return create(nsysv, nposix, base, argv[5]);
	return remove_all(nsysv, nposix, base, argv[5]);
}
