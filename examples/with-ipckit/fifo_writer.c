/*
 * fifo_writer.c with libipckit - the writing side of fifo_reader.c's
 * exchange: connect to "fifo:PATH", send three lines, close.  The reader
 * receives -EPIPE after the last one.
 *
 * usage: fifo_writer [PATH]        (the reader's; default /tmp/fifo_demo)
 *
 * Transcript: see fifo_reader.c.
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
		fprintf(stderr, "fifo_writer: %s: %s (%s)\n", what, ipck_errname((int)r), ipck_strerror((int)r));
		exit(1);
	}
	return r;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	char url[4200];
	snprintf(url, sizeof(url), "fifo:%s", argc > 1 ? argv[1] : "/tmp/fifo_demo");

	ipck_chan *c;
	int r;
	printf("step: ipck_open(&c, \"%s\", 0)\n", url);
	for (int i = 0; (r = ipck_open(&c, url, 0)) == -ECONNREFUSED && i < 1000; i++)
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);   /* not there yet */
	ok(r, "ipck_open");

	const char *lines[] = {"one\n", "two\n", "three\n"};
	for (int i = 0; i < 3; i++) {
		size_t len = strlen(lines[i]);
		printf("step: ipck_send(c, \"%.*s\\n\", %zu, 10000)\n", (int)len - 1, lines[i], len);
		ok(ipck_send(c, lines[i], len, 10000), "ipck_send");
	}
	printf("step: ipck_close(c): the reader gets EPIPE after the last line\n");
	ok(ipck_close(c), "ipck_close");
	printf("writer: 3 lines written\n");
	return 0;
}
