/*
 * zerocopy.c - ipck_reserve / ipck_commit / ipck_peek / ipck_release: the
 * same checks as send and recv in chan.c, then the scheme's slot.  Only the
 * shared-memory rings fill these slots.
 */
#include "internal.h"
#include <errno.h>

static int zc_check(const ipck_chan *ch, const void *p, int timeout_ms)
{
	if (!ch || !p || timeout_ms < -1)
		return -EINVAL;
	if (ch->role == ROLE_LISTENER)
		return -ENOTCONN;
	return ch->err;
}

IPCK_API int ipck_reserve(ipck_chan *ch, size_t len, void **ptr, int timeout_ms)
{
	int r = zc_check(ch, ptr, timeout_ms);
	if (ptr)
		*ptr = NULL;
	if (r)
		return r;
	if (!ch->sc->reserve)
		return -ENOTSUP;
	if (len > ch->max_msg)
		return -EMSGSIZE;
	return ch->sc->reserve(ch, len, ptr, timeout_ms);
}

IPCK_API int ipck_commit(ipck_chan *ch)
{
	int r = zc_check(ch, ch, 0);
	if (r)
		return r;
	if (!ch->sc->commit)
		return -ENOTSUP;
	r = ch->sc->commit(ch);
	if (r < 0)
		return r;
	ch->st.sent_msgs++;
	ch->st.sent_bytes += (unsigned)r;
	return 0;
}

IPCK_API int ipck_peek(ipck_chan *ch, const void **ptr, size_t *len, int timeout_ms)
{
	int r = zc_check(ch, ptr && len ? ptr : NULL, timeout_ms);
	if (ptr)
		*ptr = NULL;
	if (len)
		*len = 0;
	if (r)
		return r;
	if (!ch->sc->peek)
		return -ENOTSUP;
	return ch->sc->peek(ch, ptr, len, timeout_ms);
}

IPCK_API int ipck_release(ipck_chan *ch)
{
	int r = zc_check(ch, ch, 0);
	if (r)
		return r;
	if (!ch->sc->release)
		return -ENOTSUP;
	r = ch->sc->release(ch);
	if (r < 0)
		return r;
	ch->next_size = -EAGAIN;
	ch->st.recv_msgs++;
	ch->st.recv_bytes += (unsigned)r;
	return 0;
}
