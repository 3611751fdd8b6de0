/*
 * svmsg.h - what svmsg.c (the scheme) and svmsg_wait.c (waiting for a
 * System V message: the watcher and the pump) share.  Private.
 */
#ifndef IPCK_SVMSG_H
#define IPCK_SVMSG_H

#include "../internal.h"
#include "../mailbox.h"
#include <stdatomic.h>

/* A message as msgsnd and msgrcv take it. */
struct svbuf {
	long mtype;
	unsigned char mtext[];
};

/* One queue, shared by a listener and the channels it accepted in this process. */
struct svq {
	int qid;
	atomic_int refs;
	pid_t owner;      /* the process that made it and removes it, or 0 */
};

struct svwait;        /* svmsg_wait.c: the pump */

struct svmsg_priv {
	struct svq *q;
	long rtype, wtype;    /* the message types this side receives and sends */
	struct svbuf *rx;     /* the received message: tag byte first unless raw */
	size_t rxcap;         /* mtext bytes of rx and tx: the queue's largest message */
	size_t rxlen;
	bool held;            /* rx holds a message not yet taken; under the
			       * wait's lock while a pump runs */
	struct svbuf *tx;
	struct ipck_watch *watch;  /* made by the first blocking receive */
	struct svwait *w;     /* the pump, made by ipck_pollfd */
	bool gone;            /* the peer was seen dead: drain, then -EPIPE */
	bool marked;          /* pump mode: the drain marker is on its way */
	uint32_t marker;
	int64_t peer_look;    /* mailbox sender: when to look at the receiver's pidfd next */
};

/*
 * Wait until ch holds a received message (p->held); WAKE messages never
 * surface.  Returns 0, -ETIMEDOUT, -EPIPE once the peer is gone and all it
 * sent was taken (ch->eof is set), -ECONNRESET when the queue was removed.
 */
int ipck__svmsg_fill(ipck_chan *ch, deadline_t dl);
/* The held message was taken: free the slot for the next one. */
void ipck__svmsg_consume(ipck_chan *ch);
/* Switch to pump mode, for ipck_pollfd (its pollset must exist). */
int ipck__svmsg_pump(ipck_chan *ch);
/* Stop and free the threads; before close frees anything else. */
void ipck__svmsg_wait_free(ipck_chan *ch);
/* Drop every message of type; true if one of them was a TAG_BYE. */
bool ipck__svmsg_purge(int qid, long type);
/* What a failed msgsnd / msgrcv errno means for the channel. */
int ipck__svmsg_err(ipck_chan *ch, int e);

/* ---- mailbox=1 (svmsg_mailbox.c) ---- */
#define SVMSG_MB_TYPE 2     /* every sender's messages, in one FIFO */
#define SVMSG_MB_BEACON 3   /* the listener's pid, the queue's first message for good */
#define SVMSG_MB_HDR 5      /* a mailbox message: TAG_DATA, the sender's pid (s32) */
#define SVMSG_MB_LOOK_NS 1000000   /* a sender looks for the receiver's death this often */

/* Listener: put the beacon into its new, empty queue. */
int ipck__svmsg_beacon_put(ipck_chan *ch);
/* Sender: find the beacon (MSG_COPY) and watch the listener's pid; 0 also
 * when the kernel cannot tell, -ECONNREFUSED when the queue is no mailbox. */
int ipck__svmsg_beacon_watch(ipck_chan *ch);
/* Listener: the next message and its sender (ch->from). */
ssize_t ipck__svmsg_mb_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms);

#endif
