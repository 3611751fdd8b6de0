/*
 * fifo_reader.c with libipckit - the exchange of ../fifo_reader.c over
 * "fifo:PATH": the reader listens, the writer connects and sends three
 * lines, the reader prints each message until the writer has gone.
 *
 * What the library saves: mkfifo with the right mode and no symlink, the
 * open that blocks until the other end comes (here a bounded wait), the
 * FIFO's name and its removal, and the end: a FIFO gives end of file when
 * the last writer closes, and a writer that died looks just the same; the
 * library tells them apart (-EPIPE after the last message; it watches the
 * writer's pid).  The three writes arrive as three messages, not as bytes.
 * Waits come in slices of 100 ms so Ctrl-C ends them (see unix_server.c).
 *
 * usage: fifo_reader [PATH]        (default /tmp/fifo_demo)
 *
 *   $ ./fifo_reader /tmp/f & sleep 0.2; ./fifo_writer /tmp/f; wait
 *   step: ipck_open(&listener, "fifo:/tmp/f", IPCK_LISTEN)
 *   step: ipck_accept(listener, &c, 100) until a writer comes
 *   step: ipck_open(&c, "fifo:/tmp/f", 0)
 *   step: ipck_recv(c, buf, 256, 10000) until EPIPE
 *   step: ipck_send(c, "one\n", 4, 10000)
 *   step: ipck_send(c, "two\n", 4, 10000)
 *   step: ipck_send(c, "three\n", 6, 10000)
 *   step: ipck_close(c): the reader gets EPIPE after the last line
 *   writer: 3 lines written
 *   reader: message of 4 bytes "one\n"
 *   reader: message of 4 bytes "two\n"
 *   reader: message of 6 bytes "three\n"
 *   reader: end of file after 14 bytes
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
		fprintf(stderr, "fifo_reader: %s: %s (%s)\n", what, ipck_errname((int)r), ipck_strerror((int)r));
		ipck_close(listener);   /* removes the FIFOs */
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
	snprintf(url, sizeof(url), "fifo:%s", argc > 1 ? argv[1] : "/tmp/fifo_demo");

	printf("step: ipck_open(&listener, \"%s\", IPCK_LISTEN)\n", url);
	ok(ipck_open(&listener, url, IPCK_LISTEN), "ipck_open");
	ipck_chan *c = NULL;
	int r, waited = 0;
	printf("step: ipck_accept(listener, &c, %d) until a writer comes\n", SLICE_MS);
	while ((r = ipck_accept(listener, &c, SLICE_MS)) == -ETIMEDOUT && !stop && (waited += SLICE_MS) < 30000)
		;
	ok(stop ? -EINTR : r, "ipck_accept");

	char buf[256];
	size_t total = 0;
	ssize_t n;
	printf("step: ipck_recv(c, buf, %zu, 10000) until EPIPE\n", sizeof(buf));
	while ((n = ipck_recv(c, buf, sizeof(buf), 10000)) >= 0) {
		int len = (int)n, nl = len > 0 && buf[len - 1] == '\n';
		printf("reader: message of %zd bytes \"%.*s%s\"\n", n, len - nl, buf, nl ? "\\n" : "");
		total += (size_t)n;
	}
	if (n != -EPIPE)
		ok(n, "ipck_recv");
	printf("reader: end of file after %zu bytes\n", total);
	ok(ipck_close(c), "ipck_close");
	r = ipck_close(listener);
	listener = NULL;
	ok(r, "ipck_close(listener)");
	return 0;
}
