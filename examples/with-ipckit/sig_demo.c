/*
 * sig_demo.c with libipckit - ../sig_demo.c's exchange over the library's
 * "signal:PATH" channel: the parent listens (PATH holds its pid), the child
 * connects and sends the values 1, 2, 3; they travel as queued realtime
 * signals (sigqueue) and arrive through a signalfd, in order, with the
 * sender's pid known to the receiver.
 *
 * What the library saves: sigaction and the handler with its
 * async-signal-safety rules, the mask juggling around fork and
 * sigsuspend, publishing the pid (the PATH file, locked while the listener
 * lives, so a stale pid is never signalled), and the end: -EPIPE after the
 * child's last value.  The channel's signal (SIGRTMIN+4) stays blocked in
 * both processes: a signal that is not blocked would kill, not queue.
 *
 * usage: sig_demo [PATH]           (default /tmp/sig_demo.pid)
 *
 *   $ ./sig_demo /tmp/sig
 *   step: ipck_open(&listener, "signal:/tmp/sig", IPCK_LISTEN)
 *   step: fork()
 *   step: parent: ipck_accept(listener, &c, 10000)
 *   step: child: ipck_open(&c, "signal:/tmp/sig", 0)
 *   step: parent: ipck_recv(c, &value, 4, 5000) until EPIPE
 *   step: child: ipck_send(c, &value (1), 4, 5000)
 *   step: child: ipck_send(c, &value (2), 4, 5000)
 *   step: child: ipck_send(c, &value (3), 4, 5000)
 *   parent: value 1 from pid 20914
 *   parent: value 2 from pid 20914
 *   parent: value 3 from pid 20914
 *   parent: 3 values in order from the child
 */
#include <ipckit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define COUNT 3

static ipck_chan *listener;
static pid_t parent;

static long ok(long r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "sig_demo: %s: %s (%s)\n", what, ipck_errname((int)r), ipck_strerror((int)r));
		if (getpid() == parent)
			ipck_close(listener);   /* removes PATH */
		exit(1);
	}
	return r;
}

static void child(const char *url)
{
	ipck_chan *c;
	printf("step: child: ipck_open(&c, \"%s\", 0)\n", url);
	ok(ipck_open(&c, url, 0), "ipck_open");
	for (int v = 1; v <= COUNT; v++) {
		printf("step: child: ipck_send(c, &value (%d), %zu, 5000)\n", v, sizeof(v));
		ok(ipck_send(c, &v, sizeof(v), 5000), "ipck_send");
	}
	ok(ipck_close(c), "ipck_close");
	_exit(0);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	parent = getpid();
	char url[4200];
	snprintf(url, sizeof(url), "signal:%s", argc > 1 ? argv[1] : "/tmp/sig_demo.pid");

	printf("step: ipck_open(&listener, \"%s\", IPCK_LISTEN)\n", url);
	ok(ipck_open(&listener, url, IPCK_LISTEN), "ipck_open");
	printf("step: fork()\n");
	pid_t pid = fork();
	if (pid < 0)
		ok(-errno, "fork");
	if (pid == 0)
		child(url);

	ipck_chan *c;
	printf("step: parent: ipck_accept(listener, &c, 10000)\n");
	ok(ipck_accept(listener, &c, 10000), "ipck_accept");
	int v, got = 0;
	ssize_t n;
	printf("step: parent: ipck_recv(c, &value, %zu, 5000) until EPIPE\n", sizeof(v));
	while ((n = ipck_recv(c, &v, sizeof(v), 5000)) == (ssize_t)sizeof(v)) {
		printf("parent: value %d from pid %d\n", v, (int)ipck_peer_pid(c));
		if (v != ++got || ipck_peer_pid(c) != pid)
			ok(-EPROTO, "a value out of order or from another process");
	}
	if (n != -EPIPE)
		ok(n < 0 ? n : -EPROTO, "ipck_recv");
	int st;
	if (waitpid(pid, &st, 0) < 0)
		ok(-errno, "waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || got != COUNT)
		ok(-ECHILD, "the child failed");
	printf("parent: %d values in order from the child\n", COUNT);
	ok(ipck_close(c), "ipck_close");
	int r = ipck_close(listener);
	listener = NULL;
	ok(r, "ipck_close(listener)");
	return 0;
}
