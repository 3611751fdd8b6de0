/*
 * msgsend.c - System V message queue, the sending side: four messages of
 * three types into the queue msgrecv created.  msgrecv takes the urgent one
 * first although it was sent second.  The sender does not remove the queue:
 * the receiver owns it.
 *
 * msgsnd's size counts mtext only, not the long mtype in front of it (the
 * classic bug is sizeof(struct message)).  Here the NUL is sent too, so the
 * receiver may print it as a string.
 *
 * usage: msgsend [KEY | PATH]      (the receiver's; default 5681)
 *
 * Transcript: see msgrecv.c.
 */
#include "ex.h"
#include <sys/msg.h>

enum { T_NORMAL = 1, T_URGENT = 2, T_END = 3 };

struct message {
	long mtype;
	char mtext[128];
};

static void send(int qid, long type, const char *text)
{
	struct message m = {.mtype = type};
	size_t len = strlen(text) + 1;
	memcpy(m.mtext, text, len);
	step("msgsnd(%d, {%ld, \"%s\"}, %zu, 0)", qid, type, text, len);
	if (msgsnd(qid, &m, len, 0) == -1)
		die("msgsnd");
}

int main(int argc, char **argv)
{
	ex_init(argv);
	key_t key = ex_key(argc > 1 ? argv[1] : NULL, 5681);
	ex_deadline(10);   /* msgsnd blocks while the queue is full */

	int qid, tries = 0;
	step("msgget(0x%x, 0)", (unsigned)key);
	while ((qid = msgget(key, 0)) == -1 && ex_retry(&tries))
		;   /* ENOENT: the receiver has not created it yet */
	if (qid == -1)
		die("msgget");

	send(qid, T_NORMAL, "hello");
	send(qid, T_URGENT, "urgent: read me first");
	send(qid, T_NORMAL, "world");
	send(qid, T_END, "end");
	printf("sender: 4 messages sent\n");
	return 0;
}
