/*
 * ringmpmc.c - many producers and consumers on one ring (?mpmc=1): the
 * bounded buffer.  Producers take the producer lock from reserve to commit,
 * consumers the consumer lock from peek to release (wait.c: a lock a dead
 * holder cannot keep), and both read the shared positions under it.  The
 * record format and the publication are the SPSC ones (ring.h).
 *
 * A producer killed between reserve and commit published nothing: the next
 * holder starts again from the published prod and overwrites its bytes.  A
 * consumer killed between peek and release released nothing: the next
 * holder reads the same record again (at-least-once for that one).
 */
#include "ring.h"
#include <errno.h>

/*
 * Load both positions and check them: 0, or -EPROTO.  cons first: both only
 * grow and cons <= prod at every instant, so prod loaded after it is never
 * behind it.  prod - cons <= cap holds only under a lock (one of them then
 * stands still); an unlocked look that sees more returns -EAGAIN: look
 * again under the lock.
 */
static int mpmc_positions(ipck_chan *ch, uint64_t *p, uint64_t *c, bool locked)
{
	struct ring *r = ipck__priv(ch);
	/* Acquire both: the releases before cons, the records before prod. */
	*c = atomic_load_explicit(&r->txd->cons, memory_order_acquire);
	*p = atomic_load_explicit(&r->txd->prod, memory_order_acquire);
	if ((*p | *c) & 7 || (locked && *p - *c > r->cap))
		return ipck__ring_fail(ch, -EPROTO);
	return *p - *c > r->cap ? -EAGAIN : 0;
}

/* Ready checks of waiting MPMC sides, without a lock: true means "look". */
static bool mpmc_room(ipck_chan *ch, bool thorough)
{
	struct ring *r = ipck__priv(ch);
	uint64_t p, c;
	(void)thorough;
	if (mpmc_positions(ch, &p, &c, false))
		return true;
	uint64_t off = p & r->mask, need = r->resv;
	if (r->cap - off < need)
		need += r->cap - off;
	return p + need - c <= r->cap;
}

static bool mpmc_data(ipck_chan *ch, bool thorough)
{
	uint64_t p, c;
	(void)thorough;
	return mpmc_positions(ch, &p, &c, false) || p != c;
}

int ipck__mpmc_reserve(ipck_chan *ch, size_t len, void **ptr, int timeout_ms)
{
	struct ring *r = ipck__priv(ch);
	uint64_t need = rec_size(len), p, c;
	deadline_t dl = ipck__deadline(timeout_ms);

	for (;;) {
		int e = r->w->lock(r, LOCK_PROD, dl);
		if (e)
			return e;
		if ((e = mpmc_positions(ch, &p, &c, true))) {
			r->w->unlock(r, LOCK_PROD);
			return e;
		}
		r->prod = p;
		r->cons_seen = c;
		uint64_t off = p & r->mask;
		if (r->cap - off < need && p + (r->cap - off) - c <= r->cap) {
			ring_publish(r, r->cap - off, REC_PAD);
			off = 0;
		}
		if (off + need <= r->cap && r->prod + need - c <= r->cap) {
			r->resv = (uint32_t)need;
			r->resv_len = (uint32_t)len;
			*ptr = r->tx + off + REC_HDR;
			return 0;   /* the lock is held until commit */
		}
		r->w->unlock(r, LOCK_PROD);
		r->resv = (uint32_t)need;
		e = ipck__ring_wait(ch, mpmc_room, &r->txd->wr_wait, 1, ipck__ms_left(dl));
		r->resv = 0;
		if (e)
			return e;
		if (ch->err)
			return ch->err;
	}
}

/* With the consumer lock held: the next record, skipping PADs. 1, 0, -EPROTO. */
static int mpmc_next(ipck_chan *ch, uint32_t *len)
{
	struct ring *r = ipck__priv(ch);
	uint64_t p, c;
	int e = mpmc_positions(ch, &p, &c, true);
	if (e)
		return e;
	r->cons = c;
	if (p == c)
		return 0;
	return ipck__ring_look(ch, len, true);
}

int ipck__mpmc_peek(ipck_chan *ch, const void **ptr, size_t *len, int timeout_ms)
{
	struct ring *r = ipck__priv(ch);
	deadline_t dl = ipck__deadline(timeout_ms);
	uint32_t l;

	for (;;) {
		int e = r->w->lock(r, LOCK_CONS, dl);
		if (e)
			return e;
		e = mpmc_next(ch, &l);
		if (e > 0) {
			r->peek = (uint32_t)rec_size(l);
			r->peek_len = l;
			*ptr = r->rx + (r->cons & r->mask) + REC_HDR;
			*len = l;
			return 0;   /* the lock is held until release */
		}
		r->w->unlock(r, LOCK_CONS);
		if (e < 0)
			return e;
		if (timeout_ms == 0)
			return -ETIMEDOUT;
		e = ipck__ring_wait(ch, mpmc_data, &r->rxd->rd_wait, 0, ipck__ms_left(dl));
		if (ch->err)
			return ch->err;
		if (e)
			return e;
	}
}
