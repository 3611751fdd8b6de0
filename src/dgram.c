/*
 * dgram.c - the rendezvous of the connectionless socket schemes (unix-dgram,
 * udp), so that they keep the channel contract: one listener, one private
 * channel per peer, each side knowing the other.
 *
 *   client (own socket)                    listener
 *   HELLO {pid, nonce}  ------------------> (udp: resent every resend_ms)
 *                                          new socket S, connect(S, client)
 *                       <------------------ WELCOME {pid, nonce} from S
 *   connect(client, S)
 *   (udp) WELCOME echoed ------------------> to S: the ACK; until it comes,
 *                                          S resends the WELCOME (5 times)
 *
 * Each greeting is a struct dgram_hdr (tag TAG_HELLO / TAG_WELCOME, seq 0)
 * followed by a struct hello, little-endian.  The nonce ties a WELCOME to
 * its HELLO; the listener remembers the last SOCK_SEEN nonces it answered,
 * so a HELLO sent again (udp) or queued twice never makes a second channel.
 * A listener that refuses the peer answers TAG_BYE with the nonce: -EACCES.
 * With creds (unix), SO_PASSCRED makes the kernel attach the sender's real
 * pid and uid: those are checked and watched, not what the greeting claims.
 * Without (udp), the claimed pid is used only from a loopback address.
 * The udp ACK makes a lost WELCOME harmless, and lets the listener drop a
 * HELLO whose client has gone (its WELCOME meets an ICMP error) instead of
 * returning a channel with nobody at the other end.
 * Trap: a datagram from an unbound Unix socket has no address to answer;
 * such a HELLO is ignored.
 *
 * unix-dgram ?mailbox=1 needs no rendezvous: senders connect to the
 * listener's socket and send, and the listener's socket receives from all of
 * them, the kernel telling each datagram's sender (the end of this file).
 */
#include "sock.h"
#include "mailbox.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One greeting datagram. */
struct rdv_msg {
	struct dgram_hdr h;
	struct hello m;
};

/* A received datagram and what the kernel says about its sender. */
struct rdv_in {
	struct sockaddr_storage from;
	socklen_t fromlen;
	bool have_cred;
	struct ucred cred;
};

static void rdv_make(struct rdv_msg *p, int tag, uint64_t nonce_le)
{
	*p = (struct rdv_msg){
		.h = {.seq = 0, .tag = (uint8_t)tag},
		.m = {.magic = htole32(IPCK_MAGIC), .tag = htole32((uint32_t)tag),
		      .pid = (int32_t)htole32((uint32_t)getpid()), .uid = htole32(geteuid()),
		      .nonce = nonce_le},
	};
}

/* Descriptors passed to us uninvited are closed at once. */
static void rdv_cmsgs(struct msghdr *mh, struct rdv_in *in)
{
	in->have_cred = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(in->cred))) {
			memcpy(&in->cred, CMSG_DATA(c), sizeof(in->cred));
			in->have_cred = true;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < n; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(fd);
			}
		}
	}
}

/* recvmsg with the sender's address and credentials: length or -errno. */
static ssize_t rdv_recvmsg(int fd, void *buf, size_t len, int flags, struct rdv_in *in)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = {buf, len};
	struct msghdr mh = {.msg_name = &in->from, .msg_namelen = sizeof(in->from),
			    .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
	ssize_t n;
	while ((n = recvmsg(fd, &mh, flags | MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -errno;
	in->fromlen = mh.msg_namelen;
	rdv_cmsgs(&mh, in);
	return n;
}

/* The next datagram: 1 for a well-formed greeting from an address, 0 for
 * anything else (dropped), or -errno (-EAGAIN: nothing there). */
static int rdv_recv(int fd, struct rdv_msg *m, struct rdv_in *in)
{
	ssize_t n = rdv_recvmsg(fd, m, sizeof(*m), 0, in);
	if (n < 0)
		return (int)n;
	return n == (ssize_t)sizeof(*m) && m->m.magic == htole32(IPCK_MAGIC) &&
	       le32toh(m->m.tag) == m->h.tag && in->fromlen > sizeof(sa_family_t);
}

/* Send one greeting on a connected socket (to == NULL) or to an address. */
static int rdv_send(int fd, const struct rdv_msg *m, const struct sockaddr *to, socklen_t len)
{
	ssize_t n;
	while ((n = sendto(fd, m, sizeof(*m), MSG_NOSIGNAL | MSG_DONTWAIT, to, to ? len : 0)) < 0 &&
	       errno == EINTR)
		;
	return n < 0 ? -errno : 0;
}

/* May this peer connect?  With creds, its real uid decides. */
static int rdv_allowed(const ipck_chan *ch, const struct rdv_in *in, const struct dgram_rdv *rv)
{
	if (!rv->creds)
		return 0;
	if (!in->have_cred)
		return -EPROTO;
	return ipck__check_owner(&ch->url, in->cred.uid);
}

/* Watch the peer: its real pid (creds), else a pid claimed over loopback. */
static int rdv_watch(ipck_chan *ch, const struct rdv_msg *m, const struct rdv_in *in,
		     const struct dgram_rdv *rv)
{
	if (rv->creds)   /* pid 0: a process outside our pid namespace */
		return in->cred.pid > 0 ? ipck__watch_peer(ch, in->cred.pid) : 0;
	pid_t pid = (pid_t)le32toh((uint32_t)m->m.pid);
	if (pid > 0 && ipck__sock_loopback((const struct sockaddr *)&in->from))
		ipck__watch_peer(ch, pid);   /* best effort: a claim, not a proof */
	return 0;
}

/* Make ch a framed datagram channel on fd, watching its peer. */
static int rdv_finish(ipck_chan *ch, int fd, const struct rdv_msg *m, const struct rdv_in *in,
		      const struct dgram_rdv *rv)
{
	int r = ipck__fd_init(ch, fd, fd, FRAME_DGRAM);
	if (r)
		return r;
	ch->is_sock = true;
	ch->max_msg = rv->max_msg;
	return rdv_watch(ch, m, in, rv);
}

/* The answer to our HELLO arrived: check it, connect, done. */
static int rdv_welcomed(ipck_chan *ch, int fd, const struct rdv_msg *m, const struct rdv_in *in,
			const struct dgram_rdv *rv)
{
	if (m->h.tag == TAG_BYE)
		return -EACCES;
	int r = rdv_allowed(ch, in, rv);
	if (r)
		return r;
	if (connect(fd, (const struct sockaddr *)&in->from, in->fromlen) < 0) {
		if (errno != ECONNREFUSED || rv->resend_ms)
			return -errno;
		/* unix: the peer welcomed us and died at once.  What it sent
		 * waits in our queue: take the channel, the peer watch ends it. */
	}
	if (rv->resend_ms)
		rdv_send(fd, m, NULL, 0);   /* the ACK: best effort, the listener copes */
	return rdv_finish(ch, fd, m, in, rv);
}

/* Send the HELLO when it is due, and set *next to when it is due again (-1: never). */
static int hello_due(int fd, const struct rdv_msg *hello, const struct sockaddr *to,
		     socklen_t len, const struct dgram_rdv *rv, deadline_t *next)
{
	int64_t now = ipck__now_ns();
	if (*next < 0 || now < *next)
		return 0;
	int r = rdv_send(fd, hello, to, len);
	if (r == -EAGAIN || r == -ENOBUFS) {   /* the listener's queue is full */
		*next = now + 2000000;
		return 0;
	}
	if (r)
		return r == -ENOENT ? -ECONNREFUSED : r;
	*next = rv->resend_ms ? now + (int64_t)rv->resend_ms * 1000000 : -1;
	return 0;
}

int ipck__dgram_connect(ipck_chan *ch, int fd, const struct sockaddr *to, socklen_t len,
			const struct dgram_rdv *rv, deadline_t dl)
{
	struct rdv_msg hello, m;
	struct rdv_in in;
	deadline_t next = 0;
	rdv_make(&hello, TAG_HELLO, htole64(ipck__nonce()));
	for (;;) {
		int r = hello_due(fd, &hello, to, len, rv, &next);
		if (r)
			return r;
		deadline_t w = next >= 0 && (dl < 0 || next < dl) ? next : dl;
		r = ipck__wait_fd(ch, fd, POLLIN, w);
		if (r == -ETIMEDOUT && !(dl >= 0 && ipck__now_ns() >= dl))
			continue;
		if (r)
			return r;
		r = rdv_recv(fd, &m, &in);
		if (r < 0 && r != -EAGAIN)
			return r;   /* udp with IP_RECVERR: -ECONNREFUSED, nobody there */
		if (r == 1 && m.m.nonce == hello.m.nonce &&
		    (m.h.tag == TAG_WELCOME || m.h.tag == TAG_BYE))
			return rdv_welcomed(ch, fd, &m, &in, rv);
	}
}

/* Was this nonce answered already?  If not, remember it. */
static bool rdv_seen(ipck_chan *l, uint64_t nonce)
{
	struct sock_priv *p = ipck__priv(l);
	unsigned n = p->nseen < SOCK_SEEN ? p->nseen : SOCK_SEEN;
	for (unsigned i = 0; i < n; i++)
		if (p->seen[i] == nonce)
			return true;
	p->seen[p->nseen++ % SOCK_SEEN] = nonce;
	if (p->nseen == 2 * SOCK_SEEN)
		p->nseen = SOCK_SEEN;   /* keep the ring index small, the table full */
	return false;
}

/* Send the WELCOME from the new socket, waiting for room until dl. */
static int welcome_send(ipck_chan *c, int fd, const struct rdv_msg *w, deadline_t dl)
{
	for (;;) {
		int r = rdv_send(fd, w, NULL, 0);
		if (r != -EAGAIN)
			return r;
		r = ipck__wait_fd(c, fd, POLLOUT, dl);
		if (r)
			return r;
	}
}

/* What waits on the new socket: 1 the ACK (taken), 0 the client's data, or -errno. */
static int ack_peek(int fd)
{
	struct rdv_msg a;
	ssize_t n;
	while ((n = recv(fd, &a, sizeof(a), MSG_PEEK | MSG_DONTWAIT)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(a) || a.h.tag != TAG_WELCOME)
		return 0;   /* data came first: the client is there, leave it */
	while (recv(fd, &a, sizeof(a), MSG_DONTWAIT) < 0 && errno == EINTR)
		;
	return 1;
}

/* udp: wait for the ACK, resending the WELCOME; 0, or -EAGAIN when the client is gone. */
static int welcome_acked(ipck_chan *c, int fd, const struct rdv_msg *w,
			 const struct dgram_rdv *rv, deadline_t dl)
{
	for (int tries = 0; tries < 5; tries++) {
		deadline_t step = ipck__now_ns() + (int64_t)rv->resend_ms * 1000000;
		int r = ipck__wait_fd(c, fd, POLLIN, dl >= 0 && dl < step ? dl : step);
		if (r == 0)
			r = ack_peek(fd);
		if (r == -ETIMEDOUT && !(dl >= 0 && ipck__now_ns() >= dl))
			r = rdv_send(fd, w, NULL, 0) ?: -ETIMEDOUT;
		if (r == -ECONNREFUSED)
			return -EAGAIN;   /* ICMP: nobody at that port any more */
		if (r != -ETIMEDOUT && r != -EAGAIN)
			return r < 0 ? r : 0;
		if (dl >= 0 && ipck__now_ns() >= dl)
			break;
	}
	return 0;   /* no word: take the channel as UDP would, it may still work */
}

/* Answer one new HELLO: 0, -EAGAIN when that client is gone, or -errno. */
static int rdv_welcome(ipck_chan *l, ipck_chan *c, const struct rdv_msg *m,
		       const struct rdv_in *in, const struct dgram_rdv *rv, deadline_t dl)
{
	const struct sockaddr *peer = (const struct sockaddr *)&in->from;
	struct rdv_msg w;
	int r = rdv_allowed(c, in, rv);
	if (r) {
		rdv_make(&w, TAG_BYE, m->m.nonce);
		rdv_send(l->fd, &w, peer, in->fromlen);   /* best effort */
		return r;
	}
	int fd = rv->conn_sock(l, peer, in->fromlen);
	if (fd < 0)
		return fd == -ECONNREFUSED || fd == -ENOENT ? -EAGAIN : fd;
	rdv_make(&w, TAG_WELCOME, m->m.nonce);
	r = welcome_send(c, fd, &w, dl);
	if (!r && rv->resend_ms)
		r = welcome_acked(c, fd, &w, rv, dl);
	if (!r)
		r = rdv_finish(c, fd, m, in, rv);
	if (r) {
		close(fd);
		ipck__close_fd(c->peer_fd);
		c->peer_fd = -1;
	}
	return r == -ECONNREFUSED || r == -EPIPE ? -EAGAIN : r;
}

int ipck__dgram_accept(ipck_chan *l, ipck_chan *c, const struct dgram_rdv *rv, deadline_t dl)
{
	struct rdv_msg m;
	struct rdv_in in;
	for (;;) {
		int r = rdv_recv(l->fd, &m, &in);
		if (r == -EAGAIN) {
			r = ipck__wait_fd(l, l->fd, POLLIN, dl);
			if (r)
				return r;
			continue;
		}
		if (r == -ECONNREFUSED)
			continue;   /* an ICMP error for an earlier answer */
		if (r < 0)
			return r;
		if (r == 0 || m.h.tag != TAG_HELLO || rdv_seen(l, m.m.nonce))
			continue;
		r = rdv_welcome(l, c, &m, &in, rv, dl);
		if (r != -EAGAIN)
			return r;
	}
}

/* Raw: the first datagram's sender becomes the listener's one peer. */
int ipck__dgram_accept_raw(ipck_chan *l, ipck_chan *c, const struct dgram_rdv *rv, deadline_t dl)
{
	struct sock_priv *p = ipck__priv(l);
	struct rdv_in in;
	char b;
	ssize_t n;
	if (p->raw_taken)
		return -EISCONN;
	while ((n = rdv_recvmsg(l->fd, &b, 1, MSG_PEEK, &in)) == -EAGAIN) {
		int r = ipck__wait_fd(l, l->fd, POLLIN, dl);
		if (r)
			return r;
	}
	if (n < 0)
		return (int)n;
	int r = rdv_allowed(c, &in, rv);
	if (r) {
		rdv_recvmsg(l->fd, &b, 1, 0, &in);   /* drop the refused datagram */
		return r;
	}
	int fd = fcntl(l->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (in.fromlen > sizeof(sa_family_t) &&   /* an unbound sender cannot be answered */
	    connect(fd, (const struct sockaddr *)&in.from, in.fromlen) < 0)
		r = -errno;
	if (!r)
		r = ipck__fd_init(c, fd, fd, FRAME_NONE);
	if (r) {
		close(fd);
		return r;
	}
	c->is_sock = true;
	c->max_msg = rv->max_msg + sizeof(struct dgram_hdr);
	if (rv->creds && in.cred.pid > 0)
		ipck__watch_peer(c, in.cred.pid);
	p->raw_taken = true;
	return 0;
}

/* ---- mailbox=1: one socket, many senders ----------------------------------- */

/* One datagram into the buffer: 1 held, 0 dropped or a sender's HELLO or
 * BYE taken, or -errno (-EAGAIN: none; IPCK_MB_NOTED). */
static int mb_take(ipck_chan *ch, struct sock_priv *p)
{
	struct rdv_in in;
	struct dgram_hdr h;
	ssize_t n = rdv_recvmsg(ch->fd, p->mb_buf, IPCK_DGRAM_MAX, MSG_TRUNC, &in);
	if (n < 0)
		return (int)n;
	if ((size_t)n > IPCK_DGRAM_MAX || (size_t)n < sizeof(h) || !in.have_cred ||
	    ipck__check_owner(&ch->url, in.cred.uid))
		return 0;   /* cut short, not framed, or from a user not let in */
	memcpy(&h, p->mb_buf, sizeof(h));
	if (h.tag != TAG_DATA)   /* the HELLO of a client without mailbox=1 is dropped */
		return ipck__mb_note(ch, h.tag, in.cred.pid, p->mb_buf + sizeof(h),
				     (size_t)n - sizeof(h));
	p->mb_len = (size_t)n - sizeof(h);
	p->mb_from = in.cred.pid;   /* 0: a sender outside our pid namespace */
	p->mb_held = true;
	return 1;
}

ssize_t ipck__dgram_mailbox_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms)
{
	struct sock_priv *p = ipck__priv(ch);
	deadline_t dl = ipck__deadline(timeout_ms);
	if (!p->mb_buf && !(p->mb_buf = malloc(IPCK_DGRAM_MAX)))
		return -ENOMEM;
	while (!p->mb_held) {
		int r = mb_take(ch, p);
		if (r == -EAGAIN)
			r = ipck__wait_fd(ch, ch->fd, POLLIN, dl);
		if (r < 0)
			return r;
	}
	if (p->mb_len > cap) {
		ch->next_size = (ssize_t)p->mb_len;
		ipck__poll_mark(ch, true);
		return -EMSGSIZE;
	}
	memcpy(buf, p->mb_buf + sizeof(struct dgram_hdr), p->mb_len);
	ch->from = p->mb_from;
	p->mb_held = false;
	ipck__poll_mark(ch, false);
	return (ssize_t)p->mb_len;
}

int ipck__dgram_mailbox_pollfd(ipck_chan *ch)
{
	struct sock_priv *p = ipck__priv(ch);
	int r = ipck__pollset(ch, ch->fd);
	if (r >= 0)
		ipck__poll_mark(ch, p->mb_held);
	return r;
}
