/*
 * sm_server.c - System V shared memory, the classic first program.  The
 * server creates a segment, writes the alphabet into it and waits until the
 * client says it has read it; then it removes the segment.  Start it first,
 * then sm_client in another shell (with the same KEY).
 *
 * What the classic version gets wrong and this one does not:
 *  - mode 0600, not 0666: any user on the machine could read or overwrite
 *    a 0666 segment.  IPC_EXCL: never adopt a stranger's segment by accident.
 *  - the segment is removed (IPC_RMID) at the end, also after an error (an
 *    exit handler), so `ipcs -m` shows nothing afterwards.
 *  - a state word, not a magic first byte, says whose turn it is, written
 *    with release and read with acquire so the text is complete when the
 *    client sees the word change.  It is still polled: shmserver.c sleeps
 *    on a semaphore instead.
 *
 * usage: sm_server [KEY | PATH]    (default key 5678; a PATH goes through ftok)
 *
 *   $ ./sm_server 0x5678 & sleep 0.2; ./sm_client 0x5678; wait
 *   step: shmget(0x5678, 68, IPC_CREAT|IPC_EXCL|0600)
 *   step: shmat(53, NULL, 0)
 *   server: wrote "abcdefghijklmnopqrstuvwxyz", waiting for the client
 *   step: shmget(0x5678, 0, 0)
 *   step: shmat(53, NULL, 0)
 *   client: read "abcdefghijklmnopqrstuvwxyz"
 *   step: shmdt(0x7eff2d7df000)
 *   server: the client has read it
 *   step: shmdt(0x7fcb7b7de000)
 *   step: shmctl(53, IPC_RMID, NULL)
 *   $ ipcs -m | grep -c 0x00005678
 *   0
 */
#include "ex.h"
#include <stdatomic.h>
#include <sys/shm.h>
#include <time.h>

enum { EMPTY, WRITTEN, READ };   /* values of the state word */

struct sm_area {
	_Atomic int state;   /* EMPTY, then WRITTEN by the server, READ by the client */
	char text[64];       /* NUL-terminated */
};

static int shmid = -1;

static void remove_segment(void)
{
	if (shmid != -1 && shmctl(shmid, IPC_RMID, NULL) == -1)
		perror("shmctl(IPC_RMID)");
}

int main(int argc, char **argv)
{
	ex_init(argv);
	key_t key = ex_key(argc > 1 ? argv[1] : NULL, 5678);
	ex_deadline(30);

	step("shmget(0x%x, %zu, IPC_CREAT|IPC_EXCL|0600)", (unsigned)key, sizeof(struct sm_area));
	shmid = shmget(key, sizeof(struct sm_area), IPC_CREAT | IPC_EXCL | 0600);
	if (shmid == -1)
		die("shmget");
	atexit(remove_segment);

	step("shmat(%d, NULL, 0)", shmid);
	struct sm_area *a = shmat(shmid, NULL, 0);
	if (a == (void *)-1)
		die("shmat");

	for (int i = 0; i < 26; i++)
		a->text[i] = (char)('a' + i);
	a->text[26] = '\0';
	atomic_store_explicit(&a->state, WRITTEN, memory_order_release);  /* text first */
	printf("server: wrote \"%s\", waiting for the client\n", a->text);

	/* Poll every 10 ms: the cost of having no semaphore. */
	struct timespec tick = {0, 10 * 1000 * 1000};
	while (atomic_load_explicit(&a->state, memory_order_acquire) != READ)
		if (nanosleep(&tick, NULL) == -1)
			die("waiting for the client: nanosleep");
	printf("server: the client has read it\n");

	step("shmdt(%p)", (void *)a);
	if (shmdt(a) == -1)
		die("shmdt");
	step("shmctl(%d, IPC_RMID, NULL)", shmid);
	if (shmctl(shmid, IPC_RMID, NULL) == -1)
		die("shmctl(IPC_RMID)");
	shmid = -1;
	return 0;
}
