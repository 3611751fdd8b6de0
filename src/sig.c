/*
 * sig.c - signals: names and numbers, queueing with a value, and the
 * primitives of the "signal:" scheme (claiming a signal for a signalfd,
 * queueing a tagged word through a pidfd).
 *
 * Names follow kill(1) and bash: SIGHUP..SIGSYS by the <signal.h> constants
 * (the numbers differ between architectures, the names do not), then
 * SIGRTMIN..SIGRTMAX read at run time, the lower half named SIGRTMIN+n and
 * the upper half SIGRTMAX-n.  The kernel's own first realtime signals, below
 * the C library's SIGRTMIN (32 and 33 with glibc), are reserved by the C
 * library for its threads and are named SIG32, SIG33.
 */
#include "internal.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct sigdef {
	int num;
	const char *name;    /* without "SIG" */
	const char *action;  /* default action */
	const char *descr;
};

static const struct sigdef sigdefs[] = {
	{SIGHUP, "HUP", "term", "hangup: the controlling terminal or process went away"},
	{SIGINT, "INT", "term", "interrupt from the keyboard (Ctrl-C)"},
	{SIGQUIT, "QUIT", "core", "quit from the keyboard (Ctrl-\\)"},
	{SIGILL, "ILL", "core", "illegal instruction"},
	{SIGTRAP, "TRAP", "core", "trace or breakpoint trap"},
	{SIGABRT, "ABRT", "core", "abort(3) was called"},
	{SIGBUS, "BUS", "core", "bus error: bad memory access"},
	{SIGFPE, "FPE", "core", "arithmetic error (division by zero)"},
	{SIGKILL, "KILL", "term", "kill: cannot be caught, blocked or ignored"},
	{SIGUSR1, "USR1", "term", "user-defined signal 1"},
	{SIGSEGV, "SEGV", "core", "invalid memory reference"},
	{SIGUSR2, "USR2", "term", "user-defined signal 2"},
	{SIGPIPE, "PIPE", "term", "write to a pipe or socket with no reader"},
	{SIGALRM, "ALRM", "term", "timer from alarm(2)"},
	{SIGTERM, "TERM", "term", "termination request (the default of kill)"},
#ifdef SIGSTKFLT
	{SIGSTKFLT, "STKFLT", "term", "stack fault on the coprocessor (unused)"},
#endif
	{SIGCHLD, "CHLD", "ign", "a child stopped or ended"},
	{SIGCONT, "CONT", "cont", "continue if stopped"},
	{SIGSTOP, "STOP", "stop", "stop: cannot be caught, blocked or ignored"},
	{SIGTSTP, "TSTP", "stop", "stop typed at the terminal (Ctrl-Z)"},
	{SIGTTIN, "TTIN", "stop", "terminal input for a background process"},
	{SIGTTOU, "TTOU", "stop", "terminal output for a background process"},
	{SIGURG, "URG", "ign", "urgent data on a socket"},
	{SIGXCPU, "XCPU", "core", "CPU time limit exceeded"},
	{SIGXFSZ, "XFSZ", "core", "file size limit exceeded"},
	{SIGVTALRM, "VTALRM", "term", "virtual (user CPU) timer expired"},
	{SIGPROF, "PROF", "term", "profiling timer expired"},
	{SIGWINCH, "WINCH", "ign", "terminal window size changed"},
	{SIGIO, "IO", "term", "I/O is possible on a descriptor"},
#ifdef SIGPWR
	{SIGPWR, "PWR", "term", "power failure"},
#endif
	{SIGSYS, "SYS", "core", "bad system call"},
};

/* Other names kill(1) accepts for the same numbers. */
static const struct { const char *name; int num; } sigaliases[] = {
	{"IOT", SIGABRT}, {"CLD", SIGCHLD}, {"POLL", SIGIO},
};

#define NDEFS (sizeof(sigdefs) / sizeof(sigdefs[0]))

static const struct sigdef *sigdef_of(int sig)
{
	for (size_t i = 0; i < NDEFS; i++)
		if (sigdefs[i].num == sig)
			return &sigdefs[i];
	return NULL;
}

/* A whole decimal number in s, or -1. */
static int small_num(const char *s)
{
	int v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s) || v > 1000)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/* "RTMIN", "RTMIN+3", "RTMAX", "RTMAX-2" (s without "SIG", any case). */
static int rt_lookup(const char *s)
{
	int base, dir;
	if (!strncasecmp(s, "RTMIN", 5))
		base = SIGRTMIN, dir = 1;
	else if (!strncasecmp(s, "RTMAX", 5))
		base = SIGRTMAX, dir = -1;
	else
		return -EINVAL;
	s += 5;
	if (!*s)
		return base;
	if (*s != (dir > 0 ? '+' : '-'))
		return -EINVAL;
	int n = small_num(s + 1);
	if (n < 0 || n > SIGRTMAX - SIGRTMIN)
		return -EINVAL;
	return base + dir * n;
}

IPCK_API int ipck_sig_lookup(const char *name)
{
	if (!name)
		return -EINVAL;
	int n = small_num(name);
	if (n >= 0)
		return n <= SIGRTMAX ? n : -EINVAL;
	const char *s = strncasecmp(name, "SIG", 3) ? name : name + 3;
	for (size_t i = 0; i < NDEFS; i++)
		if (!strcasecmp(s, sigdefs[i].name))
			return sigdefs[i].num;
	for (size_t i = 0; i < sizeof(sigaliases) / sizeof(sigaliases[0]); i++)
		if (!strcasecmp(s, sigaliases[i].name))
			return sigaliases[i].num;
	if (!strncasecmp(s, "RT", 2))
		return rt_lookup(s);
	n = s != name ? small_num(s) : -1;   /* "SIG32" */
	if (n > 0 && n < SIGRTMIN && !sigdef_of(n))
		return n;
	return -EINVAL;
}

static void rt_name(int sig, char *buf, size_t len)
{
	int lo = sig - SIGRTMIN, hi = SIGRTMAX - sig;
	if (lo == 0)
		snprintf(buf, len, "SIGRTMIN");
	else if (hi == 0)
		snprintf(buf, len, "SIGRTMAX");
	else if (lo <= (SIGRTMAX - SIGRTMIN) / 2)
		snprintf(buf, len, "SIGRTMIN+%u", (unsigned char)lo);   /* < 64 */
	else
		snprintf(buf, len, "SIGRTMAX-%u", (unsigned char)hi);
}

IPCK_API int ipck_sig_info(int sig, struct ipck_sig_info *info)
{
	if (!info || sig < 1 || sig > SIGRTMAX)
		return -EINVAL;
	const struct sigdef *d = sigdef_of(sig);
	info->number = sig;
	if (d) {
		snprintf(info->name, sizeof(info->name), "SIG%s", d->name);
		info->action = d->action;
		info->descr = d->descr;
	} else if (sig >= SIGRTMIN) {
		rt_name(sig, info->name, sizeof(info->name));
		info->action = "term";
		info->descr = "realtime signal: queued, in order, with a value";
	} else {
		snprintf(info->name, sizeof(info->name), "SIG%d", sig);
		info->action = "term";
		info->descr = "reserved by the C library for its threads";
	}
	return 0;
}

IPCK_API int ipck_sig_send(pid_t pid, int sig, int value)
{
	if (pid <= 0 || sig < 0 || sig > SIGRTMAX)
		return -EINVAL;   /* sigqueue cannot target a process group */
	union sigval v = {.sival_int = value};
	return sigqueue(pid, sig, v) < 0 ? -errno : 0;
}

/* ---- for the signal: scheme ---------------------------------------------- */

/* 1 when the thread's status file shows sig blocked, 0 when not, -errno. */
static int task_blocks(const char *tid, int sig)
{
	char path[300], buf[2048];
	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 1 : -errno;   /* gone: it takes nothing */
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return e == ESRCH ? 1 : -e;
	buf[n] = '\0';
	const char *p = strstr(buf, "\nSigBlk:");
	if (!p)
		return -EIO;
	unsigned long long mask = strtoull(p + 8, NULL, 16);
	return (mask >> (sig - 1)) & 1;
}

/* 0 when every thread but the caller blocks sig, -EBUSY when one does not. */
static int others_block(int sig)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return 0;   /* no /proc: nothing can be checked */
	char self[16];
	snprintf(self, sizeof(self), "%ld", (long)syscall(SYS_gettid));
	int r = 0;
	struct dirent *e;
	while (!r && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, self))
			continue;
		int b = task_blocks(e->d_name, sig);
		r = b < 0 ? b : b ? 0 : -EBUSY;
	}
	closedir(d);
	return r;
}

int ipck__sig_claim(int sig)
{
	struct sigaction sa;
	sigset_t set, old;
	if (sigaction(sig, NULL, &sa) < 0)
		return -errno;
	if (sa.sa_handler != SIG_DFL)
		return -EBUSY;   /* the program handles or ignores it: not ours */
	sigemptyset(&set);
	sigaddset(&set, sig);
	int e = pthread_sigmask(SIG_BLOCK, &set, &old);
	if (e)
		return -e;
	int r = others_block(sig);
	if (r && !sigismember(&old, sig))
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	return r;
}

int ipck__sig_queue(int pidfd, int sig, uint32_t tag, uintptr_t word, pid_t pid, uid_t uid)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_QUEUE;      /* what sigqueue(3) sends */
	si.si_errno = (int)tag;     /* unused by the kernel; signalfd passes it on */
	si.si_pid = pid;
	si.si_uid = uid;
	si.si_value.sival_ptr = (void *)word;
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, &si, 0) < 0)
		return -errno;
	return 0;
}
