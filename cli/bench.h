/*
 * bench.h - what the files of `ipckit bench` share: the collected rows and
 * the output formats (bench_out.c: table, json, csv, markdown; bench_svg.c:
 * the chart).  The measuring is the library's (ipck_bench_run).
 */
#ifndef IPCKIT_CLI_BENCH_H
#define IPCKIT_CLI_BENCH_H

#include "cli.h"

struct brows {
	struct ipck_bench_row *v;  /* measured rows, sorted: size, then round trip */
	size_t n;
	struct ipck_bench_row *skip; /* rows not measured (err), in run order */
	size_t nskip;
	size_t sizes[16];          /* the sizes asked for */
	size_t nsizes;
	bool pinned;               /* --pin: every row ran on the CPUs asked for */
	int place;                 /* --place: IPCK_PLACE_* */
};

/* ", pinned", ", each pair on one CPU"...: how the pairs were placed. */
const char *bench_placement(const struct brows *b);
/* Was this row placed apart from the others because both sides spin? */
bool bench_spin_placed(const struct brows *b, const struct ipck_bench_row *r);

/* "Intel Xeon ... , 2 cores, Linux 6.1.0" */
void bench_machine(char *buf, size_t cap);
/* "64 B", "1 KiB", "64 KiB", "1 MiB" */
const char *bench_size_str(size_t size, char *buf, size_t cap);
/* The CPU time per message of both sides. */
double bench_cpu(const struct ipck_bench_row *r);

void bench_table(FILE *f, const struct brows *b);
void bench_notes(FILE *f, const struct brows *b);
void bench_json(FILE *f, const struct brows *b);
void bench_csv(FILE *f, const struct brows *b);
void bench_md(FILE *f, const struct brows *b);
void bench_svg(FILE *f, const struct brows *b);

/* Extra peers linked into this binary (bench_peers.c; empty without them). */
extern const struct ipck_bench_peer *const cli_bench_peers[];
/* ipckit relay between two channels of one scheme (bench_relay.c). */
extern const struct ipck_bench_peer cli_relay_pshm, cli_relay_unix;

#endif
