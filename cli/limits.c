/*
 * limits.c - ipckit limits: the kernel's limits on IPC objects (System V,
 * POSIX queues, pipes, Unix datagrams) with their current use and the
 * percentage where one means something, like `lsipc -g` and more.  The
 * library reads them (ipck_limits); this file formats.
 */
#include "cli.h"
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <sys/resource.h>

#define MAX_LIMITS 64

static void usage(void)
{
	printf("usage: ipckit limits [--json]\n\n"
	       "The kernel's limits on IPC objects and how much of each is in use:\n"
	       "System V (msgmni msgmax msgmnb shmmni shmall shmmax shmmin semmni semmns semmsl\n"
	       "semopm semvmx), POSIX queues (queues_max msg_max msgsize_max, the defaults, the\n"
	       "caller's RLIMIT_MSGQUEUE), pipes (pipe-max-size) and Unix datagrams\n"
	       "(max_dgram_qlen).  USED says what it counts; '-' where nothing is counted.\n\n"
	       "  --json   one JSON array of objects: name, group, description, unit, limit\n"
	       "           (absent when unlimited: \"unlimited\":true), used, use, percent\n");
}

static bool has_percent(const struct ipck_limit *l)
{
	return l->known && l->has_used && l->value && l->value != RLIM_INFINITY;
}

static void print_json(const struct ipck_limit *lim, size_t n)
{
	fputc('[', stdout);
	for (size_t i = 0; i < n; i++) {
		const struct ipck_limit *l = &lim[i];
		fputs(i ? ",\n{\"name\":" : "\n{\"name\":", stdout);
		cli_json_str(stdout, l->name);
		fputs(",\"group\":", stdout);
		cli_json_str(stdout, l->group);
		fputs(",\"description\":", stdout);
		cli_json_str(stdout, l->desc);
		fputs(",\"unit\":", stdout);
		cli_json_str(stdout, l->unit);
		if (l->known && l->value == RLIM_INFINITY)
			fputs(",\"unlimited\":true", stdout);
		else if (l->known)
			printf(",\"limit\":%llu", l->value);
		if (l->has_used) {
			printf(",\"used\":%llu,\"use\":", l->used);
			cli_json_str(stdout, l->use);
		}
		if (has_percent(l))
			printf(",\"percent\":%.2f", 100.0 * (double)l->used / (double)l->value);
		fputc('}', stdout);
	}
	fputs(n ? "\n]\n" : "]\n", stdout);
}

static void print_table(const struct ipck_limit *lim, size_t n)
{
	static const char *const head[] = {"NAME", "GROUP", "LIMIT", "USED", "USE%", "UNIT", "DESCRIPTION"};
	static const bool right[] = {false, false, true, true, true, false, false};
	struct cli_table t;
	char buf[256];
	cli_table_init(&t, 7);
	for (size_t i = 0; i < 7; i++)
		cli_table_cell(&t, head[i]);
	for (size_t i = 0; i < n; i++) {
		const struct ipck_limit *l = &lim[i];
		cli_table_cell(&t, l->name);
		cli_table_cell(&t, l->group);
		if (l->known && l->value == RLIM_INFINITY)
			snprintf(buf, sizeof(buf), "unlimited");
		else
			snprintf(buf, sizeof(buf), l->known ? "%llu" : "?", l->value);
		cli_table_cell(&t, buf);
		snprintf(buf, sizeof(buf), l->has_used ? "%llu" : "-", l->used);
		cli_table_cell(&t, buf);
		if (has_percent(l))
			snprintf(buf, sizeof(buf), "%.2f%%", 100.0 * (double)l->used / (double)l->value);
		else
			snprintf(buf, sizeof(buf), "-");
		cli_table_cell(&t, buf);
		cli_table_cell(&t, l->unit);
		snprintf(buf, sizeof(buf), "%s%s%s%s", l->desc, l->has_used ? " (used: " : "",
			 l->has_used ? l->use : "", l->has_used ? ")" : "");
		cli_table_cell(&t, buf);
	}
	cli_table_print(stdout, &t, right);
	cli_table_free(&t);
}

int cmd_limits(int argc, char **argv)
{
	static const struct option lo[] = {
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", lo, NULL)) != -1) {
		if (c == 'h') {
			usage();
			return 0;
		}
		if (c != 'j')
			return cli_usage("bad option");
		json = true;
	}
	if (optind < argc)
		return cli_usage("no arguments expected ('%s')", argv[optind]);
	struct ipck_limit lim[MAX_LIMITS];
	ssize_t n = ipck_limits(lim, MAX_LIMITS);
	if (n < 0)
		return cli_err((int)n, "reading the limits");
	if (n > MAX_LIMITS)
		n = MAX_LIMITS;
	if (json)
		print_json(lim, (size_t)n);
	else
		print_table(lim, (size_t)n);
	return fflush(stdout) == 0 ? 0 : cli_err(-EIO, "writing the limits");
}
