/*
 * url.c - parse "scheme:address[?option=value&...]" into struct ipck_url.
 *
 * Nothing is touched here: a bad URL fails with -EINVAL before any kernel
 * object is created or opened.  Every option is known to this one table; a
 * scheme names the options it accepts (struct ipck_scheme.opts), and an
 * option it does not accept is as wrong as an unknown one.  Each refusal
 * leaves its reason in u->why, which ipck_url_check hands to the user.
 */
#include "internal.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ipck__url_bad(struct ipck_url *u, const char *f, ...)
{
	if (!u->why[0]) {
		va_list ap;
		va_start(ap, f);
		vsnprintf(u->why, sizeof(u->why), f, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Parse an unsigned decimal, 0x hex or 0 octal number, all of s, <= max. */
static int parse_num(const char *s, size_t n, unsigned long long max,
		     unsigned long long *out)
{
	char tmp[32], *end;

	if (n == 0 || n >= sizeof(tmp) || s[0] == '-' || s[0] == '+' || s[0] == ' ')
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	unsigned long long v = strtoull(tmp, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_bool(const char *v, size_t n, bool *out)
{
	if (n == 1 && (v[0] == '0' || v[0] == '1')) {
		*out = v[0] == '1';
		return 0;
	}
	return -EINVAL;
}

/* A signal by name or number, "SIGRTMIN+4" or "38" (ipck_sig_lookup). */
static int parse_sig(const char *v, size_t n, int *out)
{
	char tmp[32];
	if (n == 0 || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	int s = ipck_sig_lookup(tmp);
	if (s <= 0)
		return -EINVAL;
	*out = s;
	return 0;
}

static int option_value(struct ipck_url *u, unsigned bit, const char *v, size_t vn);

static int set_option(struct ipck_url *u, const char *k, size_t kn, const char *v, size_t vn)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{"mode", OPT_MODE}, {"peer_uid", OPT_PEER_UID}, {"raw", OPT_RAW},
		{"maxmsg", OPT_MAXMSG}, {"msgsize", OPT_MSGSIZE}, {"timeout", OPT_TIMEOUT},
		{"capacity", OPT_CAPACITY}, {"spin_us", OPT_SPIN_US}, {"mpmc", OPT_MPMC},
		{"mailbox", OPT_MAILBOX}, {"broadcast", OPT_BROADCAST}, {"drop", OPT_DROP},
		{"from", OPT_FROM}, {"keep", OPT_KEEP}, {"priority", OPT_PRIORITY},
		{"sig", OPT_SIG},
		{"poll_ms", OPT_POLL_MS},
	};
	unsigned bit = 0;
	int kl = kn > 32 ? 32 : (int)kn, vl = vn > 32 ? 32 : (int)vn;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == kn && !memcmp(names[i].name, k, kn))
			bit = names[i].bit;
	if (!bit)
		return ipck__url_bad(u, "unknown option '%.*s'", kl, k);
	if (!(u->sc->opts & bit))
		return ipck__url_bad(u, "option '%.*s' does not apply to scheme %s", kl, k, u->sc->info.name);
	if (u->set & bit)
		return ipck__url_bad(u, "option '%.*s' given twice", kl, k);
	u->set |= bit;
	if (option_value(u, bit, v, vn))
		return ipck__url_bad(u, "option '%.*s': bad value '%.*s'", kl, k, vl, v);
	return 0;
}

/* The value of a known option: 0, or -EINVAL. */
static int option_value(struct ipck_url *u, unsigned bit, const char *v, size_t vn)
{
	unsigned long long x = 0;

	switch (bit) {
	case OPT_MODE:
		if (parse_num(v, vn, 07777, &x) || (vn && v[0] != '0'))
			return -EINVAL;   /* octal, as chmod: "0660" */
		u->mode = (unsigned)x;
		return 0;
	case OPT_PEER_UID:
		if (parse_num(v, vn, 0xfffffffeu, &x))
			return -EINVAL;
		u->peer_uid = (long long)x;
		return 0;
	case OPT_RAW:       return parse_bool(v, vn, &u->raw);
	case OPT_MPMC:      return parse_bool(v, vn, &u->mpmc);
	case OPT_MAILBOX:   return parse_bool(v, vn, &u->mailbox);
	case OPT_BROADCAST: return parse_bool(v, vn, &u->broadcast);
	case OPT_KEEP:      return parse_bool(v, vn, &u->keep);
	case OPT_DROP:
		if (vn == 6 && !memcmp(v, "oldest", 6)) { u->drop_oldest = true; return 0; }
		if (vn == 4 && !memcmp(v, "wait", 4)) { u->drop_oldest = false; return 0; }
		return -EINVAL;
	case OPT_FROM:
		if (vn == 5 && !memcmp(v, "start", 5)) { u->from_start = true; return 0; }
		if (vn == 5 && !memcmp(v, "saved", 5)) { u->from_start = false; return 0; }
		return -EINVAL;
	case OPT_SIG:
		return parse_sig(v, vn, &u->sig);
	default:
		break;
	}
	if (parse_num(v, vn, INT32_MAX, &x))
		return -EINVAL;
	switch (bit) {
	case OPT_MAXMSG:   if (!x) return -EINVAL; u->maxmsg = (long)x; break;
	case OPT_MSGSIZE:  if (!x) return -EINVAL; u->msgsize = (long)x; break;
	case OPT_TIMEOUT:  u->timeout_ms = (int)x; break;
	case OPT_CAPACITY: u->capacity = (size_t)x; break;
	case OPT_SPIN_US:  u->spin_us = (unsigned)x; break;
	case OPT_PRIORITY: u->priority = (unsigned)x; break;
	case OPT_POLL_MS:  if (!x || x > 60000) return -EINVAL; u->poll_ms = (unsigned)x; break;
	}
	return 0;
}

static int parse_query(struct ipck_url *u, const char *q)
{
	while (*q) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', n);
		if (!eq || eq == q)
			return ipck__url_bad(u, "option '%.*s' has no name=value form", n > 32 ? 32 : (int)n, q);
		int r = set_option(u, q, (size_t)(eq - q), eq + 1, n - (size_t)(eq - q) - 1);
		if (r)
			return r;
		if (!amp)
			break;
		q = amp + 1;
		if (!*q)
			return ipck__url_bad(u, "a '&' ends the query");
	}
	return 0;
}

/* Where a scheme's address form is told, for the reason of a bad one. */
static const char *man_page(const char *scheme)
{
	static const char *const pages[][2] = {
		{"fifo", "queues"}, {"pmsg", "queues"}, {"svmsg", "queues"},
		{"signal", "signal"}, {"file", "file"},
		{"pshm", "shm"}, {"svshm", "shm"}, {"mmap", "shm"},
	};
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		if (!strcmp(pages[i][0], scheme))
			return pages[i][1];
	return "sockets";
}

static int parse_scheme(const char *url, struct ipck_url *u, const char **addr)
{
	const char *colon = strchr(url, ':');
	if (!colon || colon == url)
		return ipck__url_bad(u, "no scheme: a URL is scheme:address ('ipckit --help' lists the schemes)");
	u->sc = ipck__scheme_find(url, (size_t)(colon - url));
	if (!u->sc)
		return ipck__url_bad(u, "unknown scheme '%.*s' ('ipckit --help' lists them)",
			   colon - url > 32 ? 32 : (int)(colon - url), url);
	*addr = colon + 1;
	return 0;
}

int ipck__url_parse(const char *url, struct ipck_url *u)
{
	if (!url || !u)
		return -EINVAL;
	memset(u, 0, sizeof(*u));
	u->mode = 0600;
	u->peer_uid = -1;
	u->timeout_ms = 5000;
	u->priority = 0;

	const char *addr = NULL;
	if (parse_scheme(url, u, &addr))
		return -EINVAL;
	const char *q = strchr(addr, '?');
	size_t n = q ? (size_t)(q - addr) : strlen(addr);
	if (n >= sizeof(u->addr))
		return ipck__url_bad(u, "address longer than %zu bytes", sizeof(u->addr) - 1);
	memcpy(u->addr, addr, n);
	u->addr[n] = '\0';
	if (q) {
		if (!q[1])
			return ipck__url_bad(u, "a '?' with no option after it");
		int r = parse_query(u, q + 1);
		if (r)
			return r;
	}
	if (u->sc->parse && u->sc->parse(u))
		return ipck__url_bad(u, "bad address or options for %s: (see 'man 7 ipckit-%s')",
			   u->sc->info.name, man_page(u->sc->info.name));
	return 0;
}

IPCK_API int ipck_url_check(const char *url, char *why, size_t len)
{
	struct ipck_url u;
	int r = url ? ipck__url_parse(url, &u) : -EINVAL;
	if (why && len)
		snprintf(why, len, "%s", r ? (url ? u.why : "no URL") : "");
	return r;
}
