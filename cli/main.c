/*
 * main.c - ipckit: one command, one subcommand per file.  This table is the
 * whole list; `ipckit help` and `ipckit --help` print it.
 */
#include "cli.h"
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *cli_prog = "ipckit";

const struct cli_cmd cli_cmds[] = {
	{"help", cmd_help, "list the commands, or show one command's help"},
	{"send", cmd_send, "send messages to any IPC endpoint (socat for IPC)"},
	{"recv", cmd_recv, "receive and print messages from any IPC endpoint"},
	{"relay", cmd_relay, "forward messages from one IPC endpoint to another"},
	{"bench", cmd_bench, "measure every mechanism side by side (table, JSON, CSV, chart)"},
	{"ls", cmd_ls, "list every IPC object, with the processes holding it"},
	{"rm", cmd_rm, "remove IPC objects by URL, or every stale one"},
	{"limits", cmd_limits, "show the kernel's IPC limits and their use"},
	{"signals", cmd_signals, "list every signal, or wait for signals and show who sent them"},
	{"kill", cmd_kill, "queue a signal with a value to processes (sigqueue)"},
	{"demo", cmd_demo, "run a classic IPC example pair live, each system call shown"},
	{NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ipckit [--version] [--help] COMMAND [ARGS...]\n\n"
		   "Every Linux IPC mechanism: see, measure, move and clean up.\n\n"
		   "Commands:\n");
	for (const struct cli_cmd *c = cli_cmds; c->name; c++)
		fprintf(f, "  %-9s %s\n", c->name, c->help);
	fprintf(f, "\nRun 'ipckit COMMAND --help' for a command's options.\n"
		   "Addresses are URLs, scheme:address[?option=value&...]; schemes:\n ");
	const struct ipck_scheme_info *s;
	for (size_t i = 0; (s = ipck_scheme_at(i)); i++)
		fprintf(f, " %s", s->name);
	fprintf(f, "\n");
}

int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	for (const struct cli_cmd *c = cli_cmds; c->name; c++)
		if (!strcmp(c->name, argv[1])) {
			char *hargv[] = {argv[1], "--help", NULL};
			cli_prog = argv[1];
			return c->run(2, hargv);
		}
	return cli_usage("no command '%s'", argv[1]);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (cli_is_help(argv[1])) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("ipckit %s\n", ipck_version());
		return 0;
	}
	for (const struct cli_cmd *c = cli_cmds; c->name; c++) {
		if (strcmp(c->name, argv[1]))
			continue;
		static char prog[64];
		snprintf(prog, sizeof(prog), "ipckit %s", c->name);
		cli_prog = prog;
		argv[1] = prog;   /* getopt's own messages name "ipckit CMD" */
		return c->run(argc - 1, argv + 1);
	}
	fprintf(stderr, "ipckit: '%s' is not a command; 'ipckit --help' lists them\n", argv[1]);
	return 2;
}
