/*
 * pmsg_recv.c - a POSIX message queue with priorities and mq_notify, the
 * receiving side.  It creates the queue (0600, O_EXCL) and asks mq_notify for
 * SIGUSR1 when a message arrives on the empty queue.  The notification's
 * siginfo names the sender (si_pid); the receiver waits, through a pidfd,
 * until that sender has exited: its messages stay queued, the queue lives
 * in the kernel, not in a process.  Then it takes them: mq_receive returns
 * the highest priority first, so the order is not the order they were sent.
 * Finally it removes the queue.  Start it first, then pmsg_send.
 *
 * Done right: the signal is blocked and taken with sigtimedwait, so there is
 * no handler and no race with its arrival; mq_notify is a one-shot
 * registration (register again for the next one) and fires only when a
 * message lands on an EMPTY queue, so after registering, look at the queue:
 * a sender quicker than mq_notify leaves messages that will never ring (then
 * this program just reads them); the receive buffer must be at least
 * mq_msgsize or mq_receive fails with EMSGSIZE.
 *
 * usage: pmsg_recv [/NAME]         (default /pmsg_demo)
 *
 *   $ ./pmsg_recv /q & sleep 0.2; ./pmsg_send /q; wait
 *   step: mq_open("/q", O_RDONLY|O_CREAT|O_EXCL, 0600, {maxmsg 10, msgsize 128})
 *   step: mq_notify(q, SIGEV_SIGNAL SIGUSR1)
 *   step: sigtimedwait(SIGUSR1): waits for a message on the empty queue
 *   step: mq_open("/q", O_WRONLY)
 *   step: mq_send(q, "low", 3, 1)
 *   step: mq_send(q, "high", 4, 9)
 *   step: mq_send(q, "middle", 6, 5)
 *   step: mq_send(q, "end", 3, 0)
 *   sender: 4 messages sent, exiting
 *   receiver: notified: a message from pid 26098
 *   step: pidfd_open(26098) + poll: wait until the sender has exited
 *   receiver: 4 messages waiting
 *   step: mq_receive(q, buf, 128, &prio)
 *   receiver: priority 9: "high"
 *   step: mq_receive(q, buf, 128, &prio)
 *   receiver: priority 5: "middle"
 *   step: mq_receive(q, buf, 128, &prio)
 *   receiver: priority 1: "low"
 *   step: mq_receive(q, buf, 128, &prio)
 *   receiver: priority 0: "end"
 *   step: mq_close(q); mq_unlink("/q")
 */
#include "ex.h"
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sys/pidfd.h>

static const char *name;
static int created;

static void remove_queue(void)
{
	if (created && mq_unlink(name) == -1)
		perror("mq_unlink");
}

/* Wait for the notification; returns the sender's pid, 0 if none will come. */
static pid_t wait_notification(mqd_t q)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		die("sigprocmask");
	struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
	step("mq_notify(q, SIGEV_SIGNAL SIGUSR1)");
	if (mq_notify(q, &sev) == -1)
		die("mq_notify");

	struct mq_attr attr;
	if (mq_getattr(q, &attr) == -1)
		die("mq_getattr");
	if (attr.mq_curmsgs > 0) {
		printf("receiver: messages came before mq_notify: no notification\n");
		return 0;
	}
	siginfo_t si;
	step("sigtimedwait(SIGUSR1): waits for a message on the empty queue");
	if (sigtimedwait(&set, &si, &(struct timespec){30, 0}) == -1)
		die(errno == EAGAIN ? "sigtimedwait: no message within 30 s" : "sigtimedwait");
	if (si.si_code != SI_MESGQ)
		fail("SIGUSR1 did not come from the queue (si_code %d)", si.si_code);
	printf("receiver: notified: a message from pid %d\n", (int)si.si_pid);
	return si.si_pid;
}

static void wait_exit(pid_t pid)
{
	step("pidfd_open(%d) + poll: wait until the sender has exited", (int)pid);
	int pfd = pidfd_open(pid, 0);
	if (pfd == -1 && errno == ESRCH)
		return;   /* gone already */
	if (pfd == -1)
		die("pidfd_open");
	struct pollfd p = {.fd = pfd, .events = POLLIN};
	int r = poll(&p, 1, 10000);
	if (r == -1)
		die("poll");
	if (r == 0)
		fail("the sender did not exit within 10 s");
	close(pfd);
}

int main(int argc, char **argv)
{
	ex_init(argv);
	name = argc > 1 ? argv[1] : "/pmsg_demo";
	ex_deadline(30);

	struct mq_attr attr = {.mq_maxmsg = 10, .mq_msgsize = 128};
	step("mq_open(\"%s\", O_RDONLY|O_CREAT|O_EXCL, 0600, {maxmsg 10, msgsize 128})", name);
	mqd_t q = mq_open(name, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
	if (q == (mqd_t)-1)
		die("mq_open");
	created = 1;
	atexit(remove_queue);

	pid_t sender = wait_notification(q);
	if (sender > 0)
		wait_exit(sender);
	if (mq_getattr(q, &attr) == -1)
		die("mq_getattr");
	printf("receiver: %ld messages waiting\n", attr.mq_curmsgs);

	struct timespec limit;   /* mq_timedreceive wants a CLOCK_REALTIME instant */
	if (clock_gettime(CLOCK_REALTIME, &limit) == -1)
		die("clock_gettime");
	limit.tv_sec += 10;
	char buf[128];   /* >= mq_msgsize */
	unsigned prio;
	ssize_t n;
	do {
		step("mq_receive(q, buf, %zu, &prio)", sizeof(buf));
		n = mq_timedreceive(q, buf, sizeof(buf), &prio, &limit);
		if (n == -1)
			die(errno == ETIMEDOUT ? "mq_receive: no \"end\" within 10 s" : "mq_receive");
		printf("receiver: priority %u: \"%.*s\"\n", prio, (int)n, buf);
	} while (n != 3 || memcmp(buf, "end", 3));

	step("mq_close(q); mq_unlink(\"%s\")", name);
	if (mq_close(q) == -1)
		die("mq_close");
	return 0;   /* remove_queue runs at exit */
}
