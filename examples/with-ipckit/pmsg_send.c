/*
 * pmsg_send.c with libipckit - the sending side of pmsg_recv.c's exchange:
 * connect to "pmsg:/NAME", send three messages, close.
 *
 * usage: pmsg_send [/NAME]         (the receiver's; default /pmsg_demo)
 *
 * Transcript: see pmsg_recv.c.
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
		fprintf(stderr, "pmsg_send: %s: %s (%s)\n", what, ipck_errname((int)r), ipck_strerror((int)r));
		exit(1);
	}
	return r;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	char url[300];
	snprintf(url, sizeof(url), "pmsg:%s", argc > 1 ? argv[1] : "/pmsg_demo");

	ipck_chan *c;
	int r;
	printf("step: ipck_open(&c, \"%s\", 0)\n", url);
	for (int i = 0; (r = ipck_open(&c, url, 0)) == -ECONNREFUSED && i < 1000; i++)
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);   /* not there yet */
	ok(r, "ipck_open");

	const char *msgs[] = {"low", "high", "middle"};
	for (int i = 0; i < 3; i++) {
		printf("step: ipck_send(c, \"%s\", %zu, 10000)\n", msgs[i], strlen(msgs[i]));
		ok(ipck_send(c, msgs[i], strlen(msgs[i]), 10000), "ipck_send");
	}
	printf("step: ipck_close(c): the receiver gets EPIPE after the last\n");
	ok(ipck_close(c), "ipck_close");
	printf("sender: 3 messages sent\n");
	return 0;
}
