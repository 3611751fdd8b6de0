/*
 * unix_client.c - the client of unix_server.c: connect to the path, send a
 * request, shut down the writing side (the server reads to end of file),
 * read the answer to end of file.  A stream socket has no message
 * boundaries: end of file, or a length in front, tells where a message ends.
 *
 * The server may not be listening yet: connect fails with ENOENT (no such
 * file) or ECONNREFUSED (file, nobody listening) and is retried.
 *
 * usage: unix_client [PATH]        (the server's; default /tmp/unix_demo.sock)
 *
 * Transcript: see unix_server.c.
 */
#include "ex.h"
#include <sys/socket.h>
#include <sys/un.h>

int main(int argc, char **argv)
{
	ex_init(argv);
	const char *path = argc > 1 ? argv[1] : "/tmp/unix_demo.sock";
	ex_deadline(10);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		fail("%s: longer than %zu bytes", path, sizeof(a.sun_path) - 1);
	strcpy(a.sun_path, path);

	step("socket(AF_UNIX, SOCK_STREAM, 0)");
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		die("socket");
	int r, tries = 0;
	step("connect(%d, \"%s\")", fd, path);
	while ((r = connect(fd, (struct sockaddr *)&a, sizeof(a))) == -1 && ex_retry(&tries))
		;   /* ENOENT, ECONNREFUSED: the server is not listening yet */
	if (r == -1)
		die("connect");

	const char *req = "hello from the client";
	step("write(%d, \"%s\", %zu); shutdown(%d, SHUT_WR)", fd, req, strlen(req), fd);
	ex_write_all(fd, req, strlen(req));
	if (shutdown(fd, SHUT_WR) == -1)
		die("shutdown");

	char buf[256];
	step("read(%d) until the server closes", fd);
	size_t got = ex_read_all(fd, buf, sizeof(buf));
	ex_show("client", buf, got);
	if (close(fd) == -1)
		die("close");
	return 0;
}
