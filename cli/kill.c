/*
 * kill.c - `ipckit kill [-s SIG | -SIG] [--value N] PID...`: queue a signal
 * with sigqueue(3), so a receiver reading siginfo (`ipckit signals --wait`,
 * a signalfd, an SA_SIGINFO handler) gets the value and the sender's pid.
 */
#include "cli.h"
#include <signal.h>
#include <stdint.h>
#include <string.h>

static const char usage_text[] =
	"usage: ipckit kill [-s SIG | -SIG] [--value N] PID...\n\n"
	"Queue signal SIG (default TERM) to each PID with sigqueue(3), carrying the\n"
	"integer value N (default 0).  SIG is a name or number: TERM, SIGUSR1, 9,\n"
	"RTMIN+3, SIGRTMAX-2; 0 only checks that the process exists.  'ipckit signals'\n"
	"lists them.  Exit 1 if any PID could not be signalled (ESRCH: no such process).\n";

static int parse_sig(const char *name, int *sig)
{
	*sig = ipck_sig_lookup(name);
	return *sig < 0 ? cli_usage("unknown signal '%s'", name) : 0;
}

/* Options before the PIDs: the index of the first PID, 0 after --help, or -(exit status). */
static int kill_args(int argc, char **argv, int *sig, long long *value)
{
	int i, r;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		if (cli_is_help(a)) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if ((!strcmp(a, "-s") || !strcmp(a, "--signal")) && i + 1 < argc)
			r = parse_sig(argv[++i], sig);
		else if (!strcmp(a, "--value") && i + 1 < argc)
			r = cli_int(argv[++i], INT32_MIN, INT32_MAX, value) ? 0 :
			    cli_usage("bad --value '%s': an int", argv[i]);
		else if (a[1] != '-' && strcmp(a, "-s"))
			r = parse_sig(a + 1, sig);   /* -9, -USR1, -RTMIN+2 */
		else
			r = cli_usage("unknown option '%s', or it lacks its value", a);
		if (r)
			return -r;
	}
	return i;
}

int cmd_kill(int argc, char **argv)
{
	int sig = SIGTERM;
	long long value = 0, pid;
	int first = kill_args(argc, argv, &sig, &value);
	if (first <= 0)
		return -first;
	if (first >= argc)
		return cli_usage("no PID given");
	for (int i = first; i < argc; i++)
		if (!cli_int(argv[i], 1, INT32_MAX, &pid))
			return cli_usage("bad PID '%s': a process id > 0", argv[i]);
	int status = 0;
	for (int i = first; i < argc; i++) {
		cli_int(argv[i], 1, INT32_MAX, &pid);
		int r = ipck_sig_send((pid_t)pid, sig, (int)value);
		if (r)
			status = cli_err(r, "%s", argv[i]);
	}
	return status;
}
