/*
 * ringcastconn.c - how a broadcast ring (?broadcast=1) comes to be: the
 * listener makes and formats the segment, a reader maps and checks it and
 * claims a slot, accept announces each reader, close says goodbye.  See
 * ringcast.c for the whole design.
 */
#include "ringcast.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cast_new(ipck_chan *ch, enum cast_role role)
{
	struct ring *r = ipck__priv(ch);
	struct cast *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	ipck__shm_init(&k->seg);
	k->role = role;
	k->sock = -1;
	unsigned sp = (ch->url.set & OPT_SPIN_US) ? ch->url.spin_us : 50;
	k->spin_ns = (int64_t)sp * 1000;
	ipck__ring_light_init(r);
	k->light = r->light ? ipck__self() : 0;
	r->cast = k;
	return 0;
}

static void cast_bind(ipck_chan *ch, struct cast_hdr *h, uint64_t cap)
{
	struct cast *k = cast_of(ch);
	k->h = h;
	k->ring = h->ring;
	k->cap = cap;
	k->mask = cap - 1;
	k->drop = h->flags & CAST_DROP;
	ch->max_msg = cap - CAST_REC;
}

static int cast_listen(ipck_chan *ch)
{
	struct cast *k = cast_of(ch);
	uint64_t cap;
	int e = ipck__ring_cap(&ch->url, &cap);
	if (!e)
		e = ipck__shm_url(&ch->url, &k->seg);
	if (!e)
		e = ipck__shm_create(&k->seg, cast_size(cap), ch->url.mode);
	if (e)
		return e;
	if ((e = ipck__shm_map(&k->seg))) {
		ipck__shm_remove(&k->seg);
		ipck__shm_close(&k->seg);
		return e;
	}
	struct cast_hdr *h = k->seg.p;
	h->version = CAST_VERSION;
	h->hdr_size = sizeof(*h);
	h->flags = ch->url.drop_oldest ? CAST_DROP : 0;
	h->cap = cap;
	h->size = cast_size(cap);
	h->owner = getpid();
	h->nslots = CAST_SLOTS;
	/* Release: every field above before the magic that says "ready". */
	__atomic_store_n(&h->magic, CAST_MAGIC, __ATOMIC_RELEASE);
	cast_bind(ch, h, cap);
	return 0;
}

/* A segment a listener made: everything checked before it is used. */
static int cast_check(ipck_chan *ch, uint64_t *cap)
{
	struct cast *k = cast_of(ch);
	const struct cast_hdr *h = k->seg.p;
	if (k->seg.size < sizeof(*h))
		return -EPROTO;
	/* Acquire: pairs with the release of the magic in cast_listen. */
	uint32_t magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
	if (magic == 0)
		return -EAGAIN;
	*cap = h->cap;
	if (magic != CAST_MAGIC || h->version != CAST_VERSION || h->hdr_size != sizeof(*h) ||
	    h->nslots != CAST_SLOTS || (h->flags & ~CAST_DROP))
		return -EPROTO;
	if (*cap < RING_CAP_MIN || *cap > RING_CAP_MAX || (*cap & (*cap - 1)) ||
	    h->size != cast_size(*cap) || k->seg.size < cast_size(*cap))
		return -EPROTO;
	if (!(ch->url.set & OPT_DROP) || ch->url.drop_oldest == !!(h->flags & CAST_DROP))
		return 0;
	return -EINVAL;   /* drop= given, and not the listener's */
}

static int cast_map(ipck_chan *ch, uint64_t *cap, deadline_t dl)
{
	struct cast *k = cast_of(ch);
	for (unsigned i = 0;; i++) {
		int e = ipck__shm_url(&ch->url, &k->seg);
		if (!e)
			e = ipck__shm_open(&k->seg);
		if (e == -ENOENT)
			return -ECONNREFUSED;
		if (!e)
			e = ipck__check_owner(&ch->url, k->seg.uid);
		if (!e && k->seg.size >= sizeof(struct cast_hdr))
			e = ipck__shm_map(&k->seg);
		if (!e && k->seg.p && (e = cast_check(ch, cap)) != -EAGAIN)
			return e;
		if (e && e != -EAGAIN)
			return e;
		ipck__shm_close(&k->seg);   /* being made */
		if (ipck__ms_left(dl) == 0)
			return -ECONNREFUSED;
		ipck__backoff(i, dl);
	}
}

/* The writer's position and the sequence number there, read together. */
static int read_prod(ipck_chan *ch, uint64_t *p, uint64_t *seq)
{
	struct cast *k = cast_of(ch);
	deadline_t dl = ipck__deadline(ch->url.timeout_ms);
	for (unsigned i = 0;; i++) {
		uint32_t v = atomic_load_explicit(&k->h->ver, memory_order_acquire);
		*p = atomic_load_explicit(&k->h->prod, memory_order_relaxed);
		*seq = atomic_load_explicit(&k->h->pseq, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (!(v & 1) && v == atomic_load_explicit(&k->h->ver, memory_order_relaxed))
			return *p & 7 ? -EPROTO : 0;
		if (ipck__ms_left(dl) == 0)
			return -ETIMEDOUT;   /* a writer stopped in the middle */
		if (i > 64)
			ipck__backoff(i - 64, dl);
	}
}

/*
 * Take a free slot: claim it as -pid (joining: the writer ignores it), set
 * its position, then show the pid; then read prod again and start there.
 * The writer's fence before it looks at the pids (min_cons) pairs with
 * ours: it either sees us, or wrote nothing yet that we could miss.
 */
static int cast_join(ipck_chan *ch)
{
	struct cast *k = cast_of(ch);
	int32_t me = (int32_t)getpid();
	for (unsigned i = 0; i < CAST_SLOTS; i++) {
		struct cast_slot *s = &k->h->slot[i];
		int32_t free_pid = 0;
		if (atomic_load_explicit(&s->pid, memory_order_relaxed) ||
		    !atomic_compare_exchange_strong(&s->pid, &free_pid, -me))
			continue;
		atomic_store_explicit(&s->cons, atomic_load_explicit(&k->h->prod, memory_order_acquire),
				      memory_order_relaxed);
		atomic_store_explicit(&s->pid, me, memory_order_seq_cst);
		atomic_thread_fence(memory_order_seq_cst);
		k->slot = i;
		int e = read_prod(ch, &k->cons, &k->rseq);
		if (e) {
			atomic_store_explicit(&s->pid, 0, memory_order_release);
			return e;
		}
		k->started = true;
		k->prod_seen = k->cons;
		atomic_store_explicit(&s->cons, k->cons, memory_order_release);
		atomic_fetch_add_explicit(&k->h->joins, 1, memory_order_release);
		return 0;
	}
	return -EAGAIN;   /* CAST_SLOTS readers already */
}

static int cast_connect(ipck_chan *ch)
{
	struct cast *k = cast_of(ch);
	uint64_t cap;
	int e = cast_map(ch, &cap, ipck__deadline(ch->url.timeout_ms));
	if (!e) {
		cast_bind(ch, k->seg.p, cap);
		e = ipck__watch_peer(ch, k->h->owner);
	}
	if (!e && (e = cast_join(ch)) == 0)
		ch->peer_pid = k->h->owner;
	if (e)
		ipck__shm_close(&k->seg);
	return e;
}

int ipck__cast_open(ipck_chan *ch, int flags)
{
	int e = cast_new(ch, (flags & IPCK_LISTEN) ? CAST_WRITER : CAST_READER);
	if (!e)
		e = (flags & IPCK_LISTEN) ? cast_listen(ch) : cast_connect(ch);
	if (e) {
		struct ring *r = ipck__priv(ch);
		free(r->cast);
		r->cast = NULL;
	}
	return e;
}

/* A reader that joined and was not announced yet: its slot, or -1. */
static int new_reader(struct cast *k)
{
	for (unsigned i = 0; i < CAST_SLOTS; i++) {
		int32_t pid = atomic_load_explicit(&k->h->slot[i].pid, memory_order_acquire);
		if (pid != k->told[i] && (k->told[i] = pid) > 0)
			return (int)i;
	}
	return -1;
}

int ipck__cast_accept(ipck_chan *l, ipck_chan *c, int timeout_ms)
{
	struct cast *k = cast_of(l);
	deadline_t dl = ipck__deadline(timeout_ms);
	int i;
	for (unsigned n = 0; (i = new_reader(k)) < 0; n++) {
		if (ipck__ms_left(dl) == 0)
			return -ETIMEDOUT;
		ipck__backoff(n, dl);
	}
	int e = cast_new(c, CAST_PEER);
	if (!e) {
		c->peer_pid = k->told[i];
		c->max_msg = l->max_msg;
	}
	return e;
}

int ipck__cast_close(ipck_chan *ch)
{
	struct ring *r = ipck__priv(ch);
	struct cast *k = r->cast;
	int e = 0;
	if (k->h && k->role == CAST_WRITER) {
		atomic_store_explicit(&k->h->closed, 1, memory_order_release);
		atomic_thread_fence(memory_order_seq_cst);
		ipck__cast_wake_readers(k);
		e = ipck__shm_remove(&k->seg);
	} else if (k->h && k->role == CAST_READER) {
		atomic_store_explicit(&k->h->slot[k->slot].pid, 0, memory_order_release);
		atomic_thread_fence(memory_order_seq_cst);
		ipck__cast_ring_bell(&k->h->wr_bell, &k->h->wr_flag);
	}
	int e2 = k->role == CAST_PEER ? 0 : ipck__shm_close(&k->seg);
	int e3 = ipck__close_fd(k->sock);
	e2 = e2 ? e2 : e3;
	free(k);
	r->cast = NULL;
	return e ? e : e2;
}
