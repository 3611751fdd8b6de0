/*
 * pmsg_send.c - the sending side of pmsg_recv.c: four messages with
 * priorities, sent in the order low, high, middle, end; then exit.  The
 * receiver takes them highest priority first: high, middle, low, end.
 * Messages of equal priority keep their order.
 *
 * usage: pmsg_send [/NAME]         (the receiver's; default /pmsg_demo)
 *
 * Transcript: see pmsg_recv.c.
 */
#include "ex.h"
#include <fcntl.h>
#include <mqueue.h>

static void send(mqd_t q, const char *text, unsigned prio)
{
	step("mq_send(q, \"%s\", %zu, %u)", text, strlen(text), prio);
	if (mq_send(q, text, strlen(text), prio) == -1)
		die("mq_send");
}

int main(int argc, char **argv)
{
	ex_init(argv);
	const char *name = argc > 1 ? argv[1] : "/pmsg_demo";
	ex_deadline(10);   /* mq_send blocks while the queue is full */

	mqd_t q;
	int tries = 0;
	step("mq_open(\"%s\", O_WRONLY)", name);
	while ((q = mq_open(name, O_WRONLY | O_CLOEXEC)) == (mqd_t)-1 && ex_retry(&tries))
		;   /* ENOENT: the receiver has not created it yet */
	if (q == (mqd_t)-1)
		die("mq_open");

	send(q, "low", 1);
	send(q, "high", 9);
	send(q, "middle", 5);
	send(q, "end", 0);
	if (mq_close(q) == -1)
		die("mq_close");
	printf("sender: 4 messages sent, exiting\n");
	return 0;
}
