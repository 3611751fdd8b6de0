/*
 * pipe_fork.c with libipckit - the exchange of ../pipe_fork.c: the parent
 * sends three lines to its child over "pipe:", the child prints them.
 *
 * What the library saves: the unused ends (ipck_pair makes a channel for
 * each side; each process closes the one it does not keep), partial writes
 * and EINTR, SIGPIPE (never raised), and the framing: each ipck_recv
 * returns one whole message as it was sent, where a raw pipe gives bytes
 * in whatever pieces the kernel has.  The child learns that the parent is
 * done from -EPIPE, once it has received everything sent before.
 *
 * usage: pipe_fork
 *
 *   $ ./pipe_fork
 *   step: ipck_pair("pipe:", &parent, &child)
 *   step: fork()
 *   step: parent: ipck_send(parent, "one\n", 4, -1)
 *   step: parent: ipck_send(parent, "two\n", 4, -1)
 *   step: parent: ipck_send(parent, "three\n", 6, -1)
 *   step: parent: ipck_close(parent): the child sees EPIPE after the last
 *   step: child: ipck_recv(child, buf, 256, 5000) until EPIPE
 *   child: message of 4 bytes "one\n"
 *   child: message of 4 bytes "two\n"
 *   child: message of 6 bytes "three\n"
 *   child: end of file after 14 bytes
 *   parent: the child read everything and exited 0
 */
#include <ipckit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A libipckit call returns >= 0 or a negative errno. */
static long ok(long r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "pipe_fork: %s: %s (%s)\n", what, ipck_errname((int)r), ipck_strerror((int)r));
		exit(1);
	}
	return r;
}

static int child(ipck_chan *ch)
{
	char buf[256];
	size_t total = 0;
	ssize_t n;
	printf("step: child: ipck_recv(child, buf, %zu, 5000) until EPIPE\n", sizeof(buf));
	while ((n = ipck_recv(ch, buf, sizeof(buf), 5000)) >= 0) {
		int len = (int)n, nl = len > 0 && buf[len - 1] == '\n';
		printf("child: message of %zd bytes \"%.*s%s\"\n", n, len - nl, buf, nl ? "\\n" : "");
		total += (size_t)n;
	}
	if (n != -EPIPE)
		ok(n, "ipck_recv");
	printf("child: end of file after %zu bytes\n", total);
	ipck_close(ch);
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	ipck_chan *parent, *kid;
	printf("step: ipck_pair(\"pipe:\", &parent, &child)\n");
	ok(ipck_pair("pipe:", &parent, &kid), "ipck_pair");

	printf("step: fork()\n");
	pid_t pid = fork();
	if (pid < 0)
		ok(-errno, "fork");
	if (pid == 0) {
		ipck_close(parent);
		_exit(child(kid));
	}
	ipck_close(kid);
	const char *lines[] = {"one\n", "two\n", "three\n"};
	for (int i = 0; i < 3; i++) {
		size_t len = strlen(lines[i]);
		printf("step: parent: ipck_send(parent, \"%.*s\\n\", %zu, -1)\n", (int)len - 1, lines[i], len);
		ok(ipck_send(parent, lines[i], len, -1), "ipck_send");
	}
	printf("step: parent: ipck_close(parent): the child sees EPIPE after the last\n");
	ok(ipck_close(parent), "ipck_close");

	int st;
	if (waitpid(pid, &st, 0) < 0)
		ok(-errno, "waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "pipe_fork: the child failed (wait status 0x%x)\n", st);
		return 1;
	}
	printf("parent: the child read everything and exited 0\n");
	return 0;
}
