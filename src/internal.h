/*
 * internal.h - what the pieces of libipckit share.  Private: never installed.
 *
 * A channel is a struct ipck_chan holding the parsed URL, the scheme's
 * operations table and the generic state every scheme uses (descriptors,
 * framing buffers, the peer watch); a scheme's own state follows it in the
 * same allocation (ipck__priv).  Every operation returns a count or a
 * negative errno.
 */
#ifndef IPCK_INTERNAL_H
#define IPCK_INTERNAL_H

#include "ipckit.h"
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#define IPCK_API __attribute__((visibility("default")))

/* ---- URL ---------------------------------------------------------------- */

/* Options a scheme may accept; unknown or not accepted: -EINVAL. */
enum {
	OPT_MODE = 1u << 0,         /* mode=0660: permissions of created objects */
	OPT_PEER_UID = 1u << 1,     /* peer_uid=N: accept this user's peer */
	OPT_RAW = 1u << 2,          /* raw=1: one plain object, no framing */
	OPT_MAXMSG = 1u << 3,       /* maxmsg=N: pmsg queue depth */
	OPT_MSGSIZE = 1u << 4,      /* msgsize=N: pmsg message size */
	OPT_TIMEOUT = 1u << 5,      /* timeout=MS: how long open waits for the listener */
	OPT_CAPACITY = 1u << 6,     /* capacity=N: ring bytes per direction */
	OPT_SPIN_US = 1u << 7,      /* spin_us=N: spin before sleeping */
	OPT_MPMC = 1u << 8,         /* mpmc=1 */
	OPT_MAILBOX = 1u << 9,      /* mailbox=1 */
	OPT_BROADCAST = 1u << 10,   /* broadcast=1 */
	OPT_DROP = 1u << 11,        /* drop=oldest */
	OPT_FROM = 1u << 12,        /* from=start|saved */
	OPT_KEEP = 1u << 13,        /* keep=1 */
	OPT_PRIORITY = 1u << 14,    /* priority=N: pmsg send priority */
	OPT_SIG = 1u << 15,         /* sig=SIGRTMIN+4: signal of the signal: scheme */
	OPT_POLL_MS = 1u << 16,     /* poll_ms=N: file: poll every N ms, not inotify */
};

struct ipck_url {
	const struct ipck_scheme *sc;
	char addr[PATH_MAX];      /* after "scheme:", without the query */
	unsigned set;             /* OPT_* bits given in the query */
	unsigned mode;            /* default 0600 */
	long long peer_uid;       /* -1: same user only */
	bool raw;
	long maxmsg, msgsize;     /* pmsg */
	int timeout_ms;           /* rendezvous wait of a connecting open */
	size_t capacity;
	unsigned spin_us;
	bool mpmc, mailbox, broadcast, drop_oldest, keep, from_start;
	unsigned priority;
	int sig;                  /* signal: this side receives on, 0 = default */
	unsigned poll_ms;         /* file: 0 = inotify where it works */
	char why[128];            /* the reason of a -EINVAL, for ipck_url_check */
};

int ipck__url_parse(const char *url, struct ipck_url *u);
/* Refuse a URL, saying why in u->why (the first reason wins): -EINVAL. */
int ipck__url_bad(struct ipck_url *u, const char *f, ...) __attribute__((format(printf, 2, 3)));

/* ---- channels ----------------------------------------------------------- */

enum chan_role { ROLE_LISTENER = 1, ROLE_SERVER, ROLE_CLIENT, ROLE_PAIR };

/* Framing of descriptor schemes, carried out by fdio.c. */
enum frame_kind {
	FRAME_NONE = 0,  /* raw bytes or raw datagrams */
	FRAME_STREAM,    /* u32 little-endian length, then the payload */
	FRAME_SEQPACKET, /* one tag byte, then the payload, one record each */
	FRAME_DGRAM,     /* struct dgram_hdr, then the payload, one datagram each */
};

/* Receive buffer of a stream scheme: bytes read but not yet delivered. */
struct rxbuf {
	unsigned char *buf;
	size_t cap, start, end;
	size_t want;       /* length of the message being assembled, when > 0 */
	bool have_hdr;     /* the length header of the next message is consumed */
	size_t hdr_len;    /* its length */
};

/* A record that arrived for a buffer too small: kept for the next recv. */
struct held {
	unsigned char *buf;   /* NULL when nothing is held */
	size_t len;
	unsigned char *spill; /* max_msg + header bytes the receive may overflow into */
};

/* Send remainder of a stream message whose write outlived its timeout. */
struct txbuf {
	unsigned char *buf;
	size_t len, off;
};

struct ipck_chan {
	const struct ipck_scheme *sc;
	struct ipck_url url;
	enum chan_role role;
	int err;             /* sticky failure: every later call returns it */
	bool eof;            /* the peer said goodbye or its end closed */
	int fd, wfd;         /* read / write descriptors (the same for sockets) */
	enum frame_kind frame;
	size_t max_msg;
	pid_t peer_pid;
	int peer_fd;         /* pidfd of the peer, or -1 */
	pid_t from;          /* mailbox=1 listener: sender of the message just received */
	ssize_t next_size;   /* after -EMSGSIZE, or -EAGAIN */
	struct rxbuf rx;
	struct txbuf tx;
	struct held held;
	uint32_t tx_seq, rx_seq;  /* FRAME_DGRAM sequence numbers */
	struct ipck_stats st;
	bool is_sock;        /* fd is a socket: send with MSG_NOSIGNAL */
	bool is_bytes;       /* raw byte stream (FRAME_NONE on a pipe or stream socket) */
	bool rd_block;       /* a pipe's read end is in blocking mode now (fdio.c) */
	bool rd_dry;         /* the last stream receive had to wait: poll first (fdio.c) */
	bool tx_only, rx_only; /* a one-way channel (raw fifo): the other call is -ENOTSUP */
	int rcv_tmo;         /* SO_RCVTIMEO on a socket's fd now, ms, 0 none (fdio.c) */
	signed char fds_dom; /* socket may carry descriptors: 1 yes, -1 no, 0 not asked (fdio.c) */
	int poll_ep;         /* epoll set behind ipck_pollfd, or -1 */
	int poll_ev;         /* eventfd in it: "a message is buffered here" */
	bool poll_marked;    /* poll_ev is readable now */
	struct fdq *fdq;     /* descriptors received, not yet delivered (fdpass.c) */
	struct mbox *mbox;   /* mailbox=1 listener: announcements, read-ahead (mailbox.c) */
	struct mb_peer *mb_peer;  /* a handle ipck_accept returned from a mailbox */
	uint64_t mb_nonce;   /* mailbox sender: names it in its HELLO and BYE */
	pid_t mb_opener;     /* mailbox sender: the process that opened it (says BYE) */
	unsigned char priv[] __attribute__((aligned(16)));
};

static inline void *ipck__priv(const ipck_chan *ch) { return (void *)ch->priv; }

/* ---- schemes -------------------------------------------------------------- */

/*
 * One entry per scheme.  Slots return a count or a negative errno; the
 * generic layer (chan.c) has already checked arguments, sizes and state, so
 * a slot sees only valid calls on a live channel.
 *   open:   set up ch from ch->url; IPCK_LISTEN in flags for a listener.
 *           Blocks at most url.timeout_ms for a rendezvous.
 *   accept: fill conn (already allocated, url copied) from listener.
 *   pair:   fill a and b (ipck_pair).
 *   send:   one whole message of len <= ch->max_msg, or nothing.
 *   recv:   one whole message; -EMSGSIZE leaves it queued.
 *   pollfd: the descriptor for ipck_pollfd.
 *   close:  release everything; must not fail to free.  Returns 0 or errno.
 *   unlink: remove the named objects of the URL.
 *   reserve/commit/peek/release: zero copy (shared-memory rings); commit
 *           and release return the message's length.
 * A NULL slot makes the call -ENOTSUP (open, close and pollfd are mandatory).
 */
struct ipck_scheme {
	struct ipck_scheme_info info; /* name, summary, caps: public */
	unsigned opts;         /* OPT_* accepted in the query */
	size_t priv_size;
	int (*parse)(struct ipck_url *u); /* check and normalise u->addr */
	int (*open)(ipck_chan *ch, int flags);
	int (*accept)(ipck_chan *l, ipck_chan *conn, int timeout_ms);
	int (*pair)(ipck_chan *a, ipck_chan *b);
	ssize_t (*send)(ipck_chan *ch, const void *msg, size_t len, int timeout_ms);
	ssize_t (*recv)(ipck_chan *ch, void *buf, size_t cap, int timeout_ms);
	int (*pollfd)(const ipck_chan *ch);
	int (*close)(ipck_chan *ch);
	int (*unlink)(const struct ipck_url *u);
	int (*reserve)(ipck_chan *ch, size_t len, void **ptr, int timeout_ms);
	int (*commit)(ipck_chan *ch);
	int (*peek)(ipck_chan *ch, const void **ptr, size_t *len, int timeout_ms);
	int (*release)(ipck_chan *ch);
};

extern const struct ipck_scheme *const ipck__schemes[];
const struct ipck_scheme *ipck__scheme_find(const char *name, size_t len);
ipck_chan *ipck__chan_new(const struct ipck_scheme *sc, const struct ipck_url *u);
void ipck__chan_free(ipck_chan *ch);

/* ---- time and waiting (util.c) ------------------------------------------ */

typedef int64_t deadline_t; /* CLOCK_MONOTONIC ns; -1 = never */
deadline_t ipck__deadline(int timeout_ms);
int64_t ipck__now_ns(void);
/* Milliseconds left, rounded up; -1 for never, 0 when passed. */
int ipck__ms_left(deadline_t dl);

/*
 * Wait until fd has any of events, or the channel's peer (ch->peer_fd) is
 * gone, or the deadline passes.  Returns 0 when fd is ready, -EPIPE when only
 * the peer watch fired, -ETIMEDOUT.  EINTR is retried with the time left.
 */
int ipck__wait_fd(const ipck_chan *ch, int fd, short events, deadline_t dl);
/* true when the peer watched by ch->peer_fd has exited. */
bool ipck__peer_gone(const ipck_chan *ch);
/* Start watching pid (pidfd; a peer already gone gets a token that polls
 * readable at once, so waits drain first, then fail).  0 or negative errno. */
int ipck__watch_peer(ipck_chan *ch, pid_t pid);
/* Sleep briefly for a polling back-off: attempt 0, 1, 2... grows to 1 ms. */
void ipck__backoff(unsigned attempt, deadline_t dl);

#ifndef RWF_NOSIGNAL
#define RWF_NOSIGNAL 0x00000100   /* pwritev2: Linux 6.18 uapi, absent from older headers */
#endif
/* write(2) that cannot raise SIGPIPE in the caller; returns count or -errno. */
ssize_t ipck__write_nosig(int fd, const struct iovec *iov, int iovcnt);
ssize_t ipck__write_masked(int fd, const struct iovec *iov, int iovcnt);   /* its pre-6.18 way */
int ipck__set_nonblock(int fd, bool on);
int ipck__close_fd(int fd);  /* close, keep the first error, ignore -1 */

/* Read a small integer from a /proc file (sysctl); -errno on failure. */
long long ipck__read_sysctl(const char *path);

/*
 * The descriptor behind ipck_pollfd when a scheme's own descriptor is not
 * enough: an epoll set of the data fd, an eventfd the library marks while a
 * message is already buffered in user space, and the peer's pidfd.  Made on
 * the first ipck_pollfd call; until then marking costs nothing.
 */
int ipck__pollset(ipck_chan *ch, int data_fd);
void ipck__poll_mark(ipck_chan *ch, bool ready);
void ipck__pollset_close(ipck_chan *ch);

/* ---- descriptor framing (fdio.c) ---------------------------------------- */

ssize_t ipck__fd_send(ipck_chan *ch, const void *msg, size_t len, int timeout_ms);
/* n (<= IPCK__MANY) whole messages in one write on a FRAME_STREAM channel. */
#define IPCK__MANY 64
ssize_t ipck__fd_send_many(ipck_chan *ch, const struct iovec *msgs, size_t n, int timeout_ms);
ssize_t ipck__fd_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms);
int ipck__fd_pollfd(const ipck_chan *ch);
/* Flush a pending stream remainder, free the buffers, close the fds. */
int ipck__fd_close(ipck_chan *ch);
/* Tell a datagram peer goodbye; best effort. */
void ipck__fd_bye(ipck_chan *ch);
/* Setup shared by descriptor schemes: framing, sizes, buffers. */
int ipck__fd_init(ipck_chan *ch, int rfd, int wfd, enum frame_kind fk);

/* ---- descriptor passing (fdpass.c) ------------------------------------ */

/* The descriptors that came with one message (or one stream read). */
struct fdbatch {
	int *fds;          /* malloc'd, n of them; ours until delivered */
	size_t n;
	int64_t lo, hi;    /* stream: bytes [lo, hi) of the read they came with */
	bool lost;         /* MSG_CTRUNC or no memory: some did not make it */
};

/* Where a receive puts descriptors: room in fds, count out in *n. */
struct fdwant {
	int *fds;
	size_t room;
	size_t *n;
};

/* A channel that can carry descriptors: a Unix socket under fdio.c. */
bool ipck__fd_can_pass(const ipck_chan *ch);
ssize_t ipck__fd_send_fds(ipck_chan *ch, const void *msg, size_t len,
			  const int *fds, size_t nfds, int timeout_ms);
/* w NULL: descriptors that come with the message are closed. */
ssize_t ipck__fd_recv_fds(ipck_chan *ch, void *buf, size_t cap, struct fdwant *w,
			  int timeout_ms);
/* sendmsg with the descriptors attached; count or -errno. */
ssize_t ipck__sendmsg_fds(int fd, struct iovec *iov, int cnt, const int *fds, size_t nfds);
/* recvmsg (MSG_CMSG_CLOEXEC) collecting any descriptors into *b. */
struct msghdr;
ssize_t ipck__recvmsg_fds(int fd, struct msghdr *m, int flags, struct fdbatch *b);
/* A stream read of a socket channel; descriptors wait for their frame. */
ssize_t ipck__stream_read(ipck_chan *ch, void *p, size_t n, int flags);
/* A stream frame of frame_len bytes starts avail bytes before the read end. */
void ipck__fds_claim(ipck_chan *ch, size_t avail, size_t frame_len);
/* -EMSGSIZE (and *w->n set) when the current message's descriptors do not fit. */
int ipck__fds_fit(ipck_chan *ch, struct fdwant *w);
/* Hand the current message's descriptors over (or close them): 0 or -EMFILE. */
int ipck__fds_take(ipck_chan *ch, struct fdwant *w);
/* Make b the current message's descriptors (a record's); 0 or -ENOMEM. */
int ipck__fds_set(ipck_chan *ch, struct fdbatch *b);
void ipck__fdbatch_close(struct fdbatch *b);
void ipck__fds_free(ipck_chan *ch);

/* Control tags of framed messages (seqpacket tag byte, dgram header). */
enum { TAG_DATA = 1, TAG_HELLO = 2, TAG_WELCOME = 3, TAG_BYE = 4, TAG_WAKE = 5 };

/* Header of every FRAME_DGRAM datagram, little-endian. */
struct dgram_hdr {
	uint32_t seq;  /* per direction, from 0; a gap counts as a drop */
	uint8_t tag;   /* TAG_* */
	uint8_t pad[3];
};

#define IPCK_STREAM_MAX (16u << 20)   /* largest framed stream message */
#define IPCK_DGRAM_MAX (64u << 10)    /* largest unix datagram / seqpacket */
#define IPCK_MAGIC 0x69706b31u        /* "ipk1": rendezvous hello magic */

/* Rendezvous greeting sent by a connecting side on queue and FIFO schemes. */
struct hello {
	uint32_t magic;
	uint32_t tag;       /* TAG_HELLO or TAG_WELCOME */
	int32_t pid;
	uint32_t uid;
	uint64_t nonce;     /* the connection's unique number */
};

/* Unique, unpredictable per-connection number (getrandom). */
uint64_t ipck__nonce(void);

/* Owner check of a named object: 0, or -EACCES unless uid is ours or u->peer_uid. */
int ipck__check_owner(const struct ipck_url *u, uid_t uid);

/*
 * Crash points (src/crash.c): in a test build of the library made with
 * -DIPCK_CRASH_POINTS, IPCK_CRASH_AT=site:n SIGKILLs the process at the n-th
 * pass of the site; in every other build they are nothing.  Sites: attach
 * (open or accept returns a connection), wait (ipck__wait_fd, the watcher's
 * arm before a blocking receive, a ring's wait), reserve and commit (a ring
 * record reserved but not written, written but not published), torn (a
 * stream message partly written), detach (ipck_close).
 */
#ifdef IPCK_CRASH_POINTS
void ipck__crash_point(const char *site);
#define IPCK_CRASH_POINT(site) ipck__crash_point(site)
#else
#define IPCK_CRASH_POINT(site) ((void)0)
#endif

/* ---- signals (sig.c) ------------------------------------------------------ */

/*
 * Take sig for a signalfd: -EBUSY when the program has a handler for it or
 * another thread does not block it (that thread would take the signal and
 * die of it), else block it in the calling thread.  It is left blocked.
 */
int ipck__sig_claim(int sig);
/* Queue sig (SI_QUEUE) to the process of pidfd with a 32-bit tag in si_errno
 * and a word in si_value; 0 or negative errno (-EAGAIN: its queue is full). */
int ipck__sig_queue(int pidfd, int sig, uint32_t tag, uintptr_t word, pid_t pid, uid_t uid);
/* ---- rendezvous of the FIFO and queue schemes (rendezvous.c) ------------ */

/* Longest ".<pid>.<n>.c2s" a per-connection object name adds to its base. */
#define IPCK_CONN_SUFFIX_MAX 26
/* A connection's nonce: low 32 bits a per-process counter naming its
 * objects, high 32 bits random so a stale welcome is never taken for ours. */
uint64_t ipck__conn_nonce(void);
/* getpid() without a system call each time: a mailbox sender's pid in
 * every message (cached in a page that fork wipes, so a child is right). */
pid_t ipck__self(void);
/* "<base>.<pid>.<n>.<dir>" for the connection h announces; -ENAMETOOLONG. */
int ipck__conn_name(char *out, size_t cap, const char *base, const struct hello *h,
		    const char *dir);
/* A greeting from this process: TAG_HELLO or TAG_WELCOME. */
void ipck__hello_make(struct hello *h, uint32_t tag, uint64_t nonce);
/* Copy and check a received greeting of the given tag: 0, or -EPROTO. */
int ipck__hello_parse(struct hello *h, const void *buf, size_t n, uint32_t tag);

/* ---- waking a blocked receiver (watch.c) --------------------------------- */

/* A thread that wakes a receiver blocked in msgrcv / mq_receive. */
struct ipck_watch;
/* Start one for peer_fd (-1: deadlines only); wake() puts a TAG_WAKE with gen
 * on the receiver's own queue, 0 or -EAGAIN (no room: called again soon). */
int ipck__watch_start(struct ipck_watch **w, int peer_fd,
		      int (*wake)(void *arg, uint32_t gen, bool dead), void *arg);
/* Start one unless *w is this process's own (a forked child's copy is let go). */
int ipck__watch_ensure(struct ipck_watch **w, int peer_fd,
		       int (*wake)(void *arg, uint32_t gen, bool dead), void *arg);
/* Before blocking: the generation armed, or -EPIPE when the peer is dead. */
int64_t ipck__watch_arm(struct ipck_watch *w, deadline_t dl);
void ipck__watch_disarm(struct ipck_watch *w);
bool ipck__watch_dead(struct ipck_watch *w);
void ipck__watch_stop(struct ipck_watch *w);   /* NULL is fine */
/* pthread_create with every signal blocked in the new thread. */
int ipck__thread_start(pthread_t *th, void *(*fn)(void *), void *arg);

#endif
