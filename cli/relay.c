/*
 * relay.c - ipckit relay [--both] [--stats] [-t MS] FROM TO
 *
 * Listens on FROM, connects to TO, and forwards every message FROM -> TO
 * (and TO -> FROM with --both) until a side ends.  A message is received
 * only when the one before it has been sent, so the relay holds at most one
 * message per direction; a message the next scheme cannot carry stops the
 * relay with an error instead of being cut.  SIGINT/SIGTERM: the message in
 * hand is still delivered, totals are printed, FROM's objects are removed.
 */
#include "cli.h"
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char relay_help[] =
	"usage: ipckit relay [--both] [--stats] [-t MS] FROM TO\n"
	"Create and listen on FROM, connect to TO, forward every message FROM -> TO.\n\n"
	"  -b, --both        forward TO -> FROM as well\n"
	"  -s, --stats       print messages and bytes per second on stderr every second,\n"
	"                    and totals at the end\n"
	"  -t, --timeout MS  wait at most MS for the peer on FROM (default: forever)\n"
	"  -h, --help        this help\n\n"
	"Exit status: 0 a side ended, 1 failed, 2 bad usage, 130 interrupted.\n"
	"Example: ipckit relay pmsg:/in unix:/tmp/out.sock\n";

struct dir {
	ipck_chan *src, *dst;
	const char *sname, *dname;
	unsigned char *buf;
	size_t cap;
	unsigned long long msgs, bytes;
	bool ended;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Deliver one message in hand; after a signal, a last 2 s of grace. */
static int deliver(struct dir *d, size_t n)
{
	ssize_t r = cli_send(d->dst, d->buf, n, -1);
	if (r == -EINTR)
		r = ipck_send(d->dst, d->buf, n, 2000);
	if (r == -EMSGSIZE)
		return cli_err((int)r, "%s: message %llu has %zu bytes, more than it carries (%zu): stopping",
			       d->dname, d->msgs + 1, n, ipck_max_msg(d->dst));
	if (r < 0)
		return cli_err((int)r, "%s: message %llu (%zu bytes) not delivered",
			       d->dname, d->msgs + 1, n);
	d->msgs++;
	d->bytes += n;
	return 0;
}

/* Move what is there now; returns messages moved, or -1 on a failure. */
static long pump(struct dir *d, int *err)
{
	long k = 0;
	while (!d->ended) {
		ssize_t n = ipck_recv(d->src, d->buf, d->cap, 0);
		if (n == -ETIMEDOUT)
			break;
		if (n == -EMSGSIZE && ipck_next_size(d->src) > 0) {
			unsigned char *b = realloc(d->buf, (size_t)ipck_next_size(d->src));
			if (!b) {
				*err = cli_err(-ENOMEM, "%s", d->sname);
				return -1;
			}
			d->buf = b;
			d->cap = (size_t)ipck_next_size(d->src);
			continue;
		}
		if (n == -EPIPE || n == -ECONNRESET) {
			d->ended = true;
			break;
		}
		if (n < 0) {
			*err = cli_err((int)n, "%s: recv", d->sname);
			return -1;
		}
		if ((*err = deliver(d, (size_t)n)))
			return -1;
		k++;
	}
	return k;
}

static void stats_line(const struct dir *d, int nd, double dt, const char *what)
{
	unsigned long long m = 0, b = 0;
	for (int i = 0; i < nd; i++)
		m += d[i].msgs, b += d[i].bytes;
	fprintf(stderr, "relay: %s %llu messages, %llu bytes; %.0f msg/s, %.2f MB/s\n",
		what, m, b, dt > 0 ? m / dt : 0.0, dt > 0 ? b / dt / 1e6 : 0.0);
}

/* Wait for any source to have something, a signal, or a second to pass. */
static int wait_any(struct dir *d, int nd)
{
	int fds[2], n = 0;
	for (int i = 0; i < nd; i++)
		if (!d[i].ended)
			fds[n++] = ipck_pollfd(d[i].src);
	return cli_wait_any(fds, n, 1000);
}

static int relay_loop(struct dir *d, int nd, bool stats)
{
	double t0 = now_s(), last = t0;
	unsigned long long last_m = 0, last_b = 0;
	int err = 0, spins = 0;
	for (;;) {
		long moved = 0;
		for (int i = 0; i < nd && !err; i++)
			moved += pump(&d[i], &err);
		if (err)
			break;
		if (d[0].ended || (nd == 2 && d[1].ended))
			break;
		if (stats && now_s() - last >= 1.0) {
			double t = now_s();
			unsigned long long m = 0, b = 0;
			for (int i = 0; i < nd; i++)
				m += d[i].msgs, b += d[i].bytes;
			fprintf(stderr, "relay: %.0f msg/s, %.2f MB/s\n",
				(m - last_m) / (t - last), (b - last_b) / (t - last) / 1e6);
			last = t, last_m = m, last_b = b;
		}
		if (moved || ++spins < 64)   /* a short spin before sleeping */
			continue;
		spins = 0;
		if (cli_interrupted() || wait_any(d, nd) == -EINTR) {
			for (int i = 0; i < nd && !err; i++)   /* deliver what arrived */
				pump(&d[i], &err);
			err = err ? err : 130;
			break;
		}
	}
	if (stats)
		stats_line(d, nd, now_s() - t0, "total");
	return err;
}

int cmd_relay(int argc, char **argv)
{
	static const struct option lo[] = {
		{"both", no_argument, 0, 'b'}, {"stats", no_argument, 0, 's'},
		{"timeout", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	bool both = false, stats = false;
	long long to = -1;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+bst:h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': both = true; break;
		case 's': stats = true; break;
		case 't':
			if (!cli_int(optarg, -1, 86400000, &to))
				return cli_usage("--timeout wants milliseconds, not '%s'", optarg);
			break;
		case 'h': fputs(relay_help, stdout); return 0;
		default: return 2;
		}
	}
	if (argc - optind != 2)
		return cli_usage("relay wants two URLs, FROM and TO");
	const char *from = argv[optind], *to_url = argv[optind + 1];
	ipck_chan *in, *l, *out;
	cli_sig_init();
	int r = cli_connect(&in, from, true, (int)to, &l);
	if (r < 0)
		return r == -EINTR ? 130 : r == -EINVAL ? (cli_err(r, "%s: bad URL or option", from), 2)
			: cli_err(r, "%s: listen", from);
	r = ipck_open(&out, to_url, 0);
	if (r < 0) {
		ipck_close(in);
		ipck_close(l);
		return r == -EINVAL ? (cli_err(r, "%s: bad URL or option", to_url), 2)
			: cli_err(r, "%s: connect", to_url);
	}
	struct dir d[2] = {
		{in, out, from, to_url, malloc(64 << 10), 64 << 10, 0, 0, false},
		{out, in, to_url, from, both ? malloc(64 << 10) : NULL, 64 << 10, 0, 0, false}};
	if (!d[0].buf || (both && !d[1].buf))
		r = cli_err(-ENOMEM, "relay");
	else
		r = relay_loop(d, both ? 2 : 1, stats);
	ipck_close(out);
	ipck_close(in);
	ipck_close(l);
	free(d[0].buf);
	free(d[1].buf);
	return r;
}
