/*
 * unix_server.c - a Unix domain stream socket, the server: bind a path,
 * listen, accept one client, read its request to end of file, answer it in
 * capitals, close, remove the path.  Start it first, then unix_client.
 *
 * Done right: the socket file's mode comes from the umask at bind time
 * (connect needs write permission on it), so umask(0177) makes it 0600 (on
 * Linux; some systems ignore socket file modes: then put the socket in a
 * 0700 directory).  A path longer than sun_path is refused, not cut.  The
 * name is removed as soon as the one client is accepted: connections do
 * not need it, and the next bind would fail with EADDRINUSE.  SO_PEERCRED
 * tells who connected, checked by the kernel.
 *
 * usage: unix_server [PATH]        (default /tmp/unix_demo.sock)
 *
 *   $ ./unix_server /tmp/s & sleep 0.2; ./unix_client /tmp/s; wait
 *   step: socket(AF_UNIX, SOCK_STREAM, 0)
 *   step: bind(3, "/tmp/s") with umask 0177: mode 0600
 *   step: listen(3, 1)
 *   step: accept(3) waits for a client
 *   step: socket(AF_UNIX, SOCK_STREAM, 0)
 *   step: connect(3, "/tmp/s")
 *   step: write(3, "hello from the client", 21); shutdown(3, SHUT_WR)
 *   step: read(3) until the server closes
 *   step: unlink("/tmp/s"): connected, the name can go
 *   server: client pid 26102 uid 0 connected
 *   step: read(4) until the client shuts down its side
 *   server: read 21 bytes "hello from the client"
 *   step: write(4, reply, 21); close(4)
 *   client: read 21 bytes "HELLO FROM THE CLIENT"
 */
#include "ex.h"
#include <ctype.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static const char *path;
static int bound;

static void remove_name(void)
{
	if (bound && unlink(path) == -1)
		perror("unlink");
}

static int listen_on(struct sockaddr_un *a)
{
	step("socket(AF_UNIX, SOCK_STREAM, 0)");
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		die("socket");
	step("bind(%d, \"%s\") with umask 0177: mode 0600", fd, path);
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)a, sizeof(*a));
	umask(old);
	if (r == -1)
		die("bind");
	bound = 1;
	atexit(remove_name);
	step("listen(%d, 1)", fd);
	if (listen(fd, 1) == -1)
		die("listen");
	return fd;
}

int main(int argc, char **argv)
{
	ex_init(argv);
	path = argc > 1 ? argv[1] : "/tmp/unix_demo.sock";
	ex_deadline(30);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		fail("%s: longer than %zu bytes", path, sizeof(a.sun_path) - 1);
	strcpy(a.sun_path, path);
	int lfd = listen_on(&a);

	step("accept(%d) waits for a client", lfd);
	int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd == -1)
		die("accept");
	step("unlink(\"%s\"): connected, the name can go", path);
	if (unlink(path) == -1)
		die("unlink");
	bound = 0;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		die("getsockopt(SO_PEERCRED)");
	printf("server: client pid %d uid %d connected\n", (int)cred.pid, (int)cred.uid);

	char buf[256];
	step("read(%d) until the client shuts down its side", cfd);
	size_t got = ex_read_all(cfd, buf, sizeof(buf));
	ex_show("server", buf, got);
	for (size_t i = 0; i < got; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	step("write(%d, reply, %zu); close(%d)", cfd, got, cfd);
	ex_write_all(cfd, buf, got);
	if (close(cfd) == -1 || close(lfd) == -1)
		die("close");
	return 0;
}
