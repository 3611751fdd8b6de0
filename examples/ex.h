/*
 * ex.h - the few helpers every raw example shares; read this once, then the
 * examples read as straight-line system calls (TLPI keeps tlpi_hdr.h for the
 * same reason).  No libipckit here: the programs beside it show the kernel
 * interface itself.
 *
 *   step(fmt, ...)    print "step: <system call about to happen>" on stdout;
 *                     `ipckit demo` relays these lines
 *   die(call)         "<prog>: <call>: ENAME (text)" on stderr, exit 1
 *   fail(fmt, ...)    "<prog>: <message>" on stderr, exit 1 (no errno)
 *   ex_init(argv)     name the program, make stdout line-buffered so lines
 *                     from two processes interleave in order through a pipe or socket
 *   ex_deadline(s)    SIGALRM after s seconds, Ctrl-C (SIGINT) or SIGTERM
 *                     interrupt a blocking call (EINTR): a lost peer or an
 *                     impatient user ends the wait, die() says which, and
 *                     the exit handlers still remove the objects
 *   ex_key(arg, def)  a System V key: a number ("0x1234"), or ftok(path, 'x')
 *   ex_retry(&tries)  after a failed lookup: 1 if errno says "the peer has
 *                     not made it yet" (ENOENT, ECONNREFUSED), after 10 ms;
 *                     0 once 10 s have gone, when interrupted (errno EINTR),
 *                     or for any other error
 *   ex_show(who, buf, n)  print bytes on one line, newlines as \n
 *   ex_write_all(fd, buf, n)  write(2) until all n bytes are out: on a pipe
 *                     or a stream socket a write may take fewer
 *   ex_read_all(fd, buf, cap) read(2) until end of file (or cap bytes)
 *   ex_wait_child(pid) waitpid, and fail unless the child exited 0
 *
 * Exit handlers (atexit) remove what a program created, so die() leaves
 * nothing behind either.
 */
#ifndef EX_H
#define EX_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *ex_prog = "example";
static volatile sig_atomic_t ex_stop;   /* the signal that ends the waits */

/* "EPIPE" for EPIPE: glibc knows the names since 2.32. */
static inline const char *ex_ename(int e)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
	const char *n = strerrorname_np(e);
	if (n)
		return n;
#endif
	static char buf[16];
	snprintf(buf, sizeof(buf), "E?%d", e);
	return buf;
}

static inline void ex_init(char **argv)
{
	const char *slash = strrchr(argv[0], '/');
	ex_prog = slash ? slash + 1 : argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
}

__attribute__((format(printf, 1, 2)))
static inline void step(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("step: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
}

__attribute__((noreturn))
static inline void die(const char *call)
{
	int e = errno;
	alarm(0);   /* no signal while the exit handlers run */
	if (e == EINTR && ex_stop == SIGALRM)
		fprintf(stderr, "%s: %s: timed out waiting for the peer\n", ex_prog, call);
	else if (e == EINTR && ex_stop)
		fprintf(stderr, "%s: %s: interrupted (%s)\n", ex_prog, call, strsignal(ex_stop));
	else
		fprintf(stderr, "%s: %s: %s (%s)\n", ex_prog, call, ex_ename(e), strerror(e));
	exit(1);
}

__attribute__((noreturn, format(printf, 1, 2)))
static inline void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", ex_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/*
 * A stop signal that lands just before a blocking call starts cannot
 * interrupt it; the alarm it sets interrupts that call a second later.
 */
static void ex_on_stop(int sig)
{
	if (!ex_stop)
		ex_stop = sig;
	if (sig != SIGALRM)
		alarm(1);
}

/* No SA_RESTART: the blocked call returns -1 with errno EINTR. */
static inline void ex_deadline(unsigned seconds)
{
	struct sigaction sa = {.sa_handler = ex_on_stop};
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) == -1 || sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction");
	alarm(seconds);
}

static inline key_t ex_key(const char *arg, key_t def)
{
	if (!arg)
		return def;
	if (arg[0] == '/' || arg[0] == '.') {
		key_t k = ftok(arg, 'x');   /* the file must exist */
		if (k == -1)
			die("ftok");
		return k;
	}
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 0);
	if (errno || end == arg || *end || v <= 0 || v > 0x7fffffff)
		fail("'%s' is neither a positive key nor a path", arg);
	return (key_t)v;
}

static inline int ex_retry(int *tries)
{
	int e = errno;
	if ((e != ENOENT && e != ECONNREFUSED) || ++*tries > 1000)
		return 0;
	if (nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL) == -1)
		return 0;   /* EINTR: the deadline or Ctrl-C */
	errno = e;
	return 1;
}

static inline void ex_show(const char *who, const char *buf, size_t n)
{
	printf("%s: read %zu bytes \"", who, n);
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n')
			fputs("\\n", stdout);
		else
			putchar(buf[i]);
	}
	printf("\"\n");
}

static inline void ex_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n == -1 && errno == EINTR && !ex_stop)
			continue;
		if (n == -1)
			die("write");
		p += n;
		len -= (size_t)n;
	}
}

static inline size_t ex_read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n == 0)
			break;
		if (n == -1)
			die("read");   /* EINTR here is a deadline */
		got += (size_t)n;
	}
	return got;
}

static inline void ex_wait_child(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) == -1)
		die("waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("child %d failed (wait status 0x%x)", (int)pid, st);
}

#endif
