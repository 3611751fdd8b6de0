/*
 * mailbox.h - the part of a mailbox (mailbox=1 on svmsg:, pmsg:, unix-dgram:)
 * above the schemes' framing: senders' announcements (HELLO) and goodbyes
 * (BYE), ipck_accept on the mailbox and the handles it returns (mailbox.c).
 * Private to chan.c and the three schemes.
 */
#ifndef IPCK_MAILBOX_H
#define IPCK_MAILBOX_H

#include "internal.h"
#include <errno.h>

/* Body of a HELLO or BYE after the scheme's header: the sender's nonce. */
#define IPCK_MB_CTL_LEN 8

/* A scheme's mailbox receive returns this when it took a HELLO while
 * ipck_accept receives ahead: accept has an announcement now.  Never
 * reaches a caller of the library. */
#define IPCK_MB_NOTED (-EINPROGRESS)

/* ---- the sender's side ---- */

/* A sender just opened: name it (a nonce) and remember who opened it. */
void ipck__mb_sender_init(ipck_chan *ch);
/* The body of its HELLO and BYE: IPCK_MB_CTL_LEN bytes. */
void ipck__mb_body(const ipck_chan *ch, unsigned char *out);
/* Should its close put a BYE: only in the process that opened it, and
 * only while the mailbox is there. */
bool ipck__mb_says_bye(const ipck_chan *ch);

/* ---- the receiver's side ---- */

/*
 * The receive of a mailbox took a control record (any tag but TAG_DATA)
 * of sender pid with body: a HELLO is queued as an announcement, a BYE ends
 * that sender's handle, anything else is dropped.  Returns 0 (go on
 * receiving) or IPCK_MB_NOTED.
 */
int ipck__mb_note(ipck_chan *l, int tag, pid_t pid, const void *body, size_t len);
/* ipck_recv on the mailbox: what accept received ahead first, then the scheme. */
ssize_t ipck__mb_recv(ipck_chan *l, void *buf, size_t cap, int timeout_ms);
/* ipck_accept on the mailbox: c becomes the next sender's handle. */
int ipck__mb_accept(ipck_chan *l, ipck_chan *c, int timeout_ms);
/* ipck_pollfd on the mailbox: fd is the scheme's pollset; adds ours to it. */
int ipck__mb_pollfd(ipck_chan *l, int fd);
/* The listener's close: its handles end, everything held is freed. */
void ipck__mb_free(ipck_chan *l);

/* ---- a handle (ch->mb_peer) ---- */

/* ipck_recv on it: -EPIPE once the sender said BYE or died, else -ETIMEDOUT. */
ssize_t ipck__mb_peer_recv(ipck_chan *ch, int timeout_ms);
int ipck__mb_peer_pollfd(ipck_chan *ch);
void ipck__mb_peer_close(ipck_chan *ch);

#endif
