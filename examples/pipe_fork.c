/*
 * pipe_fork.c - an anonymous pipe between a parent and its child.  pipe()
 * makes two descriptors, fd[0] to read and fd[1] to write; fork() gives the
 * child copies of both.  The parent writes three lines and closes its write
 * end; the child reads until end of file and prints what came.
 *
 * The trap: each process must close the end it does not use.  A reader
 * sees end of file only when every write end is closed, its own copy
 * included; a child that kept fd[1] open would wait forever.  And a pipe
 * is a byte stream: the three writes may come out of one read, or split.  Writing to a
 * pipe nobody reads raises SIGPIPE (or fails with EPIPE when ignored).
 * Nothing to remove: the kernel frees the pipe with its last descriptor.
 *
 * usage: pipe_fork
 *
 *   $ ./pipe_fork
 *   step: pipe(fd)
 *   step: fork()
 *   step: parent: close(3), the read end it does not use
 *   step: parent: write(4, "one\n", 4)
 *   step: parent: write(4, "two\n", 4)
 *   step: parent: write(4, "three\n", 6)
 *   step: parent: close(4): the child sees end of file
 *   step: parent: waitpid(26088)
 *   step: child: close(4), the write end it does not use
 *   step: child: read(3) until end of file
 *   child: read 14 bytes "one\ntwo\nthree\n"
 *   child: end of file after 14 bytes
 *   parent: the child read everything and exited 0
 */
#include "ex.h"

static int child(int rfd)
{
	char buf[256];
	ssize_t n;
	size_t total = 0;
	step("child: read(%d) until end of file", rfd);
	while ((n = read(rfd, buf, sizeof(buf))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die("read");
		ex_show("child", buf, (size_t)n);
		total += (size_t)n;
	}
	printf("child: end of file after %zu bytes\n", total);
	return 0;
}

int main(int argc, char **argv)
{
	ex_init(argv);
	int fd[2];
	step("pipe(fd)");
	if (pipe(fd) == -1)
		die("pipe");

	step("fork()");
	pid_t pid = fork();
	if (pid == -1)
		die("fork");
	if (pid == 0) {
		step("child: close(%d), the write end it does not use", fd[1]);
		if (close(fd[1]) == -1)
			die("close");
		_exit(child(fd[0]));
	}
	step("parent: close(%d), the read end it does not use", fd[0]);
	if (close(fd[0]) == -1)
		die("close");
	const char *lines[] = {"one\n", "two\n", "three\n"};
	for (int i = 0; i < 3; i++) {
		step("parent: write(%d, \"%.*s\\n\", %zu)", fd[1], (int)strlen(lines[i]) - 1, lines[i], strlen(lines[i]));
		ex_write_all(fd[1], lines[i], strlen(lines[i]));
	}
	step("parent: close(%d): the child sees end of file", fd[1]);
	if (close(fd[1]) == -1)
		die("close");

	step("parent: waitpid(%d)", (int)pid);
	ex_wait_child(pid);
	printf("parent: the child read everything and exited 0\n");
	return 0;
}
