/*
 * unix_server.c with libipckit - the exchange of ../unix_server.c: accept
 * one client on "unix:PATH", take its request, answer it in capitals.
 *
 * What the library saves: the sockaddr_un and its length check, the umask
 * dance (the socket file is made 0600), the unlink at the end (closing the
 * listener removes the file it bound) and of a file left by a crashed
 * server, SO_PEERCRED (ipck_peer_pid; another user's client is refused),
 * and the framing: the request is one message, no shutdown() marks its end.
 * The library retries EINTR inside its waits, so the waits here come in
 * slices of 100 ms: Ctrl-C still ends them and the file is still removed.
 *
 * usage: unix_server [PATH]        (default /tmp/unix_demo.sock)
 *
 *   $ ./unix_server /tmp/s & sleep 0.2; ./unix_client /tmp/s; wait
 *   step: ipck_open(&listener, "unix:/tmp/s", IPCK_LISTEN)
 *   step: ipck_accept(listener, &c, 100) until a client comes
 *   step: ipck_open(&c, "unix:/tmp/s", 0)
 *   step: ipck_send(c, "hello from the client", 21, 10000)
 *   step: ipck_recv(c, buf, 256, 10000)
 *   server: client pid 20315 connected
 *   step: ipck_recv(c, buf, 256, 10000)
 *   server: read 21 bytes "hello from the client"
 *   step: ipck_send(c, reply, 21, 10000); ipck_close(c); ipck_close(listener)
 *   client: read 21 bytes "HELLO FROM THE CLIENT"
 */
#include <ipckit.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#define SLICE_MS 100

static volatile sig_atomic_t stop;
static ipck_chan *listener;

static void on_stop(int sig)
{
	stop = sig;
}

/* A libipckit call returns >= 0 or a negative errno. */
static long ok(long r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "unix_server: %s: %s (%s)\n", what, ipck_errname((int)r), ipck_strerror((int)r));
		ipck_close(listener);   /* removes the socket file */
		exit(1);
	}
	return r;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	char url[4200];
	snprintf(url, sizeof(url), "unix:%s", argc > 1 ? argv[1] : "/tmp/unix_demo.sock");

	printf("step: ipck_open(&listener, \"%s\", IPCK_LISTEN)\n", url);
	ok(ipck_open(&listener, url, IPCK_LISTEN), "ipck_open");
	ipck_chan *c = NULL;
	int r, waited = 0;
	printf("step: ipck_accept(listener, &c, %d) until a client comes\n", SLICE_MS);
	while ((r = ipck_accept(listener, &c, SLICE_MS)) == -ETIMEDOUT && !stop && (waited += SLICE_MS) < 30000)
		;
	ok(stop ? -EINTR : r, "ipck_accept");
	printf("server: client pid %d connected\n", (int)ipck_peer_pid(c));

	char buf[256];
	printf("step: ipck_recv(c, buf, %zu, 10000)\n", sizeof(buf));
	ssize_t n = ok(ipck_recv(c, buf, sizeof(buf), 10000), "ipck_recv");
	printf("server: read %zd bytes \"%.*s\"\n", n, (int)n, buf);
	for (ssize_t i = 0; i < n; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	printf("step: ipck_send(c, reply, %zd, 10000); ipck_close(c); ipck_close(listener)\n", n);
	ok(ipck_send(c, buf, (size_t)n, 10000), "ipck_send");
	ok(ipck_close(c), "ipck_close");
	r = ipck_close(listener);
	listener = NULL;
	ok(r, "ipck_close(listener)");
	return 0;
}
