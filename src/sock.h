/*
 * sock.h - what the socket schemes (scheme/unix.c, scheme/inet.c) share:
 * sock.c's listen, accept and connect helpers, and dgram.c's rendezvous for
 * the connectionless ones (unix-dgram, udp).  Private to those files.
 */
#ifndef IPCK_SOCK_H
#define IPCK_SOCK_H

#include "internal.h"
#include <sys/socket.h>
#include <sys/types.h>

#define SOCK_SEEN 64   /* HELLO nonces a datagram listener remembers */

/* The scheme state (ipck__priv) of every socket channel. */
struct sock_priv {
	dev_t dev;               /* unix path listener: the socket file it bound */
	ino_t ino;
	pid_t binder;            /* the process that bound it (removes it), or 0 */
	bool raw_taken;          /* raw datagram listener: its one peer is accepted */
	unsigned nseen;          /* datagram listener: HELLOs answered so far */
	uint64_t seen[SOCK_SEEN];/* ...their nonces, the last SOCK_SEEN of them */
	unsigned char *mb_buf;   /* unix-dgram mailbox: one datagram, IPCK_DGRAM_MAX bytes */
	size_t mb_len;           /* ...its payload length, while mb_held */
	pid_t mb_from;           /* ...its sender (SCM_CREDENTIALS) */
	bool mb_held;            /* ...received but not delivered yet */
};

/* What differs between the rendezvous of unix-dgram and of udp. */
struct dgram_rdv {
	bool creds;              /* SCM_CREDENTIALS tell the real pid and uid (unix) */
	int resend_ms;           /* resend the HELLO this often (udp); 0: once */
	size_t max_msg;          /* payload limit of a framed datagram */
	/* A new socket for one connection of listener l, connected to peer:
	 * the descriptor, or -errno. */
	int (*conn_sock)(const ipck_chan *l, const struct sockaddr *peer, socklen_t len);
};

/* accept4 on l->fd, waiting until dl: a non-blocking descriptor or -errno. */
int ipck__sock_accept(ipck_chan *l, deadline_t dl);
/* Connect a non-blocking socket before dl: 0 or -errno (-ETIMEDOUT). */
int ipck__sock_connect(ipck_chan *ch, int fd, const struct sockaddr *a, socklen_t len,
		       deadline_t dl);
/* Socket buffers large enough for messages of msg bytes: 0 or -errno. */
int ipck__sock_bufs(int fd, size_t msg);
/* An IPv4 or IPv6 loopback address (the peer is on this machine). */
bool ipck__sock_loopback(const struct sockaddr *a);

/*
 * The datagram rendezvous (dgram.c).  Client: from the socket fd, HELLO to
 * the listener at `to`, wait until dl for the WELCOME, connect fd to its
 * sender and make ch a FRAME_DGRAM channel on fd.  Server: answer the next
 * new HELLO on l->fd with a WELCOME from a new socket, which becomes c.
 * Raw: no greeting; the listener's own socket, connected to the sender of
 * the first datagram, becomes c (once per listener).
 */
int ipck__dgram_connect(ipck_chan *ch, int fd, const struct sockaddr *to, socklen_t len,
			const struct dgram_rdv *rv, deadline_t dl);
int ipck__dgram_accept(ipck_chan *l, ipck_chan *c, const struct dgram_rdv *rv, deadline_t dl);
int ipck__dgram_accept_raw(ipck_chan *l, ipck_chan *c, const struct dgram_rdv *rv, deadline_t dl);

/*
 * A mailbox (unix-dgram ?mailbox=1): the listener's own socket receives the
 * FRAME_DGRAM datagrams of every sender, each with the sender's real pid
 * and uid from SCM_CREDENTIALS (SO_PASSCRED); datagrams from users not let
 * in, and anything but data, are dropped.  The pollfd marks a datagram held
 * after -EMSGSIZE.
 */
ssize_t ipck__dgram_mailbox_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms);
int ipck__dgram_mailbox_pollfd(ipck_chan *ch);

#endif
