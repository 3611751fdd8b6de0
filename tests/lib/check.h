/*
 * check.h - assertions and helpers for ipckit's test programs.
 *
 * A test is a program: exit 0 pass, 1 fail, 77 skip (a kernel limit or a
 * privilege really missing).  tests/run.sh gives it a private environment:
 *   IPCK_TEST_TAG  unique word for every object name the test makes
 *   IPCK_TEST_DIR  private directory for paths (FIFOs, sockets, files)
 *   IPCK_TEST_KEY  base of 256 System V keys the test may use
 * and fails it if anything named after the tag survives it.
 */
#ifndef IPCK_CHECK_H
#define IPCK_CHECK_H

#include "ipckit.h"
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

extern int check_failures;

#define CHECK(c) do { if (!(c)) { check_fail(__FILE__, __LINE__, "%s", #c); } } while (0)

/* Integers: prints both values, and errno names where they look like errors. */
#define CHECK_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) check_fail(__FILE__, __LINE__, "%s == %s: %lld (%s) != %lld (%s)", \
		#a, #b, a_, check_ename(a_), b_, check_ename(b_)); } while (0)

/* A call returning >= 0 or a negative errno. */
#define CHECK_OK(x) do { long long r_ = (long long)(x); \
	if (r_ < 0) check_fail(__FILE__, __LINE__, "%s failed: %s (%s)", #x, \
		ipck_errname((int)r_), ipck_strerror((int)r_)); } while (0)

/* A libc call returning -1 and setting errno. */
#define CHECK_SYS(x) do { if ((x) == -1) check_fail(__FILE__, __LINE__, "%s: %s (%s)", \
	#x, ipck_errname(errno), strerror(errno)); } while (0)

/* Fail now: the rest of the test cannot go on. */
#define REQUIRE(c) do { if (!(c)) { check_fail(__FILE__, __LINE__, "%s", #c); check_exit(); } } while (0)

void check_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *check_ename(long long v);
/* Exit with the test's verdict: 0 if nothing failed, else 1. */
void check_exit(void) __attribute__((noreturn));
void check_skip(const char *why) __attribute__((noreturn));

const char *test_tag(void);   /* "ipckt1234ab" */
const char *test_dir(void);   /* private directory */
long test_key(int n);         /* n-th System V key of the test, n < 256 */
/* snprintf into a static ring of buffers: a name valid for a while. */
const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

/* Run fn(arg) in a child process; its return value is its exit status. */
pid_t spawn(int (*fn)(void *), void *arg);
/* Wait for a child; returns its exit status, 128+signal, or -1. */
int reap(pid_t pid);
/* Fill buf with a pattern derived from seed, and check it. */
void fill_pattern(void *buf, size_t n, unsigned seed);
int check_pattern(const void *buf, size_t n, unsigned seed);
/* Milliseconds on the monotonic clock. */
long long now_ms(void);



/*
 * A URL for scheme, with names from the test's tag, directory and keys:
 * "fifo:DIR/fifo", "pmsg:/TAG", "svmsg:KEY"...  NULL for a scheme it does not
 * know (add it in tests/lib/check.c).  tcp and udp get a free port.
 */
const char *test_url(const char *scheme);

/* A test's "[SCHEME...]" arguments: is scheme among them (or none given)? */
bool scheme_wanted(const char *scheme, int argc, char **argv);
#endif
