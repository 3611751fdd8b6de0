/*
 * fuzz_url.c - the URL parser (ipck__url_parse and each scheme's parse slot)
 * on arbitrary bytes.  Promises checked: it never crashes or reads past the
 * string; it fails only with -EINVAL; on success the scheme is one of the
 * table, the name before ':' is that scheme's, the address is a terminated
 * string shorter than PATH_MAX without '?', only options the scheme accepts
 * are set, and a second parse of the same string gives the same result.
 */
#include "fuzz.h"
#include "internal.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void url_check_ok(const char *s, const struct ipck_url *u)
{
	bool known = false;
	for (size_t i = 0; ipck__schemes[i]; i++)
		known |= ipck__schemes[i] == u->sc;
	FUZZ_CHECK(known);
	size_t nl = strlen(u->sc->info.name);
	FUZZ_CHECK(!strncmp(s, u->sc->info.name, nl) && s[nl] == ':');
	size_t an = strnlen(u->addr, sizeof(u->addr));
	FUZZ_CHECK(an < sizeof(u->addr));
	FUZZ_CHECK(!memchr(u->addr, '?', an));
	FUZZ_CHECK(!strncmp(s + nl + 1, u->addr, an));
	FUZZ_EQ(u->set & ~u->sc->opts, 0);
	FUZZ_CHECK(u->mode <= 07777);
	FUZZ_CHECK(u->timeout_ms >= 0);
	FUZZ_CHECK(u->peer_uid >= -1 && u->peer_uid < 0xffffffffLL);
	FUZZ_CHECK(!(u->set & OPT_MAXMSG) || u->maxmsg > 0);
	FUZZ_CHECK(!(u->set & OPT_MSGSIZE) || u->msgsize > 0);
}

int fuzz_url(const uint8_t *data, size_t n)
{
	char *s = malloc(n + 1);
	struct ipck_url *u = malloc(2 * sizeof(*u));
	if (!s || !u)
		abort();
	memcpy(s, data, n);
	s[n] = '\0';
	int r = ipck__url_parse(s, &u[0]);
	if (r == 0) {
		url_check_ok(s, &u[0]);
		FUZZ_EQ(ipck__url_parse(s, &u[1]), 0);
		FUZZ_CHECK(!memcmp(&u[0], &u[1], sizeof(*u)));
	} else {
		FUZZ_EQ(r, -EINVAL);
	}
	free(u);
	free(s);
	return 0;
}
