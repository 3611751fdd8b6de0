/*
 * schemes.c - the one table of every scheme libipckit knows.  The set is
 * closed: a new mechanism is a new file in src/scheme/ and a line here.
 */
#include "internal.h"
#include <string.h>

extern const struct ipck_scheme ipck__scheme_pipe;
extern const struct ipck_scheme ipck__scheme_socketpair;
extern const struct ipck_scheme ipck__scheme_unix;
extern const struct ipck_scheme ipck__scheme_unix_seqpacket;
extern const struct ipck_scheme ipck__scheme_unix_dgram;
extern const struct ipck_scheme ipck__scheme_abstract;
extern const struct ipck_scheme ipck__scheme_tcp;
extern const struct ipck_scheme ipck__scheme_udp;
extern const struct ipck_scheme ipck__scheme_signal;
extern const struct ipck_scheme ipck__scheme_fifo;
extern const struct ipck_scheme ipck__scheme_pmsg;
extern const struct ipck_scheme ipck__scheme_svmsg;
extern const struct ipck_scheme ipck__scheme_file;
extern const struct ipck_scheme ipck__scheme_pshm;
extern const struct ipck_scheme ipck__scheme_svshm;
extern const struct ipck_scheme ipck__scheme_mmap;

const struct ipck_scheme *const ipck__schemes[] = {
	&ipck__scheme_pipe,
	&ipck__scheme_socketpair,
	&ipck__scheme_unix,
	&ipck__scheme_unix_seqpacket,
	&ipck__scheme_unix_dgram,
	&ipck__scheme_abstract,
	&ipck__scheme_tcp,
	&ipck__scheme_udp,
	&ipck__scheme_signal,
	&ipck__scheme_fifo,
	&ipck__scheme_pmsg,
	&ipck__scheme_svmsg,
	&ipck__scheme_file,
	&ipck__scheme_pshm,
	&ipck__scheme_svshm,
	&ipck__scheme_mmap,
	NULL,
};

const struct ipck_scheme *ipck__scheme_find(const char *name, size_t len)
{
	for (size_t i = 0; ipck__schemes[i]; i++)
		if (strlen(ipck__schemes[i]->info.name) == len &&
		    !memcmp(ipck__schemes[i]->info.name, name, len))
			return ipck__schemes[i];
	return NULL;
}

IPCK_API const struct ipck_scheme_info *ipck_scheme_at(size_t i)
{
	size_t n = sizeof(ipck__schemes) / sizeof(ipck__schemes[0]) - 1;
	return i < n ? &ipck__schemes[i]->info : NULL;
}
