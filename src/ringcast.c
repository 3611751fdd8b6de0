/*
 * ringcast.c - one sender, many receivers on one shared ring (?broadcast=1
 * on pshm:, svshm:, mmap:).
 *
 * The listener creates the well-known object (0600, exclusively) as the
 * broadcast segment itself: a header, CAST_SLOTS reader slots of a cache
 * line each, and one ring.  The listener is the sender: ipck_send works on
 * it directly.  Each ipck_open(url, 0) is a receiver: it claims a free
 * slot (its pid, by compare-and-swap) and starts at the writer's current
 * position, so it sees every message sent after it joined.  ipck_accept on
 * the listener returns, for each receiver that joined, a handle that only
 * tells its pid (ipck_peer_pid); it sends and receives nothing.
 *
 * Every reader keeps its own position in its slot.  With drop=wait (the
 * default) the writer's room is bounded by the slowest live reader; a
 * reader whose pid is gone (pidfd) has its slot taken back while the
 * writer waits, so a dead reader blocks nobody.  With drop=oldest the
 * writer never waits: before it overwrites bytes it moves "tail", the
 * oldest intact record, past them (a release fence, then the bytes).  A
 * reader copies a record out, then (an acquire fence) loads tail: if tail
 * passed the record, the copy is void and the reader starts again at tail.
 * Every record carries the writer's message sequence number, so a reader
 * counts exactly how many it lost (ipck_stats().dropped) and checks that
 * nothing else is ever skipped.
 *
 * Records: 8 bytes rec_word(pos, len) (ring.h), 8 bytes the sequence
 * number, the payload padded to 8; a PAD record fills the end of the ring.
 * Everything read from the segment is range-checked; a violation is
 * -EPROTO.  Waits spin ?spin_us= then sleep on a futex in the segment (the
 * bell words: readers sleep on rd_bell, the writer on wr_bell) in slices of
 * RING_SLICE_MS, after which the other side's pids are looked at.
 */
#include "ringcast.h"
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ---- waiting -------------------------------------------------------------------- */

static long futex(_Atomic uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, (uint32_t *)w, op, val, ts, NULL, 0);
}

static bool pid_dead(int32_t pid)
{
	if (pid <= 0)
		return true;
	int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (fd < 0)
		return errno == ESRCH;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	bool dead = poll(&p, 1, 0) > 0;
	close(fd);
	return dead;
}

/*
 * After publishing: is a sleeper's flag set?  The barrier orders our
 * position before the load of the flag; in the process that registered for
 * membarrier (k->light) a compiler barrier, as the sleeper issues membarrier
 * (wait.c explains the handshake).
 */
static inline bool flagged(const struct cast *k, _Atomic uint32_t *flag)
{
	if (k->light == ipck__self())
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
	return atomic_load_explicit(flag, memory_order_relaxed) != 0;
}

/* Take the flag and wake every sleeper on bell: one call for all of them. */
bool ipck__cast_ring_bell(_Atomic uint32_t *bell, _Atomic uint32_t *flag)
{
	if (!atomic_exchange_explicit(flag, 0, memory_order_relaxed))
		return false;
	atomic_fetch_add_explicit(bell, 1, memory_order_relaxed);
	futex(bell, FUTEX_WAKE, INT_MAX, NULL);
	return true;
}

/* A reader's doorbell: "\0ipckit-cast-<pid>-<nonce>", so a slot can name no other socket. */
socklen_t ipck__cast_bell_addr(struct sockaddr_un *a, int32_t pid, uint64_t nonce)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "ipckit-cast-%d-%016llx",
			 (int)pid, (unsigned long long)nonce);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* Wake the readers: the sleepers, and the doorbells of those that poll. */
void ipck__cast_wake_readers(struct cast *k)
{
	if (!ipck__cast_ring_bell(&k->h->rd_bell, &k->h->rd_flag))
		return;
	for (unsigned i = 0; i < CAST_SLOTS; i++) {
		struct cast_slot *s = &k->h->slot[i];
		if (!atomic_load_explicit(&s->poll, memory_order_relaxed) ||
		    !atomic_exchange_explicit(&s->poll, 0, memory_order_relaxed))
			continue;
		if (k->sock < 0)
			k->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		struct sockaddr_un a;
		socklen_t len = ipck__cast_bell_addr(&a, atomic_load_explicit(&s->pid, memory_order_relaxed),
					  atomic_load_explicit(&s->bell, memory_order_relaxed));
		/* A full doorbell is readable already; a gone one needs nothing. */
		if (k->sock >= 0)
			sendto(k->sock, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&a, len);
	}
}

/*
 * Spin, then sleep on bell, until ready(ch) is not 0 (returned: 1, or an
 * error); check(ch) runs after each sleep slice (dead peers) and may end
 * the wait too.  -ETIMEDOUT.
 */
static int cast_wait(ipck_chan *ch, int (*ready)(ipck_chan *), int (*check)(ipck_chan *),
		     _Atomic uint32_t *bell, _Atomic uint32_t *flag, deadline_t dl)
{
	struct cast *k = cast_of(ch);
	int64_t end = ipck__now_ns() + k->spin_ns;
	int v;
	for (unsigned i = 0; ipck__now_ns() < end; i++) {
		if ((v = ready(ch)))
			return v;
		cpu_relax();
		if ((i & 255) == 255)
			sched_yield();   /* an oversubscribed writer may need the CPU */
	}
	for (;;) {
		/* A flag left set after we return costs one spurious wake-up. */
		uint32_t b = atomic_load_explicit(bell, memory_order_relaxed);
		atomic_store_explicit(flag, 1, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst);
		syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0);
		if ((v = ready(ch)))
			return v;
		int ms = ipck__ms_left(dl);
		if (ms == 0)
			return -ETIMEDOUT;
		if (ms < 0 || ms > RING_SLICE_MS)
			ms = RING_SLICE_MS;
		struct timespec ts = {0, (long)ms * 1000000};
		futex(bell, FUTEX_WAIT, b, &ts);
		if (check && (v = check(ch)))
			return v;
	}
}

/* ---- the writer ----------------------------------------------------------------- */

/* The slowest live reader's position (prod when none): 0, or -EPROTO. */
static int min_cons(ipck_chan *ch)
{
	struct cast *k = cast_of(ch);
	uint64_t m = k->prod;
	/* Our prod before their pids: the other half of cast_join's fence. */
	atomic_thread_fence(memory_order_seq_cst);
	for (unsigned i = 0; i < CAST_SLOTS; i++) {
		struct cast_slot *s = &k->h->slot[i];
		if (atomic_load_explicit(&s->pid, memory_order_acquire) <= 0)
			continue;   /* free, or joining: see cast_join */
		/* Acquire: the reader's reads of the bytes before we reuse them. */
		uint64_t c = atomic_load_explicit(&s->cons, memory_order_acquire);
		if (c > k->prod || (c & 7))
			return ipck__ring_fail(ch, -EPROTO);
		if (c < m)
			m = c;
	}
	k->min_cons = m;
	return 0;
}

/* Take back the slots of readers that died; 0: keep waiting. */
static int reap_readers(ipck_chan *ch)
{
	struct cast *k = cast_of(ch);
	for (unsigned i = 0; i < CAST_SLOTS; i++) {
		int32_t pid = atomic_load_explicit(&k->h->slot[i].pid, memory_order_acquire);
		if (pid && pid_dead(pid < 0 && pid != INT32_MIN ? -pid : pid))   /* even mid-join */
			atomic_compare_exchange_strong(&k->h->slot[i].pid, &pid, 0);
	}
	return 0;
}

static int room_ready(ipck_chan *ch)
{
	struct cast *k = cast_of(ch);
	int e = min_cons(ch);
	if (e)
		return e;
	return k->prod + k->resv - k->min_cons <= k->cap;
}

/*
 * drop=oldest: move tail past every record that bytes up to end - cap
 * held, before they are overwritten.  The walk reads our own headers, which
 * readers could have scribbled on: checked like any other.
 */
static int move_tail(ipck_chan *ch, uint64_t end)
{
	struct cast *k = cast_of(ch);
	uint64_t t = k->tail;
	while (end - t > k->cap) {
		uint64_t off = t & k->mask;
		uint64_t w = atomic_load_explicit((_Atomic uint64_t *)(void *)(k->ring + off),
						  memory_order_relaxed);
		uint32_t len = (uint32_t)w;
		if ((uint32_t)(w >> 32) != (uint32_t)t + 1)
			return ipck__ring_fail(ch, -EPROTO);
		uint64_t size = len == REC_PAD ? k->cap - off : cast_rec(len);
		if (len != REC_PAD && off + size > k->cap)
			return ipck__ring_fail(ch, -EPROTO);
		t += size;
	}
	if (t != k->tail) {
		k->tail = t;
		atomic_store_explicit(&k->h->tail, t, memory_order_relaxed);
		/* The new tail before any byte it gives up is overwritten. */
		atomic_thread_fence(memory_order_release);
	}
	return 0;
}

/* Make room for total bytes at k->prod: wait for readers, or overrun them. */
static int make_room(ipck_chan *ch, uint64_t total, deadline_t dl)
{
	struct cast *k = cast_of(ch);
	if (k->drop)
		return move_tail(ch, k->prod + total);
	if (k->prod + total - k->min_cons <= k->cap)
		return 0;
	k->resv = (uint32_t)total;
	/* Sleep until a quarter of the ring is free, not one record: fewer wake-ups. */
	uint64_t want = k->prod + total - k->cap + k->cap / 4;
	atomic_store_explicit(&k->h->wr_want, want < k->prod ? want : k->prod, memory_order_relaxed);
	int e = cast_wait(ch, room_ready, reap_readers, &k->h->wr_bell, &k->h->wr_flag, dl);
	k->resv = 0;
	return e < 0 ? e : 0;
}

static void put_rec(struct cast *k, uint32_t len, uint64_t seq)
{
	uint64_t off = k->prod & k->mask;
	uint64_t *p = (uint64_t *)(void *)(k->ring + off);
	atomic_store_explicit((_Atomic uint64_t *)p, rec_word(k->prod, len), memory_order_relaxed);
	atomic_store_explicit((_Atomic uint64_t *)(p + 1), seq, memory_order_relaxed);
}

/*
 * Show the record of size bytes at k->prod.  prod and pseq change under a
 * sequence lock (ver), so a joining reader reads a pair that belongs
 * together (cast_join); readers of records need only prod.
 */
static void publish(struct cast *k, uint64_t size)
{
	k->prod += size;
	atomic_store_explicit(&k->h->ver, ++k->ver, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&k->h->pseq, k->seq, memory_order_relaxed);
	/* Release: the record's bytes before the position that shows it. */
	atomic_store_explicit(&k->h->prod, k->prod, memory_order_release);
	atomic_store_explicit(&k->h->ver, ++k->ver, memory_order_release);
}

int ipck__cast_reserve(ipck_chan *ch, size_t len, void **ptr, int timeout_ms)
{
	struct cast *k = cast_of(ch);
	if (k->role != CAST_WRITER)
		return -ENOTSUP;
	if (k->resv)
		return -EBUSY;
	deadline_t dl = ipck__deadline(timeout_ms);
	uint64_t need = cast_rec(len), off = k->prod & k->mask;
	int e = 0;
	if (k->cap - off < need && !(e = make_room(ch, k->cap - off, dl))) {
		put_rec(k, REC_PAD, k->seq);   /* records never wrap */
		publish(k, k->cap - off);
	}
	if (!e)
		e = make_room(ch, need, dl);
	if (e)
		return e;
	k->resv = (uint32_t)need;
	k->resv_len = (uint32_t)len;
	*ptr = k->ring + (k->prod & k->mask) + CAST_REC;
	return 0;
}

int ipck__cast_commit(ipck_chan *ch)
{
	struct cast *k = cast_of(ch);
	if (k->role != CAST_WRITER || !k->resv)
		return -EINVAL;
	put_rec(k, k->resv_len, k->seq++);   /* pseq: the next one's */
	publish(k, k->resv);
	k->resv = 0;
	if (flagged(k, &k->h->rd_flag))
		ipck__cast_wake_readers(k);
	return (int)k->resv_len;
}

ssize_t ipck__cast_send(ipck_chan *ch, const void *msg, size_t len, int timeout_ms)
{
	void *p;
	int e = ipck__cast_reserve(ch, len, &p, timeout_ms);
	if (e)
		return e;
	memcpy(p, msg, len);
	return ipck__cast_commit(ch);
}

/* ---- the readers ---------------------------------------------------------------- */

static bool writer_gone(ipck_chan *ch)
{
	struct cast *k = cast_of(ch);
	return atomic_load_explicit(&k->h->closed, memory_order_acquire) || ipck__peer_gone(ch);
}

/* 1: a record (or the writer's goodbye) may be there; 0: nothing yet. */
static int data_ready(ipck_chan *ch)
{
	struct cast *k = cast_of(ch);
	return atomic_load_explicit(&k->h->prod, memory_order_acquire) != k->cons ||
	       atomic_load_explicit(&k->h->closed, memory_order_acquire);
}

/* After a sleep slice: a writer that died without closing ends the wait. */
static int writer_died(ipck_chan *ch)
{
	return ipck__peer_gone(ch);
}

/* drop=oldest: true when the writer has overrun position c. */
static bool overrun(const struct cast *k, uint64_t c)
{
	return k->drop && atomic_load_explicit(&k->h->tail, memory_order_acquire) > c;
}

/*
 * The record at k->cons, PADs skipped and overruns resynced: 1 with *len
 * and *seq (a copy of the header: the caller checks again after reading
 * the payload), 0 none yet, -EPROTO.
 */
static int look(ipck_chan *ch, uint32_t *len, uint64_t *seq)
{
	struct cast *k = cast_of(ch);
	for (;;) {
		uint64_t p = k->prod_seen;
		if (p == k->cons && (p = atomic_load_explicit(&k->h->prod, memory_order_acquire)) != k->cons) {
			if (p < k->cons || (p & 7))
				return ipck__ring_fail(ch, -EPROTO);
			k->prod_seen = p;   /* what is before it needs no look at prod */
		}
		if (overrun(k, k->cons)) {
			uint64_t t = atomic_load_explicit(&k->h->tail, memory_order_acquire);
			p = atomic_load_explicit(&k->h->prod, memory_order_acquire);
			if (t > p || (t & 7) || t < k->cons)
				return ipck__ring_fail(ch, -EPROTO);
			k->cons = t;
			k->prod_seen = p;
			continue;
		}
		if (p == k->cons)
			return 0;
		uint64_t off = k->cons & k->mask;
		const uint64_t *h = (const uint64_t *)(const void *)(k->ring + off);
		uint64_t w = atomic_load_explicit((_Atomic uint64_t *)h, memory_order_relaxed);
		*seq = atomic_load_explicit((_Atomic uint64_t *)(h + 1), memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (overrun(k, k->cons))
			continue;
		uint32_t l = (uint32_t)w;
		if ((uint32_t)(w >> 32) != (uint32_t)k->cons + 1)
			return ipck__ring_fail(ch, -EPROTO);
		if (l == REC_PAD) {
			k->cons += k->cap - off;
			continue;
		}
		if (off + cast_rec(l) > k->cap || k->cons + cast_rec(l) > p)
			return ipck__ring_fail(ch, -EPROTO);
		*len = l;
		return 1;
	}
}

/* Account for record seq: the gap before it is what we lost; never backwards. */
static int count_seq(ipck_chan *ch, uint64_t seq)
{
	struct cast *k = cast_of(ch);
	if (k->started && (seq < k->rseq || (seq != k->rseq && !k->drop)))
		return ipck__ring_fail(ch, -EPROTO);
	if (k->started)
		ch->st.dropped += seq - k->rseq;
	k->started = true;
	k->rseq = seq + 1;
	return 0;
}

static void advance(ipck_chan *ch, uint64_t size)
{
	struct cast *k = cast_of(ch);
	k->cons += size;
	/* Release: our reads of the record before the writer may reuse it. */
	atomic_store_explicit(&k->h->slot[k->slot].cons, k->cons, memory_order_release);
	if (flagged(k, &k->h->wr_flag) &&
	    k->cons >= atomic_load_explicit(&k->h->wr_want, memory_order_relaxed))
		ipck__cast_ring_bell(&k->h->wr_bell, &k->h->wr_flag);
}

/* Wait for the next record: 1 (*len, *seq), or an error (-EPIPE once drained). */
static int await(ipck_chan *ch, uint32_t *len, uint64_t *seq, int timeout_ms)
{
	struct cast *k = cast_of(ch);
	deadline_t dl = ipck__deadline(timeout_ms);
	for (;;) {
		int e = look(ch, len, seq);
		if (e)
			return e;
		if (writer_gone(ch) && atomic_load_explicit(&k->h->prod, memory_order_acquire) == k->cons)
			return -EPIPE;
		e = cast_wait(ch, data_ready, writer_died, &k->h->rd_bell, &k->h->rd_flag, dl);
		if (e < 0)
			return e;
	}
}

/* ---- polling -------------------------------------------------------------------- */

static void drain(int sock)
{
	char b[64];
	while (recv(sock, b, sizeof(b), MSG_DONTWAIT) > 0)
		;
}

/* 1: recv would not block (a record, the writer's goodbye, or a failure). */
static bool poll_ready(ipck_chan *ch)
{
	struct cast *k = cast_of(ch);
	uint32_t len;
	uint64_t seq;
	return k->peek || ch->err || data_ready(ch) || look(ch, &len, &seq) || ipck__peer_gone(ch);
}

/*
 * Keep the pollset true exactly when recv would not block.  When nothing
 * is ready: ask for the doorbell (the slot's poll flag and the readers'
 * flag), a full barrier, then look again (the writer's half: flagged()).
 */
static void poll_arm(ipck_chan *ch)
{
	struct cast *k = cast_of(ch);
	struct cast_slot *s = &k->h->slot[k->slot];
	bool ready = poll_ready(ch);
	if (!ready && !atomic_load_explicit(&s->poll, memory_order_relaxed)) {
		drain(k->sock);
		atomic_store_explicit(&s->poll, 1, memory_order_relaxed);
		atomic_store_explicit(&k->h->rd_flag, 1, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst);
		syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0);
		ready = poll_ready(ch);
	}
	ipck__poll_mark(ch, ready);
}

/* A reader's descriptor: its doorbell socket in the channel's pollset. */
int ipck__cast_pollfd(ipck_chan *ch)
{
	struct cast *k = cast_of(ch);
	if (k->role != CAST_READER)
		return -ENOTSUP;
	if (k->sock < 0) {
		struct sockaddr_un a;
		uint64_t nonce = ipck__nonce();
		int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -errno;
		if (bind(fd, (struct sockaddr *)&a, ipck__cast_bell_addr(&a, (int32_t)getpid(), nonce)) < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
		k->sock = fd;
		atomic_store_explicit(&k->h->slot[k->slot].bell, nonce, memory_order_relaxed);
	}
	int fd = ipck__pollset(ch, k->sock);
	if (fd < 0)
		return fd;
	k->polling = true;
	poll_arm(ch);
	return fd;
}

ssize_t ipck__cast_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms)
{
	struct cast *k = cast_of(ch);
	uint32_t len;
	uint64_t seq;
	if (k->role != CAST_READER)
		return -ENOTSUP;
	if (k->peek)
		return -EBUSY;
	for (;;) {
		int e = await(ch, &len, &seq, timeout_ms);
		if (e < 0)
			return e;
		if (len > cap) {
			ch->next_size = len;
			return -EMSGSIZE;
		}
		memcpy(buf, k->ring + (k->cons & k->mask) + CAST_REC, len);
		atomic_thread_fence(memory_order_acquire);
		if (overrun(k, k->cons))
			continue;   /* the copy is void: start again at tail */
		if ((e = count_seq(ch, seq)))
			return e;
		advance(ch, cast_rec(len));
		if (k->polling)
			poll_arm(ch);
		return len;
	}
}

/* Zero-copy reading only with drop=wait: an overrun would change the bytes. */
int ipck__cast_peek(ipck_chan *ch, const void **ptr, size_t *len, int timeout_ms)
{
	struct cast *k = cast_of(ch);
	uint32_t l;
	uint64_t seq;
	if (k->role != CAST_READER || k->drop)
		return -ENOTSUP;
	if (!k->peek) {
		int e = await(ch, &l, &seq, timeout_ms);
		if (e < 0)
			return e;
		if ((e = count_seq(ch, seq)))
			return e;
		k->peek = (uint32_t)cast_rec(l);
		k->peek_len = l;
	}
	*ptr = k->ring + (k->cons & k->mask) + CAST_REC;
	*len = k->peek_len;
	return 0;
}

int ipck__cast_release(ipck_chan *ch)
{
	struct cast *k = cast_of(ch);
	if (k->role != CAST_READER || !k->peek)
		return -EINVAL;
	uint32_t size = k->peek;
	k->peek = 0;
	advance(ch, size);
	if (k->polling)
		poll_arm(ch);
	return (int)k->peek_len;
}
