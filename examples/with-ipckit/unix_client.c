/*
 * unix_client.c with libipckit - the client of ../unix_client.c's exchange:
 * connect to "unix:PATH", send one request, print the one reply.
 *
 * Every scheme says "nobody listens" the same way, -ECONNREFUSED, so the
 * wait for a server that has not started yet is the same loop whatever
 * the URL.  The reply is one whole message: no reading to end of file.
 *
 * usage: unix_client [PATH]        (the server's; default /tmp/unix_demo.sock)
 *
 * Transcript: see unix_server.c.
 */
#include <ipckit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long ok(long r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "unix_client: %s: %s (%s)\n", what, ipck_errname((int)r), ipck_strerror((int)r));
		exit(1);
	}
	return r;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	char url[4200];
	snprintf(url, sizeof(url), "unix:%s", argc > 1 ? argv[1] : "/tmp/unix_demo.sock");

	ipck_chan *c;
	int r;
	printf("step: ipck_open(&c, \"%s\", 0)\n", url);
	for (int i = 0; (r = ipck_open(&c, url, 0)) == -ECONNREFUSED && i < 1000; i++)
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);   /* not there yet */
	ok(r, "ipck_open");

	const char *req = "hello from the client";
	printf("step: ipck_send(c, \"%s\", %zu, 10000)\n", req, strlen(req));
	ok(ipck_send(c, req, strlen(req), 10000), "ipck_send");
	char buf[256];
	printf("step: ipck_recv(c, buf, %zu, 10000)\n", sizeof(buf));
	ssize_t n = ok(ipck_recv(c, buf, sizeof(buf), 10000), "ipck_recv");
	printf("client: read %zd bytes \"%.*s\"\n", n, (int)n, buf);
	ok(ipck_close(c), "ipck_close");
	return 0;
}
