/*
 * ringcast.h - ?broadcast=1 on the ring schemes: the segment, one sender's
 * and one reader's private state.  Private; ringcast.c (the data path,
 * waiting, polling) and ringcastconn.c (open, join, accept, close).
 */
#ifndef IPCK_RINGCAST_H
#define IPCK_RINGCAST_H

#include "ring.h"
#include <sys/socket.h>
#include <sys/un.h>

#define CAST_MAGIC   0x436b7069u   /* "ipkC" */
#define CAST_VERSION 1u
#define CAST_SLOTS   64u
#define CAST_DROP    0x1u          /* cast_hdr.flags: drop=oldest */
#define CAST_REC     16u           /* record header: word, sequence number */

struct cast_slot {
	_Alignas(RING_LINE) _Atomic int32_t pid;   /* the reader, 0 when free */
	_Atomic uint32_t poll;                     /* 1: ring its doorbell */
	_Atomic uint64_t cons;                     /* its released position */
	_Atomic uint64_t bell;                     /* its doorbell's nonce */
};

struct cast_hdr {
	uint32_t magic, version, hdr_size, flags;
	uint64_t cap, size;
	int32_t owner;                       /* the writer's pid */
	uint32_t nslots;
	_Alignas(RING_LINE) _Atomic uint64_t prod;   /* bytes committed */
	_Atomic uint64_t pseq;               /* sequence number of the record at prod */
	_Atomic uint32_t ver;                /* odd while prod and pseq change */
	_Alignas(RING_LINE) _Atomic uint64_t tail;   /* drop=oldest: oldest intact record */
	_Alignas(RING_LINE) _Atomic uint32_t rd_bell, rd_flag;   /* readers sleep */
	_Alignas(RING_LINE) _Atomic uint32_t wr_bell, wr_flag;   /* the writer sleeps */
	_Atomic uint64_t wr_want;            /* until the slowest reader is here */
	_Atomic uint32_t closed;             /* the writer closed */
	_Atomic uint32_t joins;              /* readers that ever joined */
	struct cast_slot slot[CAST_SLOTS];
	_Alignas(RING_LINE) unsigned char ring[];
};

enum cast_role { CAST_WRITER = 1, CAST_READER, CAST_PEER };

struct cast {
	enum cast_role role;
	struct ipck_shm seg;
	struct cast_hdr *h;
	unsigned char *ring;
	uint64_t cap, mask;
	bool drop;
	pid_t light;                /* the process that registered for membarrier */
	int64_t spin_ns;
	/* writer */
	uint64_t prod, tail, min_cons, seq;
	uint32_t ver;
	uint32_t resv, resv_len;
	int32_t told[CAST_SLOTS];   /* listener: pids accept has returned */
	int sock;                   /* writer: sends to doorbells; reader: its doorbell */
	/* reader */
	unsigned slot;
	bool polling;
	uint64_t cons, rseq, prod_seen;
	bool started;
	uint32_t peek, peek_len;
};

static inline struct cast *cast_of(ipck_chan *ch)
{
	return ((struct ring *)ipck__priv(ch))->cast;
}

static inline uint64_t cast_rec(uint64_t len)
{
	return CAST_REC + ((len + 7) & ~(uint64_t)7);
}

static inline size_t cast_size(uint64_t cap)
{
	return sizeof(struct cast_hdr) + cap;
}

/* Take the flag and wake every sleeper on bell with one call: true if taken. */
bool ipck__cast_ring_bell(_Atomic uint32_t *bell, _Atomic uint32_t *flag);
/* Wake the readers: the sleepers, and the doorbells of those that poll. */
void ipck__cast_wake_readers(struct cast *k);
/* A reader's doorbell address, from its slot's pid and nonce. */
socklen_t ipck__cast_bell_addr(struct sockaddr_un *a, int32_t pid, uint64_t nonce);

#endif
