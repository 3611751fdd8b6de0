/*
 * t_signames.c - the signal name table against the kernel: every classic
 * name gives the <signal.h> number (and the C library's own abbreviation,
 * sigabbrev_np), SIGRTMIN/SIGRTMAX are this process's, every number
 * 1..SIGRTMAX round-trips through its name, the kernel refuses
 * SIGRTMAX+1 as the helpers do, and a value queued by ipck_sig_send
 * arrives with the signal the name stands for.
 */
#include "check.h"
#include "ipckit.h"
#include <signal.h>
#include <unistd.h>

static const struct { const char *name; int num; const char *action; } classic[] = {
	{"HUP", SIGHUP, "term"}, {"INT", SIGINT, "term"}, {"QUIT", SIGQUIT, "core"},
	{"ILL", SIGILL, "core"}, {"TRAP", SIGTRAP, "core"}, {"ABRT", SIGABRT, "core"},
	{"BUS", SIGBUS, "core"}, {"FPE", SIGFPE, "core"}, {"KILL", SIGKILL, "term"},
	{"USR1", SIGUSR1, "term"}, {"SEGV", SIGSEGV, "core"}, {"USR2", SIGUSR2, "term"},
	{"PIPE", SIGPIPE, "term"}, {"ALRM", SIGALRM, "term"}, {"TERM", SIGTERM, "term"},
	{"STKFLT", SIGSTKFLT, "term"}, {"CHLD", SIGCHLD, "ign"}, {"CONT", SIGCONT, "cont"},
	{"STOP", SIGSTOP, "stop"}, {"TSTP", SIGTSTP, "stop"}, {"TTIN", SIGTTIN, "stop"},
	{"TTOU", SIGTTOU, "stop"}, {"URG", SIGURG, "ign"}, {"XCPU", SIGXCPU, "core"},
	{"XFSZ", SIGXFSZ, "core"}, {"VTALRM", SIGVTALRM, "term"}, {"PROF", SIGPROF, "term"},
	{"WINCH", SIGWINCH, "ign"}, {"IO", SIGIO, "term"}, {"PWR", SIGPWR, "term"},
	{"SYS", SIGSYS, "core"},
};

static void check_classic(void)
{
	struct ipck_sig_info in;
	bool seen[65] = {false};
	for (size_t i = 0; i < sizeof(classic) / sizeof(classic[0]); i++) {
		const char *n = classic[i].name;
		int s = classic[i].num;
		CHECK_EQ(ipck_sig_lookup(n), s);
		CHECK_EQ(ipck_sig_lookup(fmt("SIG%s", n)), s);
		char low[16];
		for (size_t k = 0; k <= strlen(n); k++)
			low[k] = (char)(n[k] | (n[k] ? 0x20 : 0));
		CHECK_EQ(ipck_sig_lookup(fmt("sig%s", low)), s);
		CHECK_EQ(ipck_sig_lookup(fmt("%d", s)), s);
		CHECK_OK(ipck_sig_info(s, &in));
		CHECK(!strcmp(in.name, fmt("SIG%s", n)));
		CHECK(!strcmp(in.action, classic[i].action));
		CHECK(in.descr && *in.descr);
		const char *abbrev = sigabbrev_np(s);   /* the C library's own table */
		CHECK(abbrev && ipck_sig_lookup(abbrev) == s);   /* glibc says POLL for IO */
		REQUIRE(s >= 1 && s < 32);
		CHECK(!seen[s]);
		seen[s] = true;
	}
	for (int s = 1; s < 32; s++)
		CHECK(seen[s]);   /* all 31 classic numbers are named */
	CHECK_EQ(ipck_sig_lookup("IOT"), SIGABRT);
	CHECK_EQ(ipck_sig_lookup("SIGCLD"), SIGCHLD);
	CHECK_EQ(ipck_sig_lookup("POLL"), SIGIO);
}

static void check_realtime(void)
{
	struct ipck_sig_info in;
	CHECK(SIGRTMIN >= 32 && SIGRTMAX > SIGRTMIN);
	CHECK_EQ(SIGRTMAX, 64);   /* Linux: _NSIG - 1 */
	CHECK_EQ(ipck_sig_lookup("SIGRTMIN"), SIGRTMIN);
	CHECK_EQ(ipck_sig_lookup("RTMIN+3"), SIGRTMIN + 3);
	CHECK_EQ(ipck_sig_lookup("sigrtmax-2"), SIGRTMAX - 2);
	CHECK_EQ(ipck_sig_lookup("SIGRTMAX"), SIGRTMAX);
	CHECK_EQ(ipck_sig_lookup(fmt("RTMIN+%d", SIGRTMAX - SIGRTMIN)), SIGRTMAX);
	CHECK_EQ(ipck_sig_lookup(fmt("RTMIN+%d", SIGRTMAX - SIGRTMIN + 1)), -EINVAL);
	CHECK_EQ(ipck_sig_lookup("RTMIN-1"), -EINVAL);
	CHECK_EQ(ipck_sig_lookup("RTMAX+1"), -EINVAL);
	CHECK_OK(ipck_sig_info(SIGRTMIN + 1, &in));
	CHECK(!strcmp(in.name, "SIGRTMIN+1"));
	CHECK_OK(ipck_sig_info(SIGRTMAX - 1, &in));
	CHECK(!strcmp(in.name, "SIGRTMAX-1"));
	for (int s = 1; s <= SIGRTMAX; s++) {
		CHECK_OK(ipck_sig_info(s, &in));
		CHECK_EQ(in.number, s);
		if (ipck_sig_lookup(in.name) != s)
			check_fail(__FILE__, __LINE__, "signal %d is named %s, which looks up as %d",
				   s, in.name, ipck_sig_lookup(in.name));
	}
}

static void check_bad(void)
{
	struct ipck_sig_info in;
	const char *bad[] = {"", "SIG", "FOO", "SIGFOO", "9x", "-9", "+9", "RT", "RTMIN+",
			     "RTMIN+x", "SIGRTMIN-1", "65", "99999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ipck_sig_lookup(bad[i]) != -EINVAL)
			check_fail(__FILE__, __LINE__, "'%s' looked up as %d", bad[i],
				   ipck_sig_lookup(bad[i]));
	CHECK_EQ(ipck_sig_lookup(NULL), -EINVAL);
	CHECK_EQ(ipck_sig_lookup("0"), 0);   /* kill -0 */
	CHECK_EQ(ipck_sig_info(0, &in), -EINVAL);
	CHECK_EQ(ipck_sig_info(SIGRTMAX + 1, &in), -EINVAL);
	CHECK_EQ(ipck_sig_info(SIGINT, NULL), -EINVAL);
}

/* The kernel's view: its last signal is SIGRTMAX, and values travel. */
static void check_kernel(void)
{
	union sigval v = {.sival_int = 1};
	CHECK_EQ(sigqueue(getpid(), SIGRTMAX + 1, v), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(ipck_sig_send(getpid(), SIGRTMAX + 1, 1), -EINVAL);
	CHECK_EQ(ipck_sig_send(0, SIGUSR1, 1), -EINVAL);
	CHECK_EQ(ipck_sig_send(getpid(), 0, 0), 0);   /* alive */

	const char *names[] = {"USR1", "SIGRTMIN", "RTMIN+3", "SIGRTMAX-2", "SIGRTMAX"};
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		sigaddset(&set, ipck_sig_lookup(names[i]));
	REQUIRE(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int s = ipck_sig_lookup(names[i]);
		CHECK_OK(ipck_sig_send(getpid(), s, 1000 + (int)i));
		siginfo_t si;
		struct timespec ts = {5, 0};
		CHECK_EQ(sigtimedwait(&set, &si, &ts), s);
		CHECK_EQ(si.si_code, SI_QUEUE);
		CHECK_EQ(si.si_pid, getpid());
		CHECK_EQ(si.si_uid, getuid());
		CHECK_EQ(si.si_value.sival_int, 1000 + (int)i);
	}
}

int main(void)
{
	check_classic();
	check_realtime();
	check_bad();
	check_kernel();
	check_exit();
}
