/*
 * ring.h - the shared-memory ring behind pshm:, svshm: and mmap:.  Private.
 *
 * One mapped segment per connection:
 *
 *   struct ring_hdr   identity (magic, version, sizes), the two sides,
 *                     per direction the writer's and the reader's published
 *                     positions and wait words, each on its own line
 *   ring 0            written by side 0 (the listener), read by side 1
 *   ring 1            written by side 1 (the client), read by side 0
 *
 * An MPMC segment (?mpmc=1) has one ring that every participant writes and
 * reads, and two locks.  Positions are free-running 64-bit byte counts; the
 * offset in the ring is pos & (cap - 1).  A record is an 8-byte header word
 * (length, and a tag made from its position: see rec_word) followed by the
 * payload, padded to 8 bytes; records never wrap: a PAD record fills the end
 * of the ring instead.  The header word is stored last, with release order:
 * it is what tells the reader a record is there, so a spinning reader waits
 * on the very cache line that brings it the data.
 *
 * Everything in the segment can be written by the peer: every position and
 * length is read once into a local and range-checked (ring.c), and a
 * violation fails the channel with -EPROTO for good.
 */
#ifndef IPCK_RING_H
#define IPCK_RING_H

#include "internal.h"
#include "shm.h"
#include <stdatomic.h>

#define RING_MAGIC    0x526b7069u   /* "ipkR" */
#define RING_VERSION  1u
#define RING_LINE     128           /* two cache lines: the adjacent-line prefetcher */
#define RING_CAP_MIN  4096u
#define RING_CAP_MAX  (1u << 30)
#define RING_CAP_DEF  (1u << 20)
#define RING_HOT      4096u         /* where an exchange of messages wraps early */
#define RING_SLICE_MS 40            /* longest sleep before looking at the peer again */

#define RING_MPMC     0x1u          /* ring_hdr.flags: one shared ring */
#define RING_CTL      0x2u          /* ring_hdr.flags: a listener's control object */

/* Wait flags: who sleeps (futex / semaphore) and who polls (doorbell). */
#define WAIT_SLEEP 0x1u
#define WAIT_POLL  0x2u

/* Record header word: low 32 bits length (REC_PAD: filler to the end of
 * the ring), high 32 bits the low 32 bits of its position + 1 (never 0). */
#define REC_HDR 8u
#define REC_PAD 0x80000000u

struct ring_dir {
	/* Published by the writer after the records before it: bytes committed. */
	_Alignas(RING_LINE) _Atomic uint64_t prod;
	/* Published by the reader after it is done with them: bytes released. */
	_Alignas(RING_LINE) _Atomic uint64_t cons;
	/* Set by the reader (WAIT_*) before it sleeps or polls; cleared by the writer. */
	_Alignas(RING_LINE) _Atomic uint32_t rd_wait;
	/* Set by the writer before it sleeps on a full ring; cleared by the reader. */
	_Atomic uint32_t wr_wait;
};

struct ring_side {
	_Atomic int32_t pid;      /* the process using this side, 0 until claimed */
	_Atomic uint32_t closed;  /* 1 once it closed: the peer drains, then EPIPE */
	_Atomic uint32_t light;   /* 1: its wake checks use only a compiler barrier
	                           * (it registered for membarrier), so a sleeper
	                           * must issue membarrier(GLOBAL_EXPEDITED) */
	uint32_t pad;
};

struct ring_hdr {
	uint32_t magic;       /* RING_MAGIC, stored last at creation */
	uint32_t version;     /* RING_VERSION */
	uint32_t hdr_size;    /* offset of ring 0: sizeof(struct ring_hdr) */
	uint32_t flags;       /* RING_MPMC, RING_CTL */
	uint64_t cap;         /* bytes per ring, a power of two */
	uint64_t size;        /* bytes of the whole segment */
	int32_t owner;        /* pid of the creator */
	int32_t semid;        /* svshm: semaphore set of the waits, else -1 */
	uint64_t nonce;       /* listener: name of its rendezvous socket */
	_Atomic uint32_t attached; /* MPMC: participants attached so far */
	_Atomic uint32_t closers;  /* sides that closed: the last removes the objects */
	_Alignas(RING_LINE) struct ring_side side[2];
	struct ring_dir dir[2];
	_Alignas(RING_LINE) _Atomic uint32_t lock[2];  /* MPMC: producers, consumers */
	_Alignas(RING_LINE) char end[];
};

#define RING_HDR_SIZE ((uint32_t)sizeof(struct ring_hdr))

/* Locks of an MPMC ring. */
enum { LOCK_PROD = 0, LOCK_CONS = 1 };

struct ring;

/* Diagnostics for the benchmark only: build with -DRING_STATS. */
#ifdef RING_STATS
enum { ST_TXSLOW, ST_TXFULL, ST_TXWAIT, ST_SLEEP, ST_WAKE, ST_PAD, ST_EARLY, ST_RXNOTYET,
       ST_RXWAIT, ST_RXPOLL, ST_YIELD, ST_RXSLOWPEEK, ST_RXREFILL, ST_RXDIST, ST_RXLOOKS, ST_N };
extern unsigned long ipck__rst[ST_N];
#define RSTAT(i) (ipck__rst[i]++)
#else
#define RSTAT(i) ((void)0)
#endif

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * How a ring sleeps and wakes: futexes in the segment (pshm:, mmap:) or a
 * System V semaphore set (svshm:).  idx names the wait word: 2 * dir + 0 for
 * the reader of dir, 2 * dir + 1 for its writer.
 */
struct ring_waitops {
	/* Sleep while *word == val, at most ns; 0 woken (maybe spuriously),
	 * -ETIMEDOUT, or -EPIPE when the means to sleep is gone (svshm). */
	int (*sleep)(struct ring *r, _Atomic uint32_t *word, uint32_t val, unsigned idx, int64_t ns);
	void (*wake)(struct ring *r, _Atomic uint32_t *word, unsigned idx, bool all);
	/* MPMC locks that a dead holder cannot keep. */
	int (*lock)(struct ring *r, unsigned which, deadline_t dl);
	void (*unlock)(struct ring *r, unsigned which);
};

extern const struct ring_waitops ipck__futex_waitops, ipck__sem_waitops;

/* One side's private state: the channel's priv. */
struct ring {
	struct ring_hdr *h;
	struct ipck_shm seg;        /* the connection's segment */
	const struct ring_waitops *w;
	uint64_t cap, mask;
	int me;                     /* 0 listener / pair a, 1 client / pair b */
	bool mpmc, claimed, polling, light;
	bool fast;                  /* claimed SPSC side: the inline paths apply */
	bool streak;                /* the last receive did not wait: we chase a writer */
	bool answered;              /* a receive waited since the writer's last early-wrap look */
	uint64_t chunk;             /* how far ahead a chased writer should get */
	uint64_t rlim;              /* streak: the writer's published position at the last look */
	_Atomic uint32_t *peer_closed;  /* the peer's closed flag (a zero for MPMC) */
	unsigned tx_rd, rx_wr;      /* wait words to kick: tx's reader, rx's writer */
	/* writer */
	struct ring_dir *txd;
	unsigned char *tx;
	uint64_t prod;              /* next record goes here (private) */
	uint64_t edge;              /* position of the next early-wrap look (RING_HOT into a lap) */
	uint64_t cons_seen;         /* the reader's position as last read */
	uint32_t resv;              /* reserved record bytes, 0: none */
	uint32_t resv_len;
	/* reader */
	struct ring_dir *rxd;
	unsigned char *rx;
	uint64_t cons;              /* next record to read (private) */
	uint32_t peek;              /* bytes of the peeked record, 0: none */
	uint32_t peek_len;
	int64_t spin_ns;
	int sock;                   /* doorbell and rendezvous socket, or -1 */
	int semid;                  /* svshm: the wait semaphore set, or -1 */
	bool sem_owner;             /* semid is this connection's: the last closer removes it */
	/* listener */
	struct ipck_shm ctl;        /* the well-known control object */
	int lsock;                  /* the rendezvous socket */
	uint32_t accepted;          /* MPMC: attaches seen by accept */
	uint64_t nonce;
	struct cast *cast;          /* ?broadcast=1: all of it (ringcast.c), else NULL */
};

/* Records: rec_size bytes for len, the header word, the word at an offset. */
static inline uint64_t rec_size(uint64_t len)
{
	return REC_HDR + ((len + 7) & ~(uint64_t)7);
}

/* The header word of a record of len bytes at pos. */
static inline uint64_t rec_word(uint64_t pos, uint32_t len)
{
	return (uint64_t)((uint32_t)pos + 1) << 32 | len;
}

static inline _Atomic uint64_t *rec_at(unsigned char *ring, uint64_t off)
{
	return (_Atomic uint64_t *)(void *)(ring + off);
}

/* Fail the channel for good with e (-EPROTO); returns the sticky error. */
int ipck__ring_fail(ipck_chan *ch, int e);

/* Segment size for capacity cap (2 rings, or 1 for MPMC). */
size_t ipck__ring_size(uint64_t cap, bool mpmc);
int ipck__ring_cap(const struct ipck_url *u, uint64_t *cap);
/* Fill a fresh zeroed segment's header; the magic is stored last. */
void ipck__ring_format(struct ring_hdr *h, uint64_t cap, size_t size, uint32_t flags, int semid);
/* Check a mapped segment of map_size bytes: 0 or -EPROTO. */
int ipck__ring_check(const struct ring_hdr *h, size_t map_size, uint32_t flags);
/* Bind ch to the mapped segment r->seg as side me. */
int ipck__ring_attach(ipck_chan *ch, int me);
int ipck__ring_claim(ipck_chan *ch);

/* The record at the reader's position: 1 (*len), 0 not yet, -EPROTO. */
int ipck__ring_look(ipck_chan *ch, uint32_t *len, bool thorough);
/* MPMC reserve and peek (ringmpmc.c): the lock is held on success. */
int ipck__mpmc_reserve(ipck_chan *ch, size_t len, void **ptr, int timeout_ms);
int ipck__mpmc_peek(ipck_chan *ch, const void **ptr, size_t *len, int timeout_ms);

/* The slots every ring scheme shares (ring.c). */
ssize_t ipck__ring_send(ipck_chan *ch, const void *msg, size_t len, int timeout_ms);
ssize_t ipck__ring_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms);
int ipck__ring_reserve(ipck_chan *ch, size_t len, void **ptr, int timeout_ms);
int ipck__ring_commit(ipck_chan *ch);
int ipck__ring_peek(ipck_chan *ch, const void **ptr, size_t *len, int timeout_ms);
int ipck__ring_release(ipck_chan *ch);
int ipck__ring_pollfd(const ipck_chan *ch);
/* Mark this side closed, wake the peer; the caller then unmaps. */
bool ipck__ring_bye(ipck_chan *ch);

/* The slots and options every ring scheme shares, for its table. */
#define RING_OPTS (OPT_MODE | OPT_PEER_UID | OPT_TIMEOUT | OPT_CAPACITY | OPT_SPIN_US | OPT_MPMC | \
		   OPT_BROADCAST | OPT_DROP)
#define RING_SLOTS \
	.opts = RING_OPTS, .priv_size = sizeof(struct ring), \
	.open = ipck__ringconn_open, .accept = ipck__ringconn_accept, \
	.send = ipck__ring_send, .recv = ipck__ring_recv, \
	.reserve = ipck__ring_reserve, .commit = ipck__ring_commit, \
	.peek = ipck__ring_peek, .release = ipck__ring_release, \
	.pollfd = ipck__ring_pollfd, .close = ipck__ringconn_close, \
	.unlink = ipck__ringconn_unlink

/* Waiting (wait.c). */
void ipck__ring_light_init(struct ring *r);
void ipck__ring_heavy_barrier(const struct ring *r);
/* The slow half of ring_kick: take the flag, wake, ring the bell. */
void ipck__ring_wake(struct ring *r, _Atomic uint32_t *word, unsigned idx);

/*
 * After publishing a position: wake whoever flagged *word that it waits.
 * The barrier orders the position before the load of the flag (the other
 * half of the sleeper's handshake, see wait.c): a compiler barrier when a
 * sleeper's membarrier() makes it a full one.
 */
static inline void ring_kick(struct ring *r, _Atomic uint32_t *word, unsigned idx)
{
	if (r->light)
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
	if (__builtin_expect(atomic_load_explicit(word, memory_order_relaxed) != 0, 0))
		ipck__ring_wake(r, word, idx);
}

/*
 * Make the record of size bytes (len) at r->prod visible, then wake a
 * sleeping reader.  The header the reader will look at next is cleared
 * first (unless it is the reader's own current record: a full ring), so
 * stale bytes of an earlier lap there can never pass for a record.
 */
static inline __attribute__((always_inline)) void ring_publish(struct ring *r, uint64_t size, uint32_t len)
{
	uint64_t p = r->prod, next = p + size;
	if (len == REC_PAD)
		RSTAT(ST_PAD);
	if (next - r->cons_seen < r->cap)
		atomic_store_explicit(rec_at(r->tx, next & r->mask), 0, memory_order_relaxed);
	/* Release: the payload and the cleared next header before this header. */
	atomic_store_explicit(rec_at(r->tx, p & r->mask), rec_word(p, len), memory_order_release);
	r->prod = next;
	/* Release: every record before the published position (slow paths). */
	atomic_store_explicit(&r->txd->prod, next, memory_order_release);
	ring_kick(r, &r->txd->rd_wait, r->tx_rd);
}
/*
 * Spin, then sleep on *word (wait word idx), until ready(ch, thorough) is
 * true: 0; or the peer is gone: -EPIPE; or the time is up: -ETIMEDOUT.
 * thorough asks ready for the slower checks it skips while spinning.
 */
int ipck__ring_wait(ipck_chan *ch, bool (*ready)(ipck_chan *, bool), _Atomic uint32_t *word,
		    unsigned idx, int timeout_ms);
/* The peer closed or died: a pidfd, the socket's hang-up, the closed flag. */
bool ipck__ring_peer_gone(ipck_chan *ch);
/* Arm the doorbell and mark the pollset for ipck_pollfd. */
void ipck__ring_poll_arm(ipck_chan *ch);
int ipck__ring_ring_bell(struct ring *r);

/*
 * Rendezvous shared by the ring schemes (ringconn.c).  The well-known object
 * of a URL is made and opened by shm.c; a scheme adds only how to make an
 * unnamed segment for one connection.
 */
typedef int (*ring_seg_fn)(struct ipck_shm *s, const struct ipck_url *u, size_t size, uint64_t nonce);
int ipck__ringconn_parse(struct ipck_url *u);
int ipck__ringconn_open(ipck_chan *ch, int flags);
int ipck__ringconn_accept(ipck_chan *l, ipck_chan *c, int timeout_ms);
int ipck__ringconn_close(ipck_chan *ch);
int ipck__ringconn_unlink(const struct ipck_url *u);
int ipck__ringconn_pair(ipck_chan *a, ipck_chan *b);
/* The scheme's maker of connection segments, by scheme name. */
int ipck__pshm_seg(struct ipck_shm *s, const struct ipck_url *u, size_t size, uint64_t nonce);
int ipck__svshm_seg(struct ipck_shm *s, const struct ipck_url *u, size_t size, uint64_t nonce);
int ipck__mmap_seg(struct ipck_shm *s, const struct ipck_url *u, size_t size, uint64_t nonce);

/* ?broadcast=1 (ringcast.c): the ring slots and ringconn.c hand over. */
int ipck__cast_open(ipck_chan *ch, int flags);
int ipck__cast_accept(ipck_chan *l, ipck_chan *c, int timeout_ms);
int ipck__cast_close(ipck_chan *ch);
ssize_t ipck__cast_send(ipck_chan *ch, const void *msg, size_t len, int timeout_ms);
ssize_t ipck__cast_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms);
int ipck__cast_reserve(ipck_chan *ch, size_t len, void **ptr, int timeout_ms);
int ipck__cast_commit(ipck_chan *ch);
int ipck__cast_peek(ipck_chan *ch, const void **ptr, size_t *len, int timeout_ms);
int ipck__cast_release(ipck_chan *ch);
int ipck__cast_pollfd(ipck_chan *ch);

#endif
