/*
 * bench_raw_queue.c - reference rows for the message queues, the system
 * calls made directly (bench_raw.c says how).
 *   raw-svmsg  one System V queue made by A before fork (IPC_EXCL, 0600);
 *              type 1 carries A to B, type 2 B to A.  A removes it at the end,
 *              E again if A was killed.
 *   raw-pmsg   two POSIX queues made by A before fork and unlinked at once:
 *              both processes hold them open, nothing is left to remove.
 * Both copy the message into a buffer of their own (mtype before the text;
 * mq_receive wants room for the queue's largest message), as a program does.
 */
#include "bench.h"
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>

struct qbuf {
	long mtype;
	char mtext[];
};

static int sv_pair(struct blink *l)
{
	long long max = ipck__read_sysctl("/proc/sys/kernel/msgmax");
	l->id = msgget(l->key, IPC_CREAT | IPC_EXCL | 0600);
	if (l->id < 0)
		return -errno;
	l->max_msg = max > 0 ? (size_t)max : 8192;
	return 0;
}

static int sv_attach(struct blink *l, int side)
{
	l->side = side;   /* which way: A sends type 1 */
	l->ctx = malloc(sizeof(struct qbuf) + l->max_msg);
	return l->ctx ? 0 : -ENOMEM;
}

static ssize_t sv_send(struct blink *l, const void *msg, size_t len, int tmo)
{
	struct qbuf *q = l->ctx;
	q->mtype = l->side ? 2 : 1;
	memcpy(q->mtext, msg, len);
	while (msgsnd(l->id, q, len, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return (ssize_t)len;
}

static ssize_t sv_recv(struct blink *l, void *buf, size_t len, int tmo)
{
	struct qbuf *q = l->ctx;
	ssize_t n;
	while ((n = msgrcv(l->id, q, l->max_msg, l->side ? 1 : 2, 0)) < 0)
		if (errno != EINTR)
			return -errno;
	if ((size_t)n > len)
		return -EMSGSIZE;
	memcpy(buf, q->mtext, (size_t)n);
	return n;
}

static void sv_close(struct blink *l, int side)
{
	free(l->ctx);
	l->ctx = NULL;
	if (side == 0 && l->id >= 0)
		msgctl(l->id, IPC_RMID, NULL);
}

static void sv_cleanup(struct blink *l)
{
	int id = msgget(l->key, 0);
	if (id >= 0)
		msgctl(id, IPC_RMID, NULL);
}

const struct btp ipck__btp_raw_svmsg = {
	.pair = sv_pair, .attach = sv_attach, .send = sv_send,
	.recv = sv_recv, .close = sv_close, .cleanup = sv_cleanup,
};

/* ---- POSIX queues ----------------------------------------------------------- */

static void pq_name(const struct blink *l, char *p, size_t cap, char dir)
{
	snprintf(p, cap, "%s%c", l->name, dir);
}

static int pq_pair(struct blink *l)
{
	long long size = ipck__read_sysctl("/proc/sys/fs/mqueue/msgsize_max");
	long long depth = ipck__read_sysctl("/proc/sys/fs/mqueue/msg_max");
	struct mq_attr at = {.mq_maxmsg = depth > 0 && depth < 10 ? depth : 10,
			     .mq_msgsize = size > 0 ? size : 8192};
	char a[80], b[80];
	pq_name(l, a, sizeof(a), 'a');
	pq_name(l, b, sizeof(b), 'b');
	mqd_t qa = mq_open(a, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &at);
	if (qa < 0)
		return -errno;
	mqd_t qb = mq_open(b, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &at);
	int e = -errno;
	mq_unlink(a);
	if (qb < 0) {
		mq_close(qa);
		return e;
	}
	mq_unlink(b);
	l->fd[0] = qa;   /* A to B */
	l->fd[1] = qb;   /* B to A */
	l->max_msg = (size_t)at.mq_msgsize;
	return 0;
}

static int pq_attach(struct blink *l, int side)
{
	l->side = side;
	l->ctx = malloc(l->max_msg);
	return l->ctx ? 0 : -ENOMEM;
}

static ssize_t pq_send(struct blink *l, const void *msg, size_t len, int tmo)
{
	while (mq_send(l->fd[l->side ? 1 : 0], msg, len, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return (ssize_t)len;
}

static ssize_t pq_recv(struct blink *l, void *buf, size_t len, int tmo)
{
	bool direct = len >= l->max_msg;
	char *p = direct ? buf : l->ctx;
	ssize_t n;
	while ((n = mq_receive(l->fd[l->side ? 0 : 1], p, l->max_msg, NULL)) < 0)
		if (errno != EINTR)
			return -errno;
	if ((size_t)n > len)
		return -EMSGSIZE;
	if (!direct)
		memcpy(buf, p, (size_t)n);
	return n;
}

static void pq_close(struct blink *l, int side)
{
	free(l->ctx);
	l->ctx = NULL;
	mq_close(l->fd[0]);
	mq_close(l->fd[1]);
	l->fd[0] = l->fd[1] = -1;
}

static void pq_cleanup(struct blink *l)
{
	char a[80], b[80];
	pq_name(l, a, sizeof(a), 'a');
	pq_name(l, b, sizeof(b), 'b');
	mq_unlink(a);
	mq_unlink(b);
}

const struct btp ipck__btp_raw_pmsg = {
	.pair = pq_pair, .attach = pq_attach, .send = pq_send,
	.recv = pq_recv, .close = pq_close, .cleanup = pq_cleanup,
};
