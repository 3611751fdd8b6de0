/*
 * svmsg_mailbox.c - "svmsg:KEY?mailbox=1": many senders, one receiver on
 * the listener's own queue.
 *
 * A sender's message is type SVMSG_MB_TYPE: a TAG_DATA byte, the sender's
 * pid, the payload.  The receiver takes that one type in FIFO order, so one
 * msgrcv gives one message and its sender, and each sender's messages keep
 * their order.  The pid is what the sender claims (a System V message has no
 * credentials): the queue's mode is the gate, as for every svmsg channel.
 * A sender's HELLO (its open) and BYE (its close) are the same with the tag
 * TAG_HELLO / TAG_BYE and a nonce for payload: the receive hands them to
 * mailbox.c, for ipck_accept.
 *
 * The end of the mailbox: the listener's close removes the queue, and a
 * sender's next msgsnd fails (EIDRM/EINVAL: -EPIPE).  A listener killed
 * without closing leaves the queue; so that its senders still learn of it,
 * the listener puts a beacon (TAG_WELCOME and a struct hello with its pid,
 * type SVMSG_MB_BEACON, never received) into its new queue before anything
 * else.  Nobody takes it, so it stays the queue's first message, and a
 * sender reads it in place with msgrcv(MSG_COPY, position 0) and watches
 * that pid.  Trap: MSG_COPY needs CONFIG_CHECKPOINT_RESTORE (ENOSYS without)
 * and read permission (a sender allowed only to write by mode=): then the
 * sender goes without the watch and sees only the close.
 */
#include "svmsg.h"
#include <errno.h>
#include <string.h>
#include <sys/msg.h>
#include <unistd.h>

#define BEACON_LEN (1 + sizeof(struct hello))

int ipck__svmsg_beacon_put(ipck_chan *ch)
{
	struct svmsg_priv *p = ipck__priv(ch);
	struct { long mtype; unsigned char t[BEACON_LEN]; } m = {SVMSG_MB_BEACON, {TAG_WELCOME}};
	struct hello h;
	ipck__hello_make(&h, TAG_WELCOME, ipck__nonce());
	memcpy(m.t + 1, &h, sizeof(h));
	while (msgsnd(p->q->qid, &m, BEACON_LEN, IPC_NOWAIT) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int ipck__svmsg_beacon_watch(ipck_chan *ch)
{
	struct svmsg_priv *p = ipck__priv(ch);
	struct { long mtype; unsigned char t[64]; } m;
	struct hello h;
	ssize_t n;
	while ((n = msgrcv(p->q->qid, &m, sizeof(m.t), 0,
			   MSG_COPY | IPC_NOWAIT | MSG_NOERROR)) < 0 && errno == EINTR)
		;
	if (n < 0 && (errno == ENOSYS || errno == EACCES || errno == EPERM))
		return 0;   /* the kernel cannot show it to us: go without the watch */
	if (n < 0 && errno != ENOMSG)
		return errno == EIDRM || errno == EINVAL ? -ECONNREFUSED : -errno;
	if (n != (ssize_t)BEACON_LEN || m.mtype != SVMSG_MB_BEACON || m.t[0] != TAG_WELCOME ||
	    ipck__hello_parse(&h, m.t + 1, sizeof(h), TAG_WELCOME))
		return -ECONNREFUSED;   /* empty, or the queue of a listener without mailbox=1 */
	return ipck__watch_peer(ch, h.pid);
}

ssize_t ipck__svmsg_mb_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms)
{
	struct svmsg_priv *p = ipck__priv(ch);
	deadline_t dl = ipck__deadline(timeout_ms);
	int32_t pid;
	for (;;) {
		int r = ipck__svmsg_fill(ch, dl);
		if (r)
			return r;
		if (p->rxlen >= SVMSG_MB_HDR && p->rx->mtext[0] == TAG_DATA)
			break;
		if (p->rxlen >= SVMSG_MB_HDR) {   /* a HELLO or BYE, or dropped in there */
			memcpy(&pid, p->rx->mtext + 1, sizeof(pid));
			r = ipck__mb_note(ch, p->rx->mtext[0], pid, p->rx->mtext + SVMSG_MB_HDR,
					  p->rxlen - SVMSG_MB_HDR);
		}
		ipck__svmsg_consume(ch);   /* not a message: one bad sender ends nothing */
		if (r)
			return r;
	}
	size_t len = p->rxlen - SVMSG_MB_HDR;
	if (len > cap) {
		ch->next_size = (ssize_t)len;
		return -EMSGSIZE;   /* held: the pollset stays marked in pump mode */
	}
	memcpy(&pid, p->rx->mtext + 1, sizeof(pid));
	memcpy(buf, p->rx->mtext + SVMSG_MB_HDR, len);
	ch->from = pid > 0 ? (pid_t)pid : 0;
	ipck__svmsg_consume(ch);
	return (ssize_t)len;
}
