/*
 * crash.c - crash points for the peer-death tests.  IPCK_CRASH_POINT("site")
 * (internal.h) is nothing in a normal build; in a library built with
 * -DIPCK_CRASH_POINTS (mk/crash.mk: $(B)/crash/libipckit.a, linked only by
 * tests/t_peerdeath) it counts the passes of each named site and, at the
 * n-th pass of the site named by IPCK_CRASH_AT=site:n, SIGKILLs the process.
 * IPCK_CRASH_FD=N: first write the CLOCK_MONOTONIC time of death (8 bytes)
 * to descriptor N, for the survivor's detection time.
 *
 * The variable is read once per process: a forked child reads it again at
 * its first pass, so a test can set it in the child it means to kill.
 */
#include "internal.h"

#ifdef IPCK_CRASH_POINTS
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_int crash_pid;          /* the process the settings below are for */
static char crash_site[32];
static long crash_at;                 /* 0: no crash */
static int crash_fd = -1;
static atomic_long crash_passes;

static void crash_read(void)
{
	const char *e = getenv("IPCK_CRASH_AT"), *fd = getenv("IPCK_CRASH_FD");
	const char *colon = e ? strrchr(e, ':') : NULL;
	crash_at = 0;
	crash_fd = fd ? atoi(fd) : -1;
	atomic_store(&crash_passes, 0);
	if (!colon || (size_t)(colon - e) >= sizeof(crash_site))
		return;
	memcpy(crash_site, e, (size_t)(colon - e));
	crash_site[colon - e] = '\0';
	crash_at = atol(colon + 1);
}

void ipck__crash_point(const char *site)
{
	int pid = (int)getpid();
	if (atomic_load(&crash_pid) != pid) {
		crash_read();
		atomic_store(&crash_pid, pid);
	}
	if (crash_at <= 0 || strcmp(site, crash_site) || atomic_fetch_add(&crash_passes, 1) + 1 != crash_at)
		return;
	int64_t now = ipck__now_ns();
	if (crash_fd >= 0 && write(crash_fd, &now, sizeof(now)) != sizeof(now))
		now = 0;
	kill(getpid(), SIGKILL);
	for (;;)
		pause();
}
#else
typedef int ipck__no_crash_points;   /* an empty file is not C */
#endif
