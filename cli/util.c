/* util.c - helpers shared by the subcommands: messages, numbers, JSON. */
#include "cli.h"
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_err(int err, const char *what, ...)
{
	va_list ap;
	va_start(ap, what);
	fprintf(stderr, "%s: ", cli_prog);
	vfprintf(stderr, what, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s (%s)", ipck_errname(err), ipck_strerror(err));
	fputc('\n', stderr);
	return 1;
}

int cli_open_err(int err, const char *url, bool listen)
{
	char why[160];
	if (err == -EINVAL && ipck_url_check(url, why, sizeof(why)) == -EINVAL) {
		cli_err(err, "%s: %s", url, why);
		return 2;
	}
	if (err == -EINVAL) {
		cli_err(err, "%s: bad URL or option", url);
		return 2;
	}
	const char *hint = "";
	if (!listen && (err == -ECONNREFUSED || err == -ENOENT))
		hint = "; nobody listens there: start a listener first ('ipckit recv -l URL')";
	if (listen && err == -EADDRINUSE)
		hint = "; if it is left over, 'ipckit ls --stale' shows it and 'ipckit rm URL' removes it";
	fprintf(stderr, "%s: %s: %s: %s (%s)%s\n", cli_prog, url, listen ? "listen" : "connect",
		ipck_errname(err), ipck_strerror(err), hint);
	return 1;
}

int cli_usage(const char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	fprintf(stderr, "%s: ", cli_prog);
	vfprintf(stderr, msg, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", cli_prog);
	return 2;
}

bool cli_int(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	if (!s || !*s)
		return false;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

void cli_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

bool cli_is_help(const char *arg)
{
	return arg && (!strcmp(arg, "-h") || !strcmp(arg, "--help"));
}
