/*
 * sig_demo.c - signals that carry a value: sigaction with SA_SIGINFO and
 * sigqueue.  The parent installs a handler for SIGRTMIN and forks; the child
 * sends SIGRTMIN three times with the values 1, 2, 3; the handler records
 * each value and the sender's pid, the parent prints them.
 *
 * Done right: the signal is blocked before fork, so none can arrive before
 * the parent waits for it, and sigsuspend unblocks it and sleeps in one
 * atomic step (a check-then-pause loop can miss a signal).  The handler
 * only stores into volatile sig_atomic_t variables: printf is not
 * async-signal-safe.  Realtime signals (SIGRTMIN..SIGRTMAX) queue, in order,
 * with their values; three SIGUSR1s sent quickly might arrive as one.
 *
 * usage: sig_demo
 *
 *   $ ./sig_demo
 *   step: sigprocmask(SIG_BLOCK, {SIGRTMIN, SIGALRM, SIGINT, SIGTERM})
 *   step: sigaction(SIGRTMIN, {on_rt, SA_SIGINFO})
 *   step: fork()
 *   step: parent: sigsuspend(old mask): unblock and wait
 *   step: child: sigqueue(26107, SIGRTMIN, {.sival_int = 1})
 *   step: child: sigqueue(26107, SIGRTMIN, {.sival_int = 2})
 *   step: child: sigqueue(26107, SIGRTMIN, {.sival_int = 3})
 *   step: parent: sigsuspend(old mask): unblock and wait
 *   step: parent: sigsuspend(old mask): unblock and wait
 *   parent: SIGRTMIN from pid 26108 with value 1
 *   parent: SIGRTMIN from pid 26108 with value 2
 *   parent: SIGRTMIN from pid 26108 with value 3
 *   parent: 3 values in order from the child
 */
#include "ex.h"

#define COUNT 3

static volatile sig_atomic_t got, values[COUNT], senders[COUNT];

static void on_rt(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	if (got < COUNT) {
		values[got] = si->si_value.sival_int;
		senders[got] = si->si_pid;
		got++;
	}
}

static void child(pid_t parent)
{
	for (int i = 1; i <= COUNT; i++) {
		step("child: sigqueue(%d, SIGRTMIN, {.sival_int = %d})", (int)parent, i);
		if (sigqueue(parent, SIGRTMIN, (union sigval){.sival_int = i}) == -1)
			die("sigqueue");
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	ex_init(argv);
	sigset_t rt, old;   /* and the deadline's signals: none may slip in */
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	sigaddset(&rt, SIGALRM);
	sigaddset(&rt, SIGINT);
	sigaddset(&rt, SIGTERM);
	step("sigprocmask(SIG_BLOCK, {SIGRTMIN, SIGALRM, SIGINT, SIGTERM})");
	if (sigprocmask(SIG_BLOCK, &rt, &old) == -1)
		die("sigprocmask");
	struct sigaction sa = {.sa_sigaction = on_rt, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	step("sigaction(SIGRTMIN, {on_rt, SA_SIGINFO})");
	if (sigaction(SIGRTMIN, &sa, NULL) == -1)
		die("sigaction");

	step("fork()");
	pid_t pid = fork();
	if (pid == -1)
		die("fork");
	if (pid == 0)
		child(getppid());

	ex_deadline(10);
	while (got < COUNT && !ex_stop) {
		step("parent: sigsuspend(old mask): unblock and wait");
		sigsuspend(&old);   /* always -1 EINTR, after a handler ran */
	}
	if (got < COUNT)
		fail("only %d of %d signals (%s)", (int)got, COUNT, strsignal(ex_stop));
	for (int i = 0; i < COUNT; i++)
		printf("parent: SIGRTMIN from pid %d with value %d\n", (int)senders[i], (int)values[i]);

	ex_wait_child(pid);
	for (int i = 0; i < COUNT; i++)
		if (values[i] != i + 1 || senders[i] != pid)
			fail("signal %d: value %d from %d, expected %d from %d", i,
			     (int)values[i], (int)senders[i], i + 1, (int)pid);
	printf("parent: %d values in order from the child\n", COUNT);
	return 0;
}
