/*
 * relay.c - ipckit relay [--both] [--stats] [-t MS] FROM TO
 *
 * Listens on FROM, connects to TO, and forwards every message FROM -> TO
 * (and TO -> FROM with --both) until a side ends.  The relay takes from
 * FROM only what is there already, a batch of at most MANY, and sends it
 * before it takes more: in one write when TO is a framed stream, and for
 * any TO the batch halves the relay's sleeps and wake-ups, as queues of 10
 * (pmsg:'s default) make them.  A message the next scheme cannot carry stops
 * the relay with an error instead of being cut.  SIGINT/SIGTERM: what it
 * holds and what waits in FROM is still delivered, totals are printed,
 * FROM's objects are removed.
 *
 * A ring FROM (pshm:, svshm:, mmap:) is relayed in place: ipck_peek, one
 * copy into TO, ipck_release; but to a framed stream it is batched like
 * the rest, since one write for 64 messages beats the copy it saves.  One
 * way, the library waits on FROM itself (a ring spins, then sleeps), in
 * slices, and the coarse clock is read every TICK_MSGS messages of a ring,
 * not for each.
 */
#include "cli.h"
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
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

#define SLICE_MS 100    /* longest wait before looking at the signals again */
#define CHECK_MS 100    /* how often signals and --stats are looked at */
#define GRACE_MS 2000   /* after a signal: time left to deliver what we hold */
#define TICK_MSGS 8     /* ring messages between two looks at the clock */
#define TURN_MSGS 256   /* --both: messages one way before looking the other */
#define BUF_MIN  (64u << 10)
#define MANY     64     /* messages in one batch (ipck_send_many's limit) */
#define YIELDS   10     /* a ring: times the relay gives up the CPU before the library waits */

struct dir {
	ipck_chan *src, *dst;
	const char *sname, *dname;
	bool peek;               /* FROM lends its messages in place (a ring) */
	bool ring_to;            /* TO is a ring too: a full one costs no system call to try */
	unsigned char *buf;      /* else they are received here */
	size_t cap, limit;       /* buf's size; the largest message both carry */
	struct iovec v[MANY];    /* the batch in buf */
	size_t nv, used;
	unsigned long long msgs, bytes;
	bool ended;
};

/* The clock of the loop: when to look at the signals, the --stats line. */
struct ticker {
	const struct dir *d;
	int nd;
	int64_t next, t0, last;
	unsigned long long last_m, last_b;
	bool stats, stop;
};

/* The coarse clock: a few ns, where the fine one costs as much as a message. */
static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void totals(const struct dir *d, int nd, unsigned long long *m, unsigned long long *b)
{
	*m = *b = 0;
	for (int i = 0; i < nd; i++)
		*m += d[i].msgs, *b += d[i].bytes;
}

/*
 * Look at the clock, and every CHECK_MS at the signals (and print the
 * --stats line every second).  true once a signal has arrived.
 */
static bool tick(struct ticker *t)
{
	int64_t now = now_ms();
	if (t->stop || now < t->next)
		return t->stop;
	t->next = now + CHECK_MS;
	if (t->stats && now - t->last >= 1000) {
		unsigned long long m, b;
		double dt = (now - t->last) / 1e3;
		totals(t->d, t->nd, &m, &b);
		fprintf(stderr, "relay: %.0f msg/s, %.2f MB/s\n",
			(m - t->last_m) / dt, (b - t->last_b) / dt / 1e6);
		t->last = now, t->last_m = m, t->last_b = b;
	}
	return t->stop = cli_interrupted();
}

/*
 * Set up a direction.  A ring is relayed in place: peek on FROM, one copy
 * into TO, release.  Anything else, and a ring to a framed stream (a batch
 * in one write), is received into a buffer that grows up to the largest
 * message both schemes carry.
 */
static int dir_init(struct dir *d, ipck_chan *src, ipck_chan *dst, const char *sn, const char *dn)
{
	const void *p;
	size_t n, a = ipck_max_msg(src), b = ipck_max_msg(dst);
	const struct ipck_scheme_info *si = cli_scheme_of(dn);
	bool stream = si && (si->caps & IPCK_CAP_STREAM) && !strstr(dn, "raw=1");
	*d = (struct dir){.src = src, .dst = dst, .sname = sn, .dname = dn};
	d->peek = !stream && ipck_peek(src, &p, &n, 0) != -ENOTSUP;
	d->ring_to = d->peek && ipck_peek(dst, &p, &n, 0) != -ENOTSUP;
	d->limit = a < b ? a : b;
	if (d->peek)
		return 0;
	d->cap = d->limit < BUF_MIN ? d->limit + 1 : BUF_MIN;
	d->buf = malloc(d->cap);
	return d->buf ? 0 : cli_err(-ENOMEM, "relay");
}

static int too_big(const struct dir *d, size_t n)
{
	return cli_err(-EMSGSIZE, "%s: message %llu has %zu bytes, more than it carries (%zu): stopping",
		       d->dname, d->msgs + 1, n, ipck_max_msg(d->dst));
}

/* A receive into buf said -EMSGSIZE: make room for the message, or stop. */
static int grow(struct dir *d)
{
	ssize_t want = ipck_next_size(d->src);
	if (want < 0 && d->cap > d->limit)
		return cli_err(-EMSGSIZE, "%s: message %llu is larger than %s carries (%zu): stopping",
			       d->sname, d->msgs + 1, d->dname, ipck_max_msg(d->dst));
	if (want > 0 && (size_t)want > ipck_max_msg(d->dst))
		return too_big(d, (size_t)want);
	size_t cap = want > 0 ? (size_t)want : d->limit + 1;
	unsigned char *b = realloc(d->buf, cap);
	if (!b)
		return cli_err(-ENOMEM, "%s", d->sname);
	d->buf = b;
	d->cap = cap;
	return 0;
}

/*
 * A ring that is empty (FROM) or full (TO): three processes share the
 * machine, and the one the relay waits for is often waiting for a CPU
 * itself.  So before the library's wait (which spins, then sleeps), give
 * it ours, a few times: on 2 CPUs this takes the pshm: relay from 0.45 to
 * 0.65 of one channel's rate (make bench-relay).
 */
static int peek_yielding(struct dir *d, const void **p, size_t *n, int tmo)
{
	int r = ipck_peek(d->src, p, n, 0);
	for (int i = 0; r == -ETIMEDOUT && tmo && i < YIELDS; i++) {
		sched_yield();
		r = ipck_peek(d->src, p, n, 0);
	}
	return r == -ETIMEDOUT && tmo ? ipck_peek(d->src, p, n, tmo) : r;
}

static ssize_t send_yielding(struct dir *d, const void *p, size_t n, int tmo)
{
	ssize_t r = d->ring_to ? ipck_send(d->dst, p, n, 0) : -ETIMEDOUT;
	for (int i = 0; r == -ETIMEDOUT && d->ring_to && i < YIELDS; i++) {
		sched_yield();
		r = ipck_send(d->dst, p, n, 0);
	}
	return r == -ETIMEDOUT ? ipck_send(d->dst, p, n, tmo) : r;
}

/*
 * The next message of FROM in *p, *n: in place (ipck_release when done) or
 * in d->buf.  0, -ETIMEDOUT, -EPIPE or -ECONNRESET (FROM ended), or 1 when
 * an error was reported.
 */
static int take(struct dir *d, const void **p, size_t *n, int tmo)
{
	if (d->peek)
		return peek_yielding(d, p, n, tmo);
	for (;;) {
		ssize_t r = ipck_recv(d->src, d->buf, d->cap, tmo);
		if (r >= 0) {
			*p = d->buf, *n = (size_t)r;
			return 0;
		}
		if (r != -EMSGSIZE)
			return (int)r;
		if (grow(d))
			return 1;
	}
}

/* Send the message peeked on FROM to TO; after a signal, a last GRACE_MS. */
static int forward(struct dir *d, struct ticker *t, const void *p, size_t n)
{
	ssize_t r = send_yielding(d, p, n, t->stop ? GRACE_MS : SLICE_MS);
	while (r == -ETIMEDOUT && !t->stop)   /* TO is full: wait, in slices */
		r = ipck_send(d->dst, p, n, tick(t) ? GRACE_MS : SLICE_MS);
	if (r == -EMSGSIZE)
		return too_big(d, n);
	if (r < 0)
		return cli_err((int)r, "%s: message %llu (%zu bytes) not delivered",
			       d->dname, d->msgs + 1, n);
	ipck_release(d->src);
	d->msgs++;
	d->bytes += n;
	return 0;
}

/* Send the batch in buf to TO, as few writes as it takes. */
static int flush(struct dir *d, struct ticker *t)
{
	for (size_t i = 0; i < d->nv;) {
		ssize_t r = ipck_send_many(d->dst, d->v + i, d->nv - i, t->stop ? GRACE_MS : SLICE_MS);
		if (r == -ETIMEDOUT && !t->stop) {   /* TO is full: wait, in slices */
			tick(t);
			continue;
		}
		if (r == -EMSGSIZE)
			return too_big(d, d->v[i].iov_len);
		if (r < 0)
			return cli_err((int)r, "%s: message %llu (%zu bytes) not delivered",
				       d->dname, d->msgs + 1, d->v[i].iov_len);
		for (size_t k = i + (size_t)r; i < k; i++)
			d->msgs++, d->bytes += d->v[i].iov_len;
	}
	d->nv = d->used = 0;
	return 0;
}

/*
 * The message in d->buf and those waiting behind it that fit: a batch,
 * then sent.  Returns messages sent, or -1.
 */
static long batch(struct dir *d, struct ticker *t, size_t n, int *err)
{
	d->v[0] = (struct iovec){d->buf, n};
	d->nv = 1;
	d->used = n;
	while (d->nv < MANY && d->used < d->cap) {
		ssize_t r = ipck_recv(d->src, d->buf + d->used, d->cap - d->used, 0);
		if (r < 0)
			break;   /* none, too large, or the end: the next take sees it */
		d->v[d->nv++] = (struct iovec){d->buf + d->used, (size_t)r};
		d->used += (size_t)r;
	}
	long k = (long)d->nv;
	return (*err = flush(d, t)) ? -1 : k;
}

/*
 * Move messages until FROM has had none for tmo, ends or fails, max have
 * gone, or a signal comes.  Returns messages moved, or -1 (*err set).
 */
static long pump(struct dir *d, struct ticker *t, int tmo, long max, int *err)
{
	/* A ring moves a message in tens of ns, the coarse clock costs a few:
	 * read it every TICK_MSGS; a kernel scheme's system calls dwarf it. */
	long k = 0, every = d->peek ? TICK_MSGS : 1, next = every;
	while (!d->ended && !*err && k < max) {
		const void *p;
		size_t n;
		int r = take(d, &p, &n, tmo);
		if (r == -ETIMEDOUT)
			break;
		if (r == -EPIPE || r == -ECONNRESET)
			d->ended = true;
		else if (r)
			*err = r < 0 ? cli_err(r, "%s: recv", d->sname) : r;
		else if (d->peek)
			k += (*err = forward(d, t, p, n)) ? 0 : 1;
		else
			k += batch(d, t, n, err);
		if (!*err && k >= next && (next = k + every) && tick(t))
			break;
	}
	return *err ? -1 : k;
}

/* One way: the library waits on FROM itself, a slice at a time. */
static int relay_one(struct dir *d, struct ticker *t)
{
	int err = 0;
	while (!d->ended && !err && !tick(t))
		pump(d, t, SLICE_MS, LONG_MAX, &err);
	return err;
}

/* Both ways: each side's pollfd and the signals in one poll. */
static int relay_both(struct dir *d, struct ticker *t)
{
	int fds[2] = {ipck_pollfd(d[0].src), ipck_pollfd(d[1].src)}, err = 0;
	for (int spins = 0; !err && !d[0].ended && !d[1].ended;) {
		long moved = pump(&d[0], t, 0, TURN_MSGS, &err);   /* turns: neither starves */
		moved += err ? 0 : pump(&d[1], t, 0, TURN_MSGS, &err);
		if (err || tick(t))
			break;
		if (moved || ++spins < 64)   /* a short spin before sleeping */
			continue;
		spins = 0;
		if (cli_wait_any(fds, 2, SLICE_MS) == -EINTR)
			t->stop = true;
	}
	return err;
}

static int relay_loop(struct dir *d, int nd, bool stats)
{
	int64_t t0 = now_ms();
	struct ticker t = {.d = d, .nd = nd, .next = t0 + CHECK_MS, .t0 = t0, .last = t0, .stats = stats};
	int err = nd == 1 ? relay_one(d, &t) : relay_both(d, &t);
	int64_t end = now_ms() + GRACE_MS;
	for (int i = 0; i < nd && t.stop && !err; i++)   /* deliver what arrived */
		while (!err && now_ms() < end && pump(&d[i], &t, 0, LONG_MAX, &err) > 0)
			;
	if (stats || t.stop) {
		unsigned long long m, b;
		double dt = (now_ms() - t0) / 1e3;
		totals(d, nd, &m, &b);
		fprintf(stderr, "relay: total %llu messages, %llu bytes; %.0f msg/s, %.2f MB/s\n",
			m, b, dt > 0 ? m / dt : 0.0, dt > 0 ? b / dt / 1e6 : 0.0);
	}
	return err ? err : t.stop ? 130 : 0;
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
	if (ipck_url_check(to_url, NULL, 0))   /* before anyone connects to FROM */
		return cli_open_err(-EINVAL, to_url, false);
	cli_sig_init();
	int r = cli_connect(&in, from, true, (int)to, &l);
	if (r < 0)
		return r == -EINTR ? 130 : cli_open_err(r, from, true);
	r = ipck_open(&out, to_url, 0);
	if (r < 0) {
		ipck_close(in);
		ipck_close(l);
		return cli_open_err(r, to_url, false);
	}
	struct dir d[2] = {0};
	r = dir_init(&d[0], in, out, from, to_url);
	if (!r && both)
		r = dir_init(&d[1], out, in, to_url, from);
	if (!r)
		r = relay_loop(d, both ? 2 : 1, stats);
	ipck_close(out);
	ipck_close(in);
	ipck_close(l);
	free(d[0].buf);
	free(d[1].buf);
	return r;
}
