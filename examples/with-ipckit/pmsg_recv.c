/*
 * pmsg_recv.c with libipckit - ../pmsg_recv.c's queue over "pmsg:/NAME":
 * the receiver listens, the sender connects and sends three messages; the
 * receiver waits for the first with poll on ipck_pollfd, where the raw one
 * used mq_notify and a signal, then takes messages until the sender has gone.
 *
 * What the library saves: the attributes and the receive buffer that must
 * hold mq_msgsize, the one-shot registration of mq_notify and its signal
 * (a queue descriptor polls like any other), the queue's removal, and the
 * end: a queue has no "writer closed"; the library sends one and watches
 * the sender's pid, so -EPIPE comes after the last message.  What it
 * costs: the messages of one channel keep their order; priorities are per
 * channel (pmsg:/NAME?priority=N on the sender's URL), so here they are
 * not reordered.  Waits come in slices of 100 ms so Ctrl-C ends them.
 *
 * usage: pmsg_recv [/NAME]         (default /pmsg_demo)
 *
 *   $ ./pmsg_recv /q & sleep 0.2; ./pmsg_send /q; wait
 *   step: ipck_open(&listener, "pmsg:/q", IPCK_LISTEN)
 *   step: ipck_accept(listener, &c, 100) until a sender comes
 *   step: ipck_open(&c, "pmsg:/q", 0)
 *   step: poll({ipck_pollfd(c), POLLIN}, 1, 10000)
 *   step: ipck_send(c, "low", 3, 10000)
 *   step: ipck_send(c, "high", 4, 10000)
 *   step: ipck_send(c, "middle", 6, 10000)
 *   step: ipck_close(c): the receiver gets EPIPE after the last
 *   sender: 3 messages sent
 *   receiver: notified: a message is waiting
 *   step: ipck_recv(c, buf, 128, 10000) until EPIPE
 *   receiver: "low"
 *   receiver: "high"
 *   receiver: "middle"
 *   receiver: the sender is done
 */
#include <ipckit.h>
#include <errno.h>
#include <poll.h>
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
		fprintf(stderr, "pmsg_recv: %s: %s (%s)\n", what, ipck_errname((int)r), ipck_strerror((int)r));
		ipck_close(listener);   /* removes the queue */
		exit(1);
	}
	return r;
}

/* The notification: poll the channel's descriptor (EINTR: Ctrl-C). */
static void wait_message(ipck_chan *c)
{
	struct pollfd p = {.fd = ipck_pollfd(c), .events = POLLIN};
	printf("step: poll({ipck_pollfd(c), POLLIN}, 1, 10000)\n");
	int r = poll(&p, 1, 10000);
	ok(r < 0 ? -errno : r == 0 ? -ETIMEDOUT : 0, "poll");
	printf("receiver: notified: a message is waiting\n");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	char url[300];
	snprintf(url, sizeof(url), "pmsg:%s", argc > 1 ? argv[1] : "/pmsg_demo");

	printf("step: ipck_open(&listener, \"%s\", IPCK_LISTEN)\n", url);
	ok(ipck_open(&listener, url, IPCK_LISTEN), "ipck_open");
	ipck_chan *c = NULL;
	int r, waited = 0;
	printf("step: ipck_accept(listener, &c, %d) until a sender comes\n", SLICE_MS);
	while ((r = ipck_accept(listener, &c, SLICE_MS)) == -ETIMEDOUT && !stop && (waited += SLICE_MS) < 30000)
		;
	ok(stop ? -EINTR : r, "ipck_accept");

	wait_message(c);
	char buf[128];
	ssize_t n;
	printf("step: ipck_recv(c, buf, %zu, 10000) until EPIPE\n", sizeof(buf));
	while ((n = ipck_recv(c, buf, sizeof(buf), 10000)) >= 0)
		printf("receiver: \"%.*s\"\n", (int)n, buf);
	if (n != -EPIPE)
		ok(n, "ipck_recv");
	printf("receiver: the sender is done\n");
	ok(ipck_close(c), "ipck_close");
	r = ipck_close(listener);
	listener = NULL;
	ok(r, "ipck_close(listener)");
	return 0;
}
