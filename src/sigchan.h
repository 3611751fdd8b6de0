/*
 * sigchan.h - what src/sigchan.c (signals on the wire: routing, framing)
 * and src/scheme/signal.c (rendezvous, open, accept, close) share.
 *
 * One signal is a realtime signal queued with si_code SI_QUEUE, carrying a
 * 32-bit tag in si_errno and one word (8 bytes on 64-bit) in si_value:
 *
 *   tag = kind:4 | connection id:16 | sequence:12
 *   HELLO    client -> listener  word = listener id; sequence field = the
 *                                client's own signal number
 *   WELCOME  listener -> client  accept answered
 *   HEAD     word = u32 length, then the message's first WORD-4 bytes
 *   CHUNK    the next WORD bytes of the message
 *   BYE      the sender closed, or refused the connection; from a client
 *            that gave up waiting, word = listener id: withdraws its HELLO
 * HEAD, CHUNK and BYE carry a per-direction sequence number: a gap or a
 * repeat fails the channel with -EPROTO (realtime signals are queued in
 * order and never merged, so that would be a bug or an intruder).
 */
#ifndef IPCK_SIGCHAN_H
#define IPCK_SIGCHAN_H

#include "internal.h"
#include <stdint.h>

enum { K_HELLO = 1, K_WELCOME, K_HEAD, K_CHUNK, K_BYE };

#define TAG(kind, id, seq) ((uint32_t)(kind) << 28 | (uint32_t)(id) << 12 | ((uint32_t)(seq) & 0xfff))
#define TAG_KIND(t) ((unsigned)((t) >> 28))
#define TAG_ID(t) ((uint16_t)((t) >> 12))
#define TAG_SEQ(t) ((unsigned)((t) & 0xfff))

#define SIG_WORD sizeof(uintptr_t)   /* payload bytes of one CHUNK */
#define SIG_MAX_MSG 4096u            /* largest message: 513 signals */

/* One routed signal, waiting in a channel's inbox. */
struct sent {
	uint32_t tag;
	pid_t pid;         /* ssi_pid: the sender as it says */
	uid_t uid;         /* ssi_uid */
	uintptr_t word;
};

struct sigchan {
	struct sigchan *next;    /* the process's registry, under the registry lock */
	ipck_chan *ch;
	int sig;                 /* the signal this side receives on */
	int peer_sig;            /* the signal the peer receives on */
	pid_t self;              /* our pid when made: written as si_pid */
	uid_t uid;               /* our uid: written as si_uid */
	uint32_t lid;            /* the listener's id (rendezvous file) */
	uint16_t id;             /* the connection's id, chosen by the client */
	bool listener;
	bool registered;
	bool welcomed;           /* client: the listener accepted us */
	/* Under the registry lock: */
	bool peer_closed;        /* a BYE from the peer was routed here */
	bool overflow;           /* the inbox outgrew its limit */
	struct sent *in;         /* ring of routed signals not yet taken */
	size_t in_head, in_len, in_cap;
	/* The owning thread's: */
	uint16_t rx_seq, tx_seq;
	bool have_head;          /* msg holds a message being assembled */
	size_t want, got;        /* its length, and bytes so far */
	unsigned char *tx;       /* the rest of a message whose send timed out */
	size_t tx_len, tx_off;
	int file_fd;             /* listener: the rendezvous file, flocked */
	unsigned char msg[SIG_MAX_MSG];
};

/* Claim sig, open the signalfd and the poll set, join the registry.  A
 * client (ch->peer_pid set, listener false) also gets a fresh id here. */
int ipck__sigchan_setup(ipck_chan *ch, int sig);
/* Leave the registry, drain the queue, free and close what setup made. */
void ipck__sigchan_release(ipck_chan *ch);
/* Queue one signal to the peer, waiting for room until dl. */
int ipck__sigchan_put(struct sigchan *p, unsigned kind, unsigned seq, uintptr_t word, deadline_t dl);
/* Send the rest of a message whose send timed out (p->tx); -ETIMEDOUT keeps it. */
int ipck__sigchan_flush(struct sigchan *p, deadline_t dl);
/* Route what is pending and feed this channel's own signals to its
 * message (owner thread only); sets the poll mark. */
int ipck__sigchan_refill(struct sigchan *p);
/* Listener: route what is pending and take the first HELLO; 1, 0 or -errno. */
int ipck__sigchan_hello(struct sigchan *l, struct sent *h);
ssize_t ipck__sigchan_send(ipck_chan *ch, const void *msg, size_t len, int timeout_ms);
ssize_t ipck__sigchan_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms);
/* The peer said BYE or exited. */
bool ipck__sigchan_peer_left(struct sigchan *p);

#endif
