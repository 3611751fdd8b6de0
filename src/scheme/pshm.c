/*
 * pshm.c - "pshm:/name": a ring in POSIX shared memory (shm_open + mmap),
 * futex waits.  The listener creates /dev/shm/name (0600, O_EXCL,
 * O_NOFOLLOW) as its rendezvous object and removes it on close; each
 * connection gets a segment of its own, named "/name.<nonce>" only for the
 * moment between shm_open and shm_unlink, then passed over the rendezvous
 * socket (ringconn.c).  ipck_pair("pshm:") makes one sealed memfd instead.
 * Trap: a POSIX segment can be truncated by whoever can write it, and a page
 * beyond the end then raises SIGBUS; sizes are checked with fstat first.
 */
#include "../ring.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int pshm_parse(struct ipck_url *u)
{
	uint64_t cap;
	if (!u->addr[0])   /* "pshm:" for ipck_pair */
		return ipck__ring_cap(u, &cap);
	return ipck__ringconn_parse(u);
}

int ipck__pshm_seg(struct ipck_shm *s, const struct ipck_url *u, size_t size, uint64_t nonce)
{
	ipck__shm_init(s);
	s->kind = SHM_POSIX;
	int n = snprintf(s->name, sizeof(s->name), "%s.%016llx", u->addr, (unsigned long long)nonce);
	if (n > NAME_MAX)
		snprintf(s->name, sizeof(s->name), "/ipckit.%016llx", (unsigned long long)nonce);
	int e = ipck__shm_create(s, size, u->mode);
	if (!e)
		e = ipck__shm_unlink(s);
	if (e)
		ipck__shm_close(s);
	s->name[0] = '\0';
	return e;
}

const struct ipck_scheme ipck__scheme_pshm = {
	.info = {"pshm", "a ring in POSIX shared memory, futex waits (zero-copy)", IPCK_CAP_NAMED},
	.parse = pshm_parse,
	.pair = ipck__ringconn_pair,
	RING_SLOTS,
};
