/*
 * signals.c - `ipckit signals`: every signal of this system, 1 to SIGRTMAX,
 * with its number, name, default action and meaning (kill -l and kill -L
 * together); `ipckit signals --wait` prints each signal it receives, with
 * the sender's pid, uid and value, until interrupted.
 */
#include "cli.h"
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: ipckit signals [--json]\n"
	"       ipckit signals --wait [--json] [--count N] [--timeout MS] [SIG...]\n\n"
	"List every signal, 1 to SIGRTMAX: number, name, default action, description.\n\n"
	"With --wait, block the signals named (by default every signal but INT, KILL,\n"
	"STOP, the faults, job control, CHLD, WINCH and URG) and print each one received:\n"
	"number, name, sender pid and uid, value (sigqueue) and how it was sent.  Ctrl-C\n"
	"ends it (unless INT is named).  A line on stderr says when it is ready.\n"
	"  --count N     exit 0 after N signals\n"
	"  --timeout MS  exit 1 when MS pass without a signal\n"
	"  --json        one JSON object per signal (a JSON array for the list)\n";

static void print_list(bool json)
{
	struct ipck_sig_info si;
	if (!json)
		printf("%3s  %-12s %-6s %s\n", "NUM", "NAME", "ACTION", "DESCRIPTION");
	else
		printf("[");
	for (int s = 1; s <= SIGRTMAX; s++) {
		if (ipck_sig_info(s, &si))
			continue;
		if (!json) {
			printf("%3d  %-12s %-6s %s\n", si.number, si.name, si.action, si.descr);
			continue;
		}
		printf("%s\n {\"number\": %d, \"name\": ", s > 1 ? "," : "", si.number);
		cli_json_str(stdout, si.name);
		printf(", \"action\": ");
		cli_json_str(stdout, si.action);
		printf(", \"description\": ");
		cli_json_str(stdout, si.descr);
		printf("}");
	}
	if (json)
		printf("\n]\n");
}

/* Signals a plain --wait leaves alone: uncatchable, faults, Ctrl-C, terminal noise. */
static bool default_skip(int s)
{
	static const int skip[] = {SIGKILL, SIGSTOP, SIGINT, SIGSEGV, SIGBUS, SIGFPE, SIGILL,
				   SIGTRAP, SIGTSTP, SIGTTIN, SIGTTOU, SIGCHLD, SIGWINCH,
				   SIGURG, SIGCONT};
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (skip[i] == s)
			return true;
	return false;
}

static int wait_set(int n, char **names, sigset_t *set)
{
	sigemptyset(set);
	if (n == 0) {
		for (int s = 1; s <= SIGRTMAX; s++)
			if (!default_skip(s))
				sigaddset(set, s);   /* the C library's own refuse: fine */
		return 0;
	}
	for (int i = 0; i < n; i++) {
		int s = ipck_sig_lookup(names[i]);
		if (s <= 0)
			return cli_usage("unknown signal '%s'", names[i]);
		if (s == SIGKILL || s == SIGSTOP || sigaddset(set, s) < 0)
			return cli_usage("%s cannot be waited for", names[i]);
	}
	return 0;
}

static const char *code_name(int code)
{
	switch (code) {
	case SI_USER:    return "kill";
	case SI_QUEUE:   return "sigqueue";
	case SI_TKILL:   return "tkill";
	case SI_KERNEL:  return "kernel";
	case SI_TIMER:   return "timer";
	case SI_MESGQ:   return "mq_notify";
	case SI_ASYNCIO: return "aio";
	case SI_SIGIO:   return "sigio";
	default:         return code > 0 ? "kernel" : "other";
	}
}

static void print_one(const siginfo_t *si, bool json)
{
	struct ipck_sig_info in;
	if (ipck_sig_info(si->si_signo, &in))
		snprintf(in.name, sizeof(in.name), "SIG%d", si->si_signo);
	bool has_value = si->si_code == SI_QUEUE || si->si_code == SI_TIMER ||
			 si->si_code == SI_MESGQ;
	if (json) {
		printf("{\"number\": %d, \"name\": \"%s\", \"pid\": %d, \"uid\": %u, \"value\": ",
		       si->si_signo, in.name, (int)si->si_pid, (unsigned)si->si_uid);
		if (has_value)
			printf("%d", si->si_value.sival_int);
		else
			printf("null");
		printf(", \"code\": \"%s\"}\n", code_name(si->si_code));
	} else {
		char v[16] = "-";
		if (has_value)
			snprintf(v, sizeof(v), "%d", si->si_value.sival_int);
		printf("%3d  %-12s %7d %6u %11s  %s\n", si->si_signo, in.name, (int)si->si_pid,
		       (unsigned)si->si_uid, v, code_name(si->si_code));
	}
	fflush(stdout);
}

static int wait_loop(const sigset_t *set, bool json, long long count, long long timeout_ms)
{
	siginfo_t si;
	struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000};
	int e = sigprocmask(SIG_BLOCK, set, NULL);
	if (e < 0)
		return cli_err(-errno, "sigprocmask");
	if (!json)
		printf("%3s  %-12s %7s %6s %11s  %s\n", "NUM", "NAME", "PID", "UID", "VALUE", "CODE");
	fflush(stdout);
	fprintf(stderr, "%s: waiting as pid %d\n", cli_prog, (int)getpid());
	for (long long got = 0; count < 0 || got < count; got++) {
		int s = timeout_ms >= 0 ? sigtimedwait(set, &si, &ts) : sigwaitinfo(set, &si);
		if (s < 0 && errno == EINTR) {
			got--;
			continue;
		}
		if (s < 0 && errno == EAGAIN)
			return cli_err(0, "no signal in %lld ms", timeout_ms);
		if (s < 0)
			return cli_err(-errno, "sigwaitinfo");
		print_one(&si, json);
	}
	return 0;
}

int cmd_signals(int argc, char **argv)
{
	bool json = false, wait = false;
	long long count = -1, timeout_ms = -1;
	int i;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		if (cli_is_help(a)) {
			fputs(usage_text, stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--wait") || !strcmp(a, "-w")) {
			wait = true;
		} else if (!strcmp(a, "--count") && i + 1 < argc) {
			if (!cli_int(argv[++i], 1, INT32_MAX, &count))
				return cli_usage("bad --count '%s'", argv[i]);
		} else if (!strcmp(a, "--timeout") && i + 1 < argc) {
			if (!cli_int(argv[++i], 0, INT32_MAX, &timeout_ms))
				return cli_usage("bad --timeout '%s'", argv[i]);
		} else {
			return cli_usage("unknown option '%s'", a);
		}
	}
	if (!wait) {
		if (i < argc || count >= 0 || timeout_ms >= 0)
			return cli_usage("signal names, --count and --timeout go with --wait");
		print_list(json);
		return 0;
	}
	sigset_t set;
	int r = wait_set(argc - i, argv + i, &set);
	return r ? r : wait_loop(&set, json, count, timeout_ms);
}
