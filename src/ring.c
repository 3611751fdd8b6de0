/*
 * ring.c - the shared-memory ring: layout checks, reserve/commit on the
 * writer, peek/release on the reader, and send/recv as thin wrappers.
 * The layout is described in ring.h, the waiting in wait.c.
 *
 * One writer and one reader per ring (SPSC): each keeps its own position
 * privately and only publishes it; neither ever reads back its own published
 * position.  The writer learns the reader's position (cons) only when its
 * cached copy says the ring is full; the reader learns about new records
 * from the record header itself, whose tag is tied to the position, and
 * reads the writer's position (prod) only on its slow path, to tell "not
 * yet" from "broken".  So the hot path touches the data lines and nothing
 * else, and costs no system call while both sides are busy.
 *
 * MPMC rings (?mpmc=1) take a lock per end instead (a dead holder cannot
 * keep it, see wait.c) and read both positions under it.
 */
#include "ring.h"
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef RX_CHUNK
#define RX_CHUNK 16384u   /* the most a streaming reader waits to be behind */
#endif
#define RX_GAP   32       /* pauses between its looks at prod */
#define RX_LOOKS 16       /* and how many it takes at most */

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#ifdef RING_STATS
#include <stdio.h>
#include <stdlib.h>
unsigned long ipck__rst[ST_N];
static void rst_print(void)
{
	static const char *n[ST_N] = {"txslow", "txfull", "txwait", "sleep", "wake", "pad", "early",
				      "rxnotyet", "rxwait", "rxpoll", "yield", "rxslowpeek", "rxrefill", "rxdistK", "rxlooks"};
	fprintf(stderr, "[%d]", (int)getpid());
	for (int i = 0; i < ST_N; i++)
		fprintf(stderr, " %s=%lu", n[i], ipck__rst[i]);
	fprintf(stderr, "\n");
	memset(ipck__rst, 0, sizeof(ipck__rst));
}
#endif

int ipck__ring_fail(ipck_chan *ch, int e)
{
	if (!ch->err)
		ch->err = e;
	return ch->err;
}

size_t ipck__ring_size(uint64_t cap, bool mpmc)
{
	return RING_HDR_SIZE + (mpmc ? 1 : 2) * cap;
}

int ipck__ring_cap(const struct ipck_url *u, uint64_t *cap)
{
	uint64_t c = (u->set & OPT_CAPACITY) ? u->capacity : RING_CAP_DEF;
	if (c < RING_CAP_MIN || c > RING_CAP_MAX || (c & (c - 1)))
		return -EINVAL;
	*cap = c;
	return 0;
}

void ipck__ring_format(struct ring_hdr *h, uint64_t cap, size_t size, uint32_t flags, int semid)
{
	h->version = RING_VERSION;
	h->hdr_size = RING_HDR_SIZE;
	h->flags = flags;
	h->cap = cap;
	h->size = size;
	h->owner = getpid();
	h->semid = semid;
	/* Release: every field above before the magic that says "ready". */
	__atomic_store_n(&h->magic, RING_MAGIC, __ATOMIC_RELEASE);
}

int ipck__ring_check(const struct ring_hdr *h, size_t map_size, uint32_t flags)
{
	if (map_size < RING_HDR_SIZE)
		return -EPROTO;
	/* Acquire: pairs with the release of the magic in ipck__ring_format. */
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != RING_MAGIC)
		return -EPROTO;
	uint32_t ver = h->version, hs = h->hdr_size, fl = h->flags;
	uint64_t cap = h->cap, size = h->size;
	if (ver != RING_VERSION || hs != RING_HDR_SIZE || fl != flags)
		return -EPROTO;
	if (cap < RING_CAP_MIN || cap > RING_CAP_MAX || (cap & (cap - 1)))
		return -EPROTO;
	size_t want = (fl & RING_CTL) ? RING_HDR_SIZE : ipck__ring_size(cap, fl & RING_MPMC);
	return size == want && size <= map_size ? 0 : -EPROTO;
}

int ipck__ring_attach(ipck_chan *ch, int me)
{
	struct ring *r = ipck__priv(ch);
	struct ring_hdr *h = r->seg.p;
	uint32_t fl = h->flags;   /* read once each: these copies are what we use */
	uint64_t cap = h->cap;

	if (fl & ~RING_MPMC || ipck__ring_check(h, r->seg.size, fl))
		return -EPROTO;
	if (cap < RING_CAP_MIN || cap > RING_CAP_MAX || (cap & (cap - 1)) ||
	    ipck__ring_size(cap, fl & RING_MPMC) > r->seg.size)
		return -EPROTO;   /* the peer changed it under the check */
	unsigned char *base = (unsigned char *)h + RING_HDR_SIZE;
	r->h = h;
	r->cap = cap;
	r->mask = cap - 1;
	r->me = me;
	r->mpmc = fl & RING_MPMC;
	r->txd = &h->dir[r->mpmc ? 0 : me];
	r->rxd = &h->dir[r->mpmc ? 0 : !me];
	r->tx = base + (r->mpmc ? 0 : (uint64_t)me * cap);
	r->rx = base + (r->mpmc ? 0 : (uint64_t)!me * cap);
	r->prod = r->cons_seen = r->cons = 0;
	r->edge = RING_HOT < cap ? RING_HOT : UINT64_MAX;
	static _Atomic uint32_t never;   /* MPMC: nobody's closing counts */
	r->peer_closed = r->mpmc ? &never : &h->side[!me].closed;
	r->tx_rd = r->mpmc ? 0 : 2u * (unsigned)me;     /* wait words: see tx_dir */
	r->rx_wr = r->mpmc ? 1 : 2u * (unsigned)!me + 1;
	ch->max_msg = cap - REC_HDR;
	r->chunk = cap / 8 < RX_CHUNK ? cap / 8 : RX_CHUNK;
	r->rlim = 0;
	unsigned sp = (ch->url.set & OPT_SPIN_US) ? ch->url.spin_us : 50;
	r->spin_ns = (int64_t)sp * 1000;
	return 0;
}

/* Take side r->me for this process: its pid, and the barrier it uses. */
int ipck__ring_claim(ipck_chan *ch)
{
	struct ring *r = ipck__priv(ch);
	r->claimed = true;
	r->fast = !r->mpmc;
	ipck__ring_light_init(r);
	if (r->mpmc)
		return 0;
	struct ring_side *s = &r->h->side[r->me];
	atomic_store_explicit(&s->light, r->light, memory_order_relaxed);
	atomic_store_explicit(&s->pid, (int32_t)getpid(), memory_order_release);
	return 0;
}

/*
 * Wait words for ring_waitops: 2 * dir for the reader of a direction,
 * 2 * dir + 1 for its writer.  We write direction tx_dir, read rx_dir.
 */
static inline unsigned tx_dir(const struct ring *r) { return r->mpmc ? 0 : (unsigned)r->me; }
static inline unsigned rx_dir(const struct ring *r) { return r->mpmc ? 0 : (unsigned)!r->me; }

static inline bool peer_closed(const struct ring *r)
{
	/* Acquire: pairs with the release in ipck__ring_bye, so the records
	 * the peer committed before closing are visible after this. */
	return atomic_load_explicit(r->peer_closed, memory_order_acquire);
}

/* ---- writer ----------------------------------------------------------------- */

/*
 * Is there room for need more bytes?  1 yes, 0 no, or -EPROTO.  The reader's
 * position is read only when the cached one says no.
 */
static int tx_room(ipck_chan *ch, uint64_t need)
{
	struct ring *r = ipck__priv(ch);
	if (likely(r->prod + need - r->cons_seen <= r->cap))
		return 1;
	RSTAT(ST_TXSLOW);
	/* Acquire: the reader's loads of the bytes before c are done before
	 * we overwrite them (pairs with the reader's release of cons). */
	uint64_t c = atomic_load_explicit(&r->txd->cons, memory_order_acquire);
	if (c - r->cons_seen > r->prod - r->cons_seen || (c & 7))
		return ipck__ring_fail(ch, -EPROTO);   /* went back, or past what we wrote */
	r->cons_seen = c;
	if (r->prod + need - c > r->cap)
		RSTAT(ST_TXFULL);
	return r->prod + need - c <= r->cap;
}

/*
 * A full ring: is there room now?  While spinning, look at the reader's
 * position only now and then: each look takes its cache line away from the
 * reader, whose next store of cons must then fetch it back.  Spaced out,
 * the reader publishes many positions in a row and we find room for many
 * records at each look.
 */
static bool tx_ready(ipck_chan *ch, bool thorough)
{
	struct ring *r = ipck__priv(ch);
	for (int i = 0; !thorough && i < 16; i++)
		cpu_relax();
	return tx_room(ch, r->resv) != 0 || peer_closed(r);
}

/* Wait until need bytes are free at r->prod. */
static int tx_wait(ipck_chan *ch, uint64_t need, int timeout_ms)
{
	struct ring *r = ipck__priv(ch);
	int e = tx_room(ch, need);
	if (likely(e == 1))
		return 0;
	if (e < 0)
		return e;
	r->resv = (uint32_t)need;   /* what tx_ready waits for */
	RSTAT(ST_TXWAIT);
	e = ipck__ring_wait(ch, tx_ready, &r->txd->wr_wait, 2 * tx_dir(r) + 1, timeout_ms);
	r->resv = 0;
	if (e)
		return e;
	if (ch->err)
		return ch->err;
	return peer_closed(r) ? -EPIPE : 0;
}

/*
 * A record would cross r->edge: once a lap, at RING_HOT, see whether we
 * exchange messages (we waited for one since the last look) and the reader
 * has taken everything.  If so, fill the rest of the ring with a PAD now
 * and start again at 0: the few lines both sides keep using stay in their
 * first-level caches, where handing a line over costs least.  A stream
 * goes on through the whole ring (its reader stays a chunk behind).
 */
static int wrap_early(ipck_chan *ch, uint64_t need)
{
	struct ring *r = ipck__priv(ch);
	uint64_t off = r->prod & r->mask;
	bool answered = r->answered;
	if (r->prod + need <= r->edge)
		return 0;
	r->edge = r->prod - off + r->cap + RING_HOT;   /* next lap's look */
	r->answered = false;
	/* Room for a whole ring: the reader is at r->prod (cons reloaded). */
	if (answered && need <= off)
		RSTAT(ST_EARLY);
	return answered && need <= off ? tx_room(ch, r->cap) : 0;
}

static int spsc_reserve(ipck_chan *ch, size_t len, void **ptr, int timeout_ms)
{
	struct ring *r = ipck__priv(ch);
	uint64_t need = rec_size(len), off = r->prod & r->mask;

	if (unlikely(ch->eof || peer_closed(r)))
		return -EPIPE;   /* closed, or found dead by a receive */
	int e = r->cap - off < need ? 1 : wrap_early(ch, need);
	if (unlikely(e)) {
		/* Records never wrap: fill the end with a PAD record. */
		if (e < 0 || (e = tx_wait(ch, r->cap - off, timeout_ms)))
			return e;
		ring_publish(r, r->cap - off, REC_PAD);
		if (RING_HOT < r->cap)
			r->edge = r->prod + RING_HOT;
		off = 0;
	}
	e = tx_wait(ch, need, timeout_ms);
	if (e)
		return e;
	r->resv = (uint32_t)need;
	r->resv_len = (uint32_t)len;
	*ptr = r->tx + off + REC_HDR;
	return 0;
}

/* ---- reader ----------------------------------------------------------------- */

/*
 * The record at r->cons: 1 ready (*len), 0 not yet, or -EPROTO.  A PAD
 * record is skipped here and released at once: the writer may be waiting
 * for its bytes.  thorough: also read the writer's position, which must
 * agree: "not yet" while it says there are records is a broken ring.
 */
int ipck__ring_look(ipck_chan *ch, uint32_t *len, bool thorough)
{
	struct ring *r = ipck__priv(ch);
	for (;;) {
		uint64_t c = r->cons, off = c & r->mask;
		/* Acquire: the payload, written before the header, is visible now. */
		uint64_t w = atomic_load_explicit(rec_at(r->rx, off), memory_order_acquire);
		if ((uint32_t)(w >> 32) != (uint32_t)c + 1) {
			if (!thorough)
				return 0;
			/* Acquire: pairs with the release of prod in ring_publish.  prod
			 * may lag behind us by the one record whose header is stored
			 * and whose prod is not yet: that too is "not yet". */
			uint64_t p = atomic_load_explicit(&r->rxd->prod, memory_order_acquire);
			if (p == c || c - p <= r->cap)
				return 0;
			w = atomic_load_explicit(rec_at(r->rx, off), memory_order_acquire);
			if (p - c > r->cap || (uint32_t)(w >> 32) != (uint32_t)c + 1)
				return ipck__ring_fail(ch, -EPROTO);
		}
		uint32_t l = (uint32_t)w;
		if (l == REC_PAD && off == 0)
			return ipck__ring_fail(ch, -EPROTO);   /* a writer never pads a whole lap */
		if (l == REC_PAD) {
			r->cons = c + (r->cap - off);
			/* Release: we are done with the bytes before cons. */
			atomic_store_explicit(&r->rxd->cons, r->cons, memory_order_release);
			ring_kick(r, &r->rxd->wr_wait, r->rx_wr);
			continue;
		}
		if (l > r->cap - REC_HDR || off + rec_size(l) > r->cap)
			return ipck__ring_fail(ch, -EPROTO);
		*len = l;
		return 1;
	}
}

/*
 * One look for a waiting reader: 1 (*len), 0, -EPROTO.  It waits on the
 * header word itself, touching the line after it as well, so that a small
 * record's two lines travel together, at the moment it is written.
 */
static inline int rx_poll(ipck_chan *ch, uint32_t *len)
{
	struct ring *r = ipck__priv(ch);
	RSTAT(ST_RXPOLL);
	__builtin_prefetch(r->rx + ((((r->cons & r->mask) | 63) + 1) & r->mask), 0, 3);
	return ipck__ring_look(ch, len, false);
}

static bool rx_ready(ipck_chan *ch, bool thorough)
{
	uint32_t len;
	struct ring *r = ipck__priv(ch);
	if (!thorough)
		return rx_poll(ch, &len) != 0;
	return ipck__ring_look(ch, &len, true) != 0 || peer_closed(r);
}

/*
 * Slow path of the reader: nothing at a first look.  1 with *len, or
 * -ETIMEDOUT, -EPIPE once the peer is gone and everything it committed
 * has been read, -EPROTO.
 */
static int rx_await(ipck_chan *ch, uint32_t *len, int timeout_ms)
{
	struct ring *r = ipck__priv(ch);
	int e = ipck__ring_look(ch, len, true);
	if (e)
		return e;
	bool gone = ch->eof || peer_closed(r);
	if (!gone && timeout_ms == 0) {
		if (!ipck__ring_peer_gone(ch))
			return -ETIMEDOUT;
	} else if (!gone) {
		RSTAT(ST_RXWAIT);
		e = ipck__ring_wait(ch, rx_ready, &r->rxd->rd_wait, 2 * rx_dir(r), timeout_ms);
		if (ch->err)
			return ch->err;
		if (e && e != -EPIPE)
			return e;
		if (!e && (e = ipck__ring_look(ch, len, true)))
			return e;
	}
	/* Gone: what it committed before is visible now; deliver that first. */
	e = ipck__ring_look(ch, len, true);
	if (e)
		return e;
	ch->eof = true;
	return -EPIPE;
}

static int spsc_peek(ipck_chan *ch, const void **ptr, size_t *len, int timeout_ms)
{
	struct ring *r = ipck__priv(ch);
	uint32_t l;
	int e = ipck__ring_look(ch, &l, false);
	RSTAT(ST_RXSLOWPEEK);
	/* A short spin on the header first: the writer is often a record away,
	 * and the slow path reads its position and the clock. */
	for (int i = 0; unlikely(e == 0) && timeout_ms && r->spin_ns && i < 256; i++) {
		cpu_relax();
		e = rx_poll(ch, &l);
	}
	if (unlikely(e == 0))
		e = rx_await(ch, &l, timeout_ms);
	r->streak = false;
	r->answered = true;
	if (e < 0)
		return e;
	r->peek = (uint32_t)rec_size(l);
	r->peek_len = l;
	*ptr = r->rx + (r->cons & r->mask) + REC_HDR;
	*len = l;
	return 0;
}

/* ---- the slots ---------------------------------------------------------------- */

static inline int ring_use(ipck_chan *ch)
{
	struct ring *r = ipck__priv(ch);
	return likely(r->claimed) ? 0 : ipck__ring_claim(ch);
}

/*
 * The inline paths: a record that fits at r->prod at once (no wait, no PAD),
 * a plain record ready at r->cons.  Anything else takes the slow paths above.
 */
static inline unsigned char *tx_fast(ipck_chan *ch, uint64_t need)
{
	struct ring *r = ipck__priv(ch);
	uint64_t p = r->prod, off = p & r->mask;
	if (likely(r->fast && !r->resv && off + need <= r->cap && p + need <= r->edge &&
		   p + need - r->cons_seen <= r->cap &&
		   !ch->eof && !peer_closed(r)))
		return r->tx + off + REC_HDR;
	return NULL;
}

/* The length of the plain record ready at r->cons, or -1. */
#define RX_NOT_YET (-1)   /* rx_fast: no record at r->cons yet */
#define RX_SLOW    (-2)   /* rx_fast: the slow path must look (a PAD, a state) */
#define RX_LIMIT   (-3)   /* rx_fast: a streaming reader must look at prod (rx_refill) */

static inline int64_t rx_fast(struct ring *r)
{
	if (unlikely(!r->fast || r->peek || r->polling))
		return RX_SLOW;
	uint64_t c = r->cons, off = c & r->mask;
	if (r->streak && c >= r->rlim)
		return RX_LIMIT;
	/* Acquire: the payload, written before the header, is visible now. */
	uint64_t w = atomic_load_explicit(rec_at(r->rx, off), memory_order_acquire);
	uint32_t l = (uint32_t)w;   /* a PAD's length fails the bound below */
	if ((uint32_t)(w >> 32) != (uint32_t)c + 1)
		return RX_NOT_YET;
	return likely(off + REC_HDR + l <= r->cap) ? (int64_t)l : RX_SLOW;
}

/*
 * A streaming reader (its last receive did not wait) reads only the records
 * before r->rlim, the writer's position at its last look, so it never reads
 * the line the writer is filling: that would take the line away between
 * the writer's stores, and each store would have to fetch it back (two
 * sides in lockstep on one line run ten times slower than a stream).  At
 * rlim it looks at prod again and, while the writer is less than r->chunk
 * ahead and still moving, waits: a look only every RX_GAP pauses, as each
 * one takes prod's line from the writer.  A writer that stopped: what it
 * wrote.  Nothing at all: at once back to waiting on the header word (not
 * a stream any more; an answer must not wait for a look at prod).
 */
static int64_t rx_refill(struct ring *r)
{
	uint64_t c = r->cons, last = c, p = c;
	for (int i = 0; i < RX_LOOKS; i++) {
		/* Acquire: pairs with the release of prod in ring_publish. */
		p = atomic_load_explicit(&r->rxd->prod, memory_order_acquire);
		if (p - c > r->cap) {   /* behind us (lags a header), or garbage */
			p = c;
			break;
		}
		if (p - c >= r->chunk || p == c || (i && p == last))
			break;   /* far enough ahead, nothing at all (wait on the header), or stopped */
		last = p;
		RSTAT(ST_RXLOOKS);
		for (int k = 0; k < RX_GAP; k++)
			cpu_relax();
	}
	RSTAT(ST_RXREFILL);
#ifdef RING_STATS
	ipck__rst[ST_RXDIST] += (p - c) >> 10;
#endif
	r->rlim = p;
	r->streak = p != c;
	return rx_fast(r);
}

/*
 * A receiver waiting for an answer (its last receive waited too) spins
 * here a little, on the header word and the line after it (see rx_poll),
 * and takes the answer on the inline path: the round trip's own path.
 */
static inline int64_t rx_fast_wait(struct ring *r, int timeout_ms)
{
	int64_t l = RX_NOT_YET;
	for (int i = 0; l == RX_NOT_YET && timeout_ms && !r->streak && r->spin_ns && i < 256; i++) {
		__builtin_prefetch(r->rx + ((((r->cons & r->mask) | 63) + 1) & r->mask), 0, 3);
		cpu_relax();
		l = rx_fast(r);
	}
	return l;
}

int ipck__ring_reserve(ipck_chan *ch, size_t len, void **ptr, int timeout_ms)
{
	struct ring *r = ipck__priv(ch);
	uint64_t need = rec_size(len);
	unsigned char *at = tx_fast(ch, need);
	if (likely(at)) {
		r->resv = (uint32_t)need;
		r->resv_len = (uint32_t)len;
		*ptr = at;
		return 0;
	}
	if (r->cast)
		return ipck__cast_reserve(ch, len, ptr, timeout_ms);
	if (r->resv)
		return -EBUSY;
	ring_use(ch);
	return r->mpmc ? ipck__mpmc_reserve(ch, len, ptr, timeout_ms) : spsc_reserve(ch, len, ptr, timeout_ms);
}

int ipck__ring_commit(ipck_chan *ch)
{
	struct ring *r = ipck__priv(ch);
	uint32_t size = r->resv, len = r->resv_len;
	if (r->cast)
		return ipck__cast_commit(ch);
	if (!size)
		return -EINVAL;
	IPCK_CRASH_POINT("commit");
	ring_publish(r, size, len);
	r->resv = 0;
	if (r->mpmc)
		r->w->unlock(r, LOCK_PROD);
	return (int)len;
}

int ipck__ring_peek(ipck_chan *ch, const void **ptr, size_t *len, int timeout_ms)
{
	struct ring *r = ipck__priv(ch);
	int64_t l = rx_fast(r);
	int e;
	if (unlikely(l == RX_LIMIT))
		l = rx_refill(r);
	if (likely(l >= 0)) {
		r->streak = true;
		r->peek = (uint32_t)rec_size((uint64_t)l);
		r->peek_len = (uint32_t)l;
		*ptr = r->rx + (r->cons & r->mask) + REC_HDR;
		*len = (size_t)l;
		return 0;
	}
	if (r->cast)
		return ipck__cast_peek(ch, ptr, len, timeout_ms);
	if (r->peek) {   /* again before release: the same record */
		*ptr = r->rx + (r->cons & r->mask) + REC_HDR;
		*len = r->peek_len;
		return 0;
	}
	ring_use(ch);
	e = r->mpmc ? ipck__mpmc_peek(ch, ptr, len, timeout_ms) : spsc_peek(ch, ptr, len, timeout_ms);
	if (r->polling)
		ipck__ring_poll_arm(ch);
	return e;
}

int ipck__ring_release(ipck_chan *ch)
{
	struct ring *r = ipck__priv(ch);
	uint32_t size = r->peek, len = r->peek_len;
	if (r->cast)
		return ipck__cast_release(ch);
	if (!size)
		return -EINVAL;
	r->cons += size;
	r->peek = 0;
	/* Release: our reads of the record before the writer may reuse its bytes. */
	atomic_store_explicit(&r->rxd->cons, r->cons, memory_order_release);
	if (r->mpmc)
		r->w->unlock(r, LOCK_CONS);
	ring_kick(r, &r->rxd->wr_wait, r->rx_wr);
	if (r->polling)
		ipck__ring_poll_arm(ch);
	return (int)len;
}

ssize_t ipck__ring_send(ipck_chan *ch, const void *msg, size_t len, int timeout_ms)
{
	struct ring *r = ipck__priv(ch);
	uint64_t need = rec_size(len);
	void *p = tx_fast(ch, need);
	if (likely(p)) {
		IPCK_CRASH_POINT("reserve");
		memcpy(p, msg, len);
		IPCK_CRASH_POINT("commit");
		ring_publish(r, need, (uint32_t)len);
		return (ssize_t)len;
	}
	if (r->cast)
		return ipck__cast_send(ch, msg, len, timeout_ms);
	int e = ipck__ring_reserve(ch, len, &p, timeout_ms);
	if (unlikely(e))
		return e;
	IPCK_CRASH_POINT("reserve");
	memcpy(p, msg, len);
	ipck__ring_commit(ch);
	return (ssize_t)len;
}

ssize_t ipck__ring_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms)
{
	struct ring *r = ipck__priv(ch);
	int64_t l = rx_fast(r);
	if (unlikely(l == RX_LIMIT))
		l = rx_refill(r);
	bool waited = unlikely(l == RX_NOT_YET);
	if (waited)
		RSTAT(ST_RXNOTYET);
	if (waited)
		l = rx_fast_wait(r, timeout_ms);
	if (likely(l >= 0 && (size_t)l <= cap)) {
		r->streak = !waited;
		r->answered |= waited;
		memcpy(buf, r->rx + (r->cons & r->mask) + REC_HDR, (size_t)l);
		r->cons += rec_size((uint64_t)l);
		/* Release: our reads of the record before the writer may reuse it. */
		atomic_store_explicit(&r->rxd->cons, r->cons, memory_order_release);
		ring_kick(r, &r->rxd->wr_wait, r->rx_wr);
		return l;
	}
	if (r->cast)
		return ipck__cast_recv(ch, buf, cap, timeout_ms);
	const void *p;
	size_t len;
	int e = ipck__ring_peek(ch, &p, &len, timeout_ms);
	if (unlikely(e))
		return e;
	if (unlikely(len > cap)) {
		ch->next_size = (ssize_t)len;
		if (r->mpmc) {   /* do not keep the consumers' lock across calls */
			r->peek = 0;
			r->w->unlock(r, LOCK_CONS);
		}
		return -EMSGSIZE;
	}
	memcpy(buf, p, len);
	ipck__ring_release(ch);
	return (ssize_t)len;
}

/* ---- polling and closing -------------------------------------------------------- */

static void drain_bell(int sock)
{
	char b[64];
	while (sock >= 0 && recv(sock, b, sizeof(b), MSG_DONTWAIT) > 0)
		;
}

/*
 * Keep the pollset true exactly when recv would not block.  When nothing
 * is ready, flag WAIT_POLL so that the writer's next commit rings the bell
 * (the socket), after taking out the rings that woke us before.
 */
void ipck__ring_poll_arm(ipck_chan *ch)
{
	struct ring *r = ipck__priv(ch);
	_Atomic uint32_t *w = &r->rxd->rd_wait;
	uint32_t len;
	bool ready = r->peek || ch->err || ch->eof || peer_closed(r) || ipck__ring_look(ch, &len, false);
	if (!ready && !(atomic_load_explicit(w, memory_order_relaxed) & WAIT_POLL)) {
		drain_bell(r->sock);
		atomic_store_explicit(w, WAIT_POLL, memory_order_relaxed);
		/* The flag before the look below: pairs with ring_kick. */
		ipck__ring_heavy_barrier(r);
		ready = peer_closed(r) || ipck__ring_look(ch, &len, false);
	}
	ipck__poll_mark(ch, ready);
}

int ipck__ring_pollfd(const ipck_chan *cch)
{
	ipck_chan *ch = (ipck_chan *)cch;   /* the slot is const; the pollset is state */
	struct ring *r = ipck__priv(ch);
	if (r->cast)
		return ipck__cast_pollfd(ch);
	if (ch->role == ROLE_LISTENER)
		return r->lsock >= 0 ? r->lsock : -ENOTSUP;
	if (r->mpmc)
		return -ENOTSUP;   /* many readers: no one doorbell */
	ring_use(ch);
	int fd = ipck__pollset(ch, r->sock);
	if (fd < 0)
		return fd;
	r->polling = true;
	ipck__ring_poll_arm(ch);
	return fd;
}

/*
 * Say goodbye: mark this side closed after everything it published, and
 * wake the peer wherever it waits.  true when this is the last side (or the
 * peer is gone): the caller removes what the two shared.
 */
bool ipck__ring_bye(ipck_chan *ch)
{
	struct ring *r = ipck__priv(ch);
	if (r->h && r->mpmc && r->resv)
		r->w->unlock(r, LOCK_PROD);   /* what it reserved is dropped */
	if (r->h && r->mpmc && r->peek)
		r->w->unlock(r, LOCK_CONS);   /* what it peeked stays for the next */
#ifdef RING_STATS
	rst_print();
#endif
	if (!r->h || r->mpmc || !r->claimed)
		return false;   /* a pair end this process never used is not ours */
	/* Release: what we published before the flag (pairs with peer_closed). */
	atomic_store_explicit(&r->h->side[r->me].closed, 1, memory_order_release);
	ring_kick(r, &r->txd->rd_wait, r->tx_rd);
	ring_kick(r, &r->rxd->wr_wait, r->rx_wr);
	uint32_t n = atomic_fetch_add_explicit(&r->h->closers, 1, memory_order_acq_rel);
	return n >= 1 || ipck__ring_peer_gone(ch);
}
