/*
 * msgrecv.c - System V message queue, the receiving side.  It creates the
 * queue, then takes messages by type: first the one of type 2 ("urgent"),
 * which jumps the queue, then any type in the order they were sent, until a
 * message of type 3 ("end").  Then it removes the queue.  Start it first,
 * then msgsend with the same KEY.
 *
 * msgrcv's fourth argument chooses: 0 the oldest message of any type, N > 0
 * the oldest of type N, N < 0 the oldest of the lowest type <= |N|.  The
 * length it returns counts mtext only, and a message is not a C string
 * unless the sender put the NUL in: print it with its length.
 *
 * usage: msgrecv [KEY | PATH]      (default key 5681)
 *
 *   $ ./msgrecv 0x5681 & sleep 0.2; ./msgsend 0x5681; wait
 *   step: msgget(0x5681, IPC_CREAT|IPC_EXCL|0600)
 *   step: msgrcv(22, &m, 128, 2, 0)
 *   step: msgget(0x5681, 0)
 *   step: msgsnd(22, {1, "hello"}, 6, 0)
 *   step: msgsnd(22, {2, "urgent: read me first"}, 22, 0)
 *   step: msgsnd(22, {1, "world"}, 6, 0)
 *   step: msgsnd(22, {3, "end"}, 4, 0)
 *   sender: 4 messages sent
 *   receiver: type 2, 22 bytes: "urgent: read me first"
 *   step: msgrcv(22, &m, 128, 0, 0)
 *   receiver: type 1, 6 bytes: "hello"
 *   step: msgrcv(22, &m, 128, 0, 0)
 *   receiver: type 1, 6 bytes: "world"
 *   step: msgrcv(22, &m, 128, 0, 0)
 *   receiver: type 3, 4 bytes: "end"
 *   step: msgctl(22, IPC_RMID, NULL)
 *   $ ipcs -q | grep -c 0x00005681
 *   0
 */
#include "ex.h"
#include <sys/msg.h>

enum { T_NORMAL = 1, T_URGENT = 2, T_END = 3 };

struct message {
	long mtype;       /* > 0 */
	char mtext[128];
};

static int qid = -1;

static void remove_queue(void)
{
	if (qid != -1 && msgctl(qid, IPC_RMID, NULL) == -1)
		perror("msgctl(IPC_RMID)");
}

static long receive(long type)
{
	struct message m;
	step("msgrcv(%d, &m, %zu, %ld, 0)", qid, sizeof(m.mtext), type);
	ssize_t n = msgrcv(qid, &m, sizeof(m.mtext), type, 0);
	if (n == -1)
		die("msgrcv");
	printf("receiver: type %ld, %zd bytes: \"%.*s\"\n", m.mtype, n, (int)strnlen(m.mtext, (size_t)n), m.mtext);
	return m.mtype;
}

int main(int argc, char **argv)
{
	ex_init(argv);
	key_t key = ex_key(argc > 1 ? argv[1] : NULL, 5681);
	ex_deadline(30);   /* a sender that never comes ends the wait */

	step("msgget(0x%x, IPC_CREAT|IPC_EXCL|0600)", (unsigned)key);
	qid = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
	if (qid == -1)
		die("msgget");
	atexit(remove_queue);

	receive(T_URGENT);
	while (receive(0) != T_END)
		;

	step("msgctl(%d, IPC_RMID, NULL)", qid);
	if (msgctl(qid, IPC_RMID, NULL) == -1)
		die("msgctl(IPC_RMID)");
	qid = -1;
	return 0;
}
