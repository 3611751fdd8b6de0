/*
 * bench.c - `ipckit bench`: every mechanism measured side by side.  Parses
 * the options, runs ipck_bench_run with a progress bar on a terminal, then
 * prints the rows as a table (sorted by round trip within each size), JSON
 * or CSV, and writes the SVG chart and the markdown table when asked.
 * SIGINT, SIGTERM and SIGHUP stop the run; the library removes what it made.
 */
#include "bench.h"
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: ipckit bench [--quick] [--block] [--schemes LIST] [--sizes LIST] [--rounds N]\n"
	"                    [--reps N] [--pin CPU,CPU | --place any|one|two]\n"
	"                    [--json | --csv] [--svg FILE]\n"
	"                    [--md FILE] [--list]\n\n"
	"Measure every IPC mechanism, each between two processes: round trip p50,\n"
	"p99, p99.9 (ping-pong), one-way messages and MB per second, CPU time per\n"
	"message; beside them the same system calls made directly (raw-*), a bare\n"
	"ring and a cache-line ping-pong (the limits) and memcpy.\n\n"
	"  --quick          short phases: everything in under a minute\n"
	"  --block          library calls wait forever (timeout -1), as raw rows do;\n"
	"                   default: each call has a 20 s timeout (3 s quick)\n"
	"  --schemes LIST   targets or groups (all, lib, raw, ref, peer); see --list\n"
	"  --sizes LIST     message sizes, e.g. 64,1K,64K,1M (the default)\n"
	"  --rounds N       round trips and messages per repetition (default: timed)\n"
	"  --reps N         repetitions; each figure is their median (default 5, quick 3)\n"
	"  --pin CPU,CPU    pin the two processes\n"
	"  --place WHERE    without --pin: each pair on one CPU, on two, or any (the\n"
	"                   scheduler's choice, the default); pairs that spin get two\n"
	"  --json, --csv    rows for programs instead of the table\n"
	"  --svg FILE       write a chart: round trip and throughput per scheme\n"
	"  --md FILE        write the markdown table (docs/choosing.md)\n"
	"  --list           print the targets and exit\n";

static volatile sig_atomic_t stop_sig;

/* The peers of this binary: other libraries, and relays of schemes we have. */
static const struct ipck_bench_peer *const *peers(void)
{
	static const struct ipck_bench_peer *list[16];
	static const struct ipck_bench_peer *const relays[] = {&cli_relay_unix, &cli_relay_pshm};
	const struct ipck_scheme_info *s;
	size_t n = 0;
	if (list[0])
		return list;
	for (size_t i = 0; cli_bench_peers[i] && n < 8; i++)
		list[n++] = cli_bench_peers[i];
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; (s = ipck_scheme_at(i)); i++)
			if (!strcmp(s->name, relays[k]->name + 6))   /* after "relay-" */
				list[n++] = relays[k];
	return list;
}

static void on_signal(int sig)
{
	stop_sig = sig;
}

struct bopts {
	struct ipck_bench_opts o;
	size_t sizes[16];
	enum { OUT_TABLE, OUT_JSON, OUT_CSV } out;
	const char *svg, *md;
	bool list;
};

/* "64", "1K", "64k", "1M": bytes; 0 if it is not a size. */
static size_t parse_size(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return 0;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	return *end || v > (64u << 20) ? 0 : (size_t)v;
}

static int parse_sizes(struct bopts *b, const char *list)
{
	char tmp[256];
	size_t n = 0;
	if (strlen(list) >= sizeof(tmp))
		return cli_usage("--sizes: list too long");
	strcpy(tmp, list);
	for (char *sv, *w = strtok_r(tmp, ",", &sv); w; w = strtok_r(NULL, ",", &sv)) {
		if (n == 16 || !(b->sizes[n] = parse_size(w)))
			return cli_usage("--sizes: bad size '%s' (1 B to 64M, at most 16)", w);
		n++;
	}
	if (!n)
		return cli_usage("--sizes: empty list");
	b->o.sizes = b->sizes;
	b->o.nsizes = n;
	return 0;
}

static int parse_pin(struct bopts *b, const char *s)
{
	long long x, y;
	char tmp[64];
	const char *comma = strchr(s, ',');
	if (!comma || (size_t)(comma - s) >= sizeof(tmp))
		return cli_usage("--pin: want CPU,CPU");
	memcpy(tmp, s, (size_t)(comma - s));
	tmp[comma - s] = '\0';
	if (!cli_int(tmp, 0, 4095, &x) || !cli_int(comma + 1, 0, 4095, &y))
		return cli_usage("--pin: want CPU,CPU");
	b->o.pin = 1;
	b->o.cpu[0] = (int)x;
	b->o.cpu[1] = (int)y;
	return 0;
}

/* Is every word of the list a target, a group or a peer? */
static int check_list(const char *list)
{
	static const char *const groups[] = {"all", "lib", "raw", "ref", "peer"};
	char tmp[1024];
	if (!*list || strlen(list) >= sizeof(tmp))
		return cli_usage("--schemes: empty or too long");
	strcpy(tmp, list);
	for (char *sv, *w = strtok_r(tmp, ",", &sv); w; w = strtok_r(NULL, ",", &sv)) {
		bool ok = false;
		const char *t;
		for (size_t i = 0; (t = ipck_bench_target_at(i)); i++)
			ok |= !strcmp(t, w);
		for (size_t i = 0; i < 5; i++)
			ok |= !strcmp(groups[i], w);
		for (size_t i = 0; peers()[i]; i++)
			ok |= !strcmp(peers()[i]->name, w);
		if (!ok)
			return cli_usage("--schemes: no target '%s' (see --list)", w);
	}
	return 0;
}

/* --place any|one|two */
static int place_of(const char *s)
{
	return !strcmp(s, "any") ? IPCK_PLACE_ANY : !strcmp(s, "one") ? IPCK_PLACE_ONE :
	       !strcmp(s, "two") ? IPCK_PLACE_TWO : -1;
}

static int parse_one(struct bopts *b, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	long long v;
	bool arg = !strcmp(a, "--schemes") || !strcmp(a, "--sizes") || !strcmp(a, "--rounds") ||
		   !strcmp(a, "--reps") || !strcmp(a, "--pin") || !strcmp(a, "--svg") ||
		   !strcmp(a, "--md") || !strcmp(a, "--place");
	const char *val = arg ? (*i + 1 < argc ? argv[++*i] : NULL) : NULL;
	if (arg && !val)
		return cli_usage("%s needs a value", a);
	if (!strcmp(a, "--quick"))
		b->o.quick = 1;
	else if (!strcmp(a, "--block"))
		b->o.block = 1;
	else if (!strcmp(a, "--json"))
		b->out = OUT_JSON;
	else if (!strcmp(a, "--csv"))
		b->out = OUT_CSV;
	else if (!strcmp(a, "--list"))
		b->list = true;
	else if (!strcmp(a, "--schemes"))
		return check_list(val) ? 2 : (b->o.names = val, 0);
	else if (!strcmp(a, "--sizes"))
		return parse_sizes(b, val);
	else if (!strcmp(a, "--rounds") && cli_int(val, 1, 1 << 26, &v))
		b->o.rounds = (unsigned long long)v;
	else if (!strcmp(a, "--reps") && cli_int(val, 1, 64, &v))
		b->o.reps = (unsigned)v;
	else if (!strcmp(a, "--pin"))
		return parse_pin(b, val);
	else if (!strcmp(a, "--place") && (v = place_of(val)) >= 0)
		b->o.place = (int)v;
	else if (!strcmp(a, "--svg"))
		b->svg = val;
	else if (!strcmp(a, "--md"))
		b->md = val;
	else if (arg)
		return cli_usage("%s: bad value '%s'", a, val);
	else
		return cli_usage("unknown option '%s'", a);
	return 0;
}

/* ---- running ------------------------------------------------------------- */

struct collect {
	struct brows *b;
	bool bar;
	int err;
};

static int on_row(const struct ipck_bench_row *r, void *arg)
{
	struct collect *c = arg;
	struct brows *b = c->b;
	struct ipck_bench_row **v = r->err ? &b->skip : &b->v;
	size_t *n = r->err ? &b->nskip : &b->n;
	struct ipck_bench_row *nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv) {
		c->err = -ENOMEM;
		return 1;
	}
	nv[(*n)++] = *r;
	*v = nv;
	return 0;
}

static int on_progress(void *arg, unsigned done, unsigned total, const char *what)
{
	struct collect *c = arg;
	if (c->bar && total) {
		int w = 30, k = (int)((unsigned long long)done * w / total);
		fprintf(stderr, "\r[%.*s%*s] %3u/%u %-20.20s", k, "##############################",
			w - k, "", done, total, what);
		fflush(stderr);
	}
	return stop_sig != 0;
}

static void catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};   /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static int cmp_row(const void *x, const void *y)
{
	const struct ipck_bench_row *a = x, *b = y;
	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	double p = a->rtt_p50_ns > 0 ? a->rtt_p50_ns : 1e300;
	double q = b->rtt_p50_ns > 0 ? b->rtt_p50_ns : 1e300;
	if (p != q)
		return p < q ? -1 : 1;
	return (a->msgs_per_s < b->msgs_per_s) - (a->msgs_per_s > b->msgs_per_s);
}

static int write_file(const char *path, void (*fn)(FILE *, const struct brows *),
		      const struct brows *b)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return cli_err(-errno, "%s", path);
	fn(f, b);
	if (fclose(f) != 0)
		return cli_err(-errno, "%s", path);
	return 0;
}

static int output(const struct bopts *o, struct brows *b)
{
	qsort(b->v, b->n, sizeof(*b->v), cmp_row);
	if (o->out == OUT_JSON)
		bench_json(stdout, b);
	else if (o->out == OUT_CSV)
		bench_csv(stdout, b);
	else
		bench_table(stdout, b);
	bench_notes(o->out == OUT_TABLE ? stdout : stderr, b);
	int r = 0;
	if (o->svg)
		r |= write_file(o->svg, bench_svg, b);
	if (o->md)
		r |= write_file(o->md, bench_md, b);
	return fflush(stdout) ? cli_err(-errno, "stdout") : r;
}

static int list_targets(void)
{
	const char *t;
	for (size_t i = 0; (t = ipck_bench_target_at(i)); i++)
		printf("%s\n", t);
	for (size_t i = 0; peers()[i]; i++)
		printf("%s\n", peers()[i]->name);
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	struct bopts o = {.o.peers = peers()};
	struct brows b = {0};
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(usage_text, stdout);
			return 0;
		}
		int r = parse_one(&o, argc, argv, &i);
		if (r)
			return r;
	}
	if (o.list)
		return list_targets();
	static const size_t def[] = {64, 1024, 65536, 1048576};
	b.nsizes = o.o.sizes ? o.o.nsizes : 4;
	b.pinned = o.o.pin;
	b.place = o.o.place;
	memcpy(b.sizes, o.o.sizes ? o.o.sizes : def, b.nsizes * sizeof(size_t));
	struct collect c = {.b = &b, .bar = isatty(2)};
	o.o.progress = on_progress;
	o.o.arg = &c;
	catch_signals();
	int r = ipck_bench_run(&o.o, on_row, &c);
	if (c.bar)
		fprintf(stderr, "\r%*s\r", 70, "");
	if (r == -EINVAL)
		r = cli_usage("bad option (see --help)");
	else if (r == -ECANCELED && stop_sig)
		r = cli_err(0, "stopped by signal %d; everything made was removed", (int)stop_sig);
	else if (r || c.err)
		r = cli_err(r ? r : c.err, "bench");
	else
		r = output(&o, &b);
	free(b.v);
	free(b.skip);
	return r;
}
