/*
 * msgrecv.c with libipckit - ../msgrecv.c's queue over "svmsg:KEY": the
 * receiver makes the System V queue, the sender sends three messages and
 * closes, the receiver prints each until the sender has gone.
 *
 * What the library saves: the struct with its long mtype, the size that
 * counts mtext only, the NUL the classic forgets, the queue's removal (the
 * listener's close, also after a crash of the sender), and the end: no
 * "end" message needed, the sender's close gives -EPIPE after its last
 * message.  What it costs: message types are the library's, they keep the
 * two directions apart, so a receiver cannot pick a type out of turn as
 * ../msgrecv.c does.  For messages with priorities, see pmsg_recv.c.
 * Waits come in slices of 100 ms so Ctrl-C ends them (see unix_server.c).
 *
 * usage: msgrecv [KEY]             (default 5681)
 *
 *   $ ./msgrecv 0x5681 & sleep 0.2; ./msgsend 0x5681; wait
 *   step: ipck_open(&listener, "svmsg:0x5681", IPCK_LISTEN)
 *   step: ipck_accept(listener, &c, 100) until a sender comes
 *   step: ipck_open(&c, "svmsg:0x5681", 0)
 *   step: ipck_recv(c, buf, 128, 10000) until EPIPE
 *   step: ipck_send(c, "hello", 5, 10000)
 *   receiver: 5 bytes: "hello"
 *   step: ipck_send(c, "urgent: read me first", 21, 10000)
 *   receiver: 21 bytes: "urgent: read me first"
 *   step: ipck_send(c, "world", 5, 10000)
 *   step: ipck_close(c): the receiver gets EPIPE after the last
 *   receiver: 5 bytes: "world"
 *   sender: 3 messages sent
 *   receiver: the sender is done after 3 messages
 */
#include <ipckit.h>
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

static long ok(long r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "msgrecv: %s: %s (%s)\n", what, ipck_errname((int)r), ipck_strerror((int)r));
		ipck_close(listener);   /* removes the queue */
		exit(1);
	}
	return r;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	char url[256];
	snprintf(url, sizeof(url), "svmsg:%s", argc > 1 ? argv[1] : "5681");

	printf("step: ipck_open(&listener, \"%s\", IPCK_LISTEN)\n", url);
	ok(ipck_open(&listener, url, IPCK_LISTEN), "ipck_open");
	ipck_chan *c = NULL;
	int r, waited = 0;
	printf("step: ipck_accept(listener, &c, %d) until a sender comes\n", SLICE_MS);
	while ((r = ipck_accept(listener, &c, SLICE_MS)) == -ETIMEDOUT && !stop && (waited += SLICE_MS) < 30000)
		;
	ok(stop ? -EINTR : r, "ipck_accept");

	char buf[128];
	ssize_t n;
	int count = 0;
	printf("step: ipck_recv(c, buf, %zu, 10000) until EPIPE\n", sizeof(buf));
	while ((n = ipck_recv(c, buf, sizeof(buf), 10000)) >= 0) {
		printf("receiver: %zd bytes: \"%.*s\"\n", n, (int)n, buf);
		count++;
	}
	if (n != -EPIPE)
		ok(n, "ipck_recv");
	printf("receiver: the sender is done after %d messages\n", count);
	ok(ipck_close(c), "ipck_close");
	r = ipck_close(listener);
	listener = NULL;
	ok(r, "ipck_close(listener)");
	return 0;
}
