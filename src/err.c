/*
 * err.c - names and texts of the negative errno values libipckit returns.
 * strerrordesc_np and strerrorname_np (glibc 2.32+) are thread-safe and
 * never write into a shared buffer.
 */
#include "internal.h"
#include <stdio.h>
#include <limits.h>
#include <string.h>

/* EPIPE for -EPIPE or EPIPE; INT_MIN, which has no positive, stays unknown. */
static int err_num(int err)
{
	return err < 0 && err != INT_MIN ? -err : err;
}

IPCK_API const char *ipck_strerror(int err)
{
	const char *s = strerrordesc_np(err_num(err));
	return s ? s : "Unknown error";
}

IPCK_API const char *ipck_errname(int err)
{
	const char *s = strerrorname_np(err_num(err));
	return s ? s : "E?";
}

IPCK_API const char *ipck_version(void)
{
	return IPCKIT_VERSION_STRING;
}
