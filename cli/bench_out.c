/*
 * bench_out.c - the formats of `ipckit bench`: the aligned table for
 * people, JSON and CSV for programs (the same columns), the markdown table
 * of docs/choosing.md, and the notes on what was not measured.
 * A figure that was not measured is 0 in a row: "-" in the table, null in
 * JSON, empty in CSV.
 */
#include "bench.h"
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

const char *bench_size_str(size_t size, char *buf, size_t cap)
{
	if (size >= (1u << 20) && size % (1u << 20) == 0)
		snprintf(buf, cap, "%zu MiB", size >> 20);
	else if (size >= 1024 && size % 1024 == 0)
		snprintf(buf, cap, "%zu KiB", size >> 10);
	else
		snprintf(buf, cap, "%zu B", size);
	return buf;
}

void bench_machine(char *buf, size_t cap)
{
	char model[128] = "unknown CPU", line[256];
	struct utsname u;
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (colon && !strncmp(line, "model name", 10)) {
			snprintf(model, sizeof(model), "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	if (uname(&u) < 0)
		strcpy(u.release, "?");
	snprintf(buf, cap, "%s, %ld cores, Linux %s", model, sysconf(_SC_NPROCESSORS_ONLN),
		 u.release);
}

const char *bench_placement(const struct brows *b)
{
	if (b->pinned)
		return ", pinned";
	if (b->place == IPCK_PLACE_ONE)
		return ", each pair on one CPU (both spinning: two)";
	if (b->place == IPCK_PLACE_TWO)
		return ", each pair on two CPUs";
	return "";
}

bool bench_spin_placed(const struct brows *b, const struct ipck_bench_row *r)
{
	return !b->pinned && b->place != IPCK_PLACE_TWO && r->pinned && !strcmp(r->wait, "spin");
}

double bench_cpu(const struct ipck_bench_row *r)
{
	return r->cpu_tx_ns + r->cpu_rx_ns;
}

/* 812 ns, 1.23 us, 45.6 ms */
static const char *dur(double ns, char *b, size_t cap)
{
	if (ns <= 0)
		snprintf(b, cap, "-");
	else if (ns < 1e3)
		snprintf(b, cap, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(b, cap, "%.3g us", ns / 1e3);
	else
		snprintf(b, cap, "%.3g ms", ns / 1e6);
	return b;
}

/* 1.23M, 456k, 789 */
static const char *num(double v, char *b, size_t cap)
{
	if (v <= 0)
		snprintf(b, cap, "-");
	else if (v >= 1e9)
		snprintf(b, cap, "%.3gG", v / 1e9);
	else if (v >= 1e6)
		snprintf(b, cap, "%.3gM", v / 1e6);
	else if (v >= 1e3)
		snprintf(b, cap, "%.3gk", v / 1e3);
	else
		snprintf(b, cap, "%.3g", v);
	return b;
}

/* The fastest round trip among the rows of this size. */
static double fastest(const struct brows *b, size_t size)
{
	double best = 0;
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].size == size && b->v[i].rtt_p50_ns > 0 &&
		    (best == 0 || b->v[i].rtt_p50_ns < best))
			best = b->v[i].rtt_p50_ns;
	return best;
}

/* The row of the same size that makes the same system calls directly. */
static const struct ipck_bench_row *raw_of(const struct brows *b, const struct ipck_bench_row *r)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].size == r->size && !strncmp(b->v[i].scheme, "raw-", 4) &&
		    !strcmp(b->v[i].scheme + 4, r->scheme))
			return &b->v[i];
	return NULL;
}

/* The cells of one row, formatted for people (table and markdown). */
struct cells {
	char wait[16], p50[16], p99[16], p999[16], ratio[16], raw[16], mps[16], mbs[16];
	char cpu[16], tx[16], rx[16];   /* both sides, the sender, the receiver */
};

static void cells(const struct brows *b, const struct ipck_bench_row *r, struct cells *c,
		  const char *star)
{
	double best = fastest(b, r->size);
	const struct ipck_bench_row *raw = raw_of(b, r);
	snprintf(c->wait, sizeof(c->wait), "%s%s", r->wait, bench_spin_placed(b, r) ? star : "");
	dur(r->rtt_p50_ns, c->p50, sizeof(c->p50));
	dur(r->rtt_p99_ns, c->p99, sizeof(c->p99));
	dur(r->rtt_p999_ns, c->p999, sizeof(c->p999));
	snprintf(c->ratio, sizeof(c->ratio), "-");
	if (best > 0 && r->rtt_p50_ns > 0)
		snprintf(c->ratio, sizeof(c->ratio), "%.1fx", r->rtt_p50_ns / best);
	snprintf(c->raw, sizeof(c->raw), "-");
	if (raw && raw->rtt_p50_ns > 0 && r->rtt_p50_ns > 0)
		snprintf(c->raw, sizeof(c->raw), "%+.0f%%", (r->rtt_p50_ns / raw->rtt_p50_ns - 1) * 100);
	num(r->msgs_per_s, c->mps, sizeof(c->mps));
	num(r->mb_per_s, c->mbs, sizeof(c->mbs));
	dur(bench_cpu(r), c->cpu, sizeof(c->cpu));
	dur(r->cpu_tx_ns, c->tx, sizeof(c->tx));
	dur(r->cpu_rx_ns, c->rx, sizeof(c->rx));
}

#define TABLE_FMT "  %-20s %-7s %9s %9s %9s %7s %7s %8s %8s %9s %9s%s\n"

void bench_table(FILE *f, const struct brows *b)
{
	char m[256], s[32];
	struct cells c;
	bool star = false;
	bench_machine(m, sizeof(m));
	fprintf(f, "%s%s\n", m, bench_placement(b));
	for (size_t i = 0; i < b->n; i++) {
		const struct ipck_bench_row *r = &b->v[i];
		if (i == 0 || r->size != b->v[i - 1].size)
			fprintf(f, "\n%s messages\n" TABLE_FMT, bench_size_str(r->size, s, sizeof(s)),
				"scheme", "wait", "rtt p50", "p99", "p99.9", "ratio", "vs raw",
				"msgs/s", "MB/s", "cpu tx", "cpu rx", "");
		cells(b, r, &c, "*");
		fprintf(f, TABLE_FMT, r->scheme, c.wait, c.p50, c.p99, c.p999, c.ratio, c.raw,
			c.mps, c.mbs, c.tx, c.rx, r->noisy ? "  noisy" : "");
		star |= bench_spin_placed(b, r);
	}
	if (star)
		fprintf(f, "\n* both sides spin: they ran on two CPUs of their own (see --pin)\n");
	fprintf(f, "ratio: round trip against the fastest of the size; vs raw: against raw-<scheme>;\n"
		   "cpu tx, rx: CPU time per message of the sender and of the receiver, one way\n");
	if (!b->pinned && b->place == IPCK_PLACE_ANY)
		fprintf(f, "unplaced: the scheduler may put a pair on one CPU or two, which changes a\n"
			   "round trip several times over; --place one or --place two compare like with like\n");
}

static bool same_skip(const struct ipck_bench_row *a, const struct ipck_bench_row *b)
{
	return !strcmp(a->scheme, b->scheme) && !strcmp(a->wait, b->wait) && a->err == b->err;
}

/* One line per target and reason for the sizes not measured. */
void bench_notes(FILE *f, const struct brows *b)
{
	char s[32];
	for (size_t i = 0; i < b->nskip; i++) {
		const struct ipck_bench_row *r = &b->skip[i];
		if (i == 0)
			fputc('\n', f);
		if (i == 0 || !same_skip(r, &b->skip[i - 1]))
			fprintf(f, "%s (%s):", r->scheme, r->wait);
		fprintf(f, " %s", bench_size_str(r->size, s, sizeof(s)));
		if (i + 1 < b->nskip && same_skip(r, &b->skip[i + 1]))
			continue;
		if (r->err == -EMSGSIZE)
			fprintf(f, " not measured: larger than its largest message (%zu B)\n",
				r->max_msg);
		else
			fprintf(f, " not measured: %s (%s)\n", ipck_errname(r->err),
				ipck_strerror(r->err));
	}
}

static void json_num(FILE *f, const char *key, double v)
{
	if (v > 0)
		fprintf(f, ",\"%s\":%.6g", key, v);
	else
		fprintf(f, ",\"%s\":null", key);
}

void bench_json(FILE *f, const struct brows *b)
{
	fprintf(f, "[\n");
	for (size_t i = 0; i < b->n; i++) {
		const struct ipck_bench_row *r = &b->v[i];
		fprintf(f, "{\"scheme\":");
		cli_json_str(f, r->scheme);
		fprintf(f, ",\"size\":%zu", r->size);
		json_num(f, "rtt_p50_ns", r->rtt_p50_ns);
		json_num(f, "rtt_p99_ns", r->rtt_p99_ns);
		json_num(f, "rtt_p999_ns", r->rtt_p999_ns);
		json_num(f, "msgs_per_s", r->msgs_per_s);
		json_num(f, "mb_per_s", r->mb_per_s);
		json_num(f, "cpu_ns_per_msg", bench_cpu(r));
		fprintf(f, ",\"wait\":");
		cli_json_str(f, r->wait);
		fprintf(f, ",\"pinned\":%s,\"noisy\":%s}%s\n", r->pinned ? "true" : "false",
			r->noisy ? "true" : "false", i + 1 < b->n ? "," : "");
	}
	fprintf(f, "]\n");
}

static void csv_num(FILE *f, double v)
{
	if (v > 0)
		fprintf(f, ",%.6g", v);
	else
		fputc(',', f);
}

void bench_csv(FILE *f, const struct brows *b)
{
	fprintf(f, "scheme,size,rtt_p50_ns,rtt_p99_ns,rtt_p999_ns,msgs_per_s,mb_per_s,"
		   "cpu_ns_per_msg,wait,pinned,noisy\n");
	for (size_t i = 0; i < b->n; i++) {
		const struct ipck_bench_row *r = &b->v[i];
		fprintf(f, "%s,%zu", r->scheme, r->size);
		csv_num(f, r->rtt_p50_ns);
		csv_num(f, r->rtt_p99_ns);
		csv_num(f, r->rtt_p999_ns);
		csv_num(f, r->msgs_per_s);
		csv_num(f, r->mb_per_s);
		csv_num(f, bench_cpu(r));
		fprintf(f, ",%s,%d,%d\n", r->wait, r->pinned, r->noisy);
	}
}

/* One markdown table per size, sorted by round trip. */
void bench_md(FILE *f, const struct brows *b)
{
	char m[256], s[32];
	struct cells c;
	bench_machine(m, sizeof(m));
	fprintf(f, "Measured on %s%s.\n", m, bench_placement(b));
	for (size_t i = 0; i < b->n; i++) {
		const struct ipck_bench_row *r = &b->v[i];
		if (i == 0 || r->size != b->v[i - 1].size)
			fprintf(f, "\n**%s messages**\n\n| scheme | wait | round trip p50 | p99 | "
				   "vs fastest | vs raw | msgs/s | MB/s | CPU/msg |\n"
				   "|---|---|--:|--:|--:|--:|--:|--:|--:|\n",
				bench_size_str(r->size, s, sizeof(s)));
		cells(b, r, &c, "\\*");
		fprintf(f, "| %s%s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r->scheme,
			r->noisy ? " (noisy)" : "", c.wait, c.p50, c.p99, c.ratio, c.raw, c.mps,
			c.mbs, c.cpu);
	}
	fprintf(f, "\n\\* both sides spin: they ran on two CPUs of their own. "
		   "vs raw: the round trip against the raw-<scheme> row.\n");
	if (!b->pinned && b->place == IPCK_PLACE_ANY)
		fprintf(f, "Unplaced, the scheduler put each pair on one CPU or on two, which changes "
			   "a kernel round trip several times over (vs raw too): `--place one` and "
			   "`--place two` compare like with like.\n");
}
