/*
 * t_table.c - the scheme table is whole: every entry has a name, a summary,
 * the mandatory slots (open, close, pollfd), and either open-able slots
 * (send, recv, accept) or, for pair-only schemes, a pair slot; names are
 * unique and the public iterator shows the same list.
 */
#include "check.h"
#include "internal.h"

int main(void)
{
	size_t n = 0;
	for (size_t i = 0; ipck__schemes[i]; i++, n++) {
		const struct ipck_scheme *s = ipck__schemes[i];
		REQUIRE(s->info.name && *s->info.name);
		CHECK(s->info.summary && *s->info.summary);
		CHECK(s->open && s->close && s->pollfd);
		if (s->info.caps & IPCK_CAP_PAIR_ONLY)
			CHECK(s->pair != NULL);
		else
			CHECK(s->accept && s->send && s->recv && s->unlink);
		if (s->info.caps & IPCK_CAP_NAMED)
			CHECK(s->unlink != NULL);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(ipck__schemes[j]->info.name, s->info.name) != 0);
		CHECK(ipck_scheme_at(i) == &s->info);
		CHECK(ipck__scheme_find(s->info.name, strlen(s->info.name)) == s);
		if (check_failures)
			fprintf(stderr, "scheme %s\n", s->info.name);
	}
	CHECK(n >= 2);
	CHECK(ipck_scheme_at(n) == NULL);
	check_exit();
}
