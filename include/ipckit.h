/*
 * ipckit.h - every Linux IPC mechanism behind one small C API.
 *
 * The whole public contract of libipckit.  A channel carries whole messages in
 * both directions between two processes; which kernel mechanism carries them
 * is chosen by the URL, "scheme:address[?option=value&...]":
 *
 *   pipe:  socketpair:                     (ipck_pair only, before fork)
 *   fifo:/path                             named pipes, one per direction
 *   unix:/path  unix-seqpacket:/path  unix-dgram:/path  abstract:name
 *   tcp://host:port  udp://host:port
 *   svmsg:KEY  svmsg:/path (ftok)  svmsg:id=N     System V message queue
 *   pmsg:/name                             POSIX message queues, one per direction
 *   pshm:/name  svshm:KEY  svshm:id=N  mmap:/path   shared-memory rings (zero copy)
 *
 * Conventions, for every function:
 *  - Errors are negative errno values (-EPIPE, -ETIMEDOUT, ...); nothing is
 *    printed, nothing exits, there is no global error state.
 *  - timeout_ms: -1 waits forever, 0 polls once, N > 0 waits at most N ms and
 *    then fails with -ETIMEDOUT.  EINTR is retried inside with the time left.
 *  - A channel may be used by one thread at a time; different channels may be
 *    used from different threads at once.
 *  - The library never raises SIGPIPE and never changes signal dispositions.
 */
#ifndef IPCKIT_H
#define IPCKIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IPCKIT_VERSION_MAJOR 0
#define IPCKIT_VERSION_MINOR 1
#define IPCKIT_VERSION_PATCH 0
#define IPCKIT_VERSION_STRING "0.1.0"

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *ipck_version(void);

typedef struct ipck_chan ipck_chan;

#define IPCK_LISTEN 0x1 /* create / bind / own the endpoint, then ipck_accept */

/*
 * Open a channel.  With IPCK_LISTEN the kernel object is created (0600 or the
 * mode= option, exclusively, never through a symlink) and *ch is a listener:
 * call ipck_accept on it.  Without, *ch is connected to an existing listener
 * and ready for send and recv.  Returns 0, or -EINVAL for a bad URL (before
 * any object is touched), -ECONNREFUSED when nobody listens, -EADDRINUSE when
 * the object exists, -EACCES when it belongs to another user (see peer_uid=).
 */
int ipck_open(ipck_chan **ch, const char *url, int flags);

/*
 * Wait for a peer on a listener and return the connected channel in *ch.
 * For every scheme, connection-oriented or not, this returns once a peer
 * has attached and each side knows the other.  May be called again for the
 * next peer.  Returns 0, -ETIMEDOUT, or another negative errno.
 */
int ipck_accept(ipck_chan *listener, ipck_chan **ch, int timeout_ms);

/*
 * Make two connected channels for a parent and its child ("pipe:",
 * "socketpair:"): keep *a in one process and *b in the other after fork,
 * and close the one you do not keep.
 */
int ipck_pair(const char *url, ipck_chan **a, ipck_chan **b);

/*
 * Send one whole message.  Returns len, or -EMSGSIZE when len exceeds
 * ipck_max_msg (nothing is sent), -ETIMEDOUT (nothing is sent), -EPIPE or
 * -ECONNRESET when the peer is gone.  A message is never sent in part.
 */
ssize_t ipck_send(ipck_chan *ch, const void *msg, size_t len, int timeout_ms);

/*
 * Receive one whole message into buf.  Returns its length (0 is a valid empty
 * message), -EMSGSIZE when it is larger than cap (it stays queued: call again
 * with a larger buffer; ipck_next_size tells how large), -ETIMEDOUT, or
 * -EPIPE / -ECONNRESET once the peer is gone and every message it sent
 * before has been received.  -EPROTO: the peer broke the framing; the
 * channel stays failed.
 */
ssize_t ipck_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms);

/*
 * Size of the next message after a recv failed with -EMSGSIZE, or -EAGAIN
 * when that is not known yet.
 */
ssize_t ipck_next_size(const ipck_chan *ch);

/*
 * A descriptor that polls readable (POLLIN) when ipck_recv would not block
 * (a message, or the news that the peer is gone), or when a listener's
 * ipck_accept would not block.  Owned by the channel: do not close or read it.
 */
int ipck_pollfd(const ipck_chan *ch);

/* The largest message this channel can carry, in bytes. */
size_t ipck_max_msg(const ipck_chan *ch);

/* The peer's pid once connected; 0 when the scheme cannot know it (tcp, udp). */
pid_t ipck_peer_pid(const ipck_chan *ch);

/* The scheme name of the channel, "fifo". */
const char *ipck_scheme(const ipck_chan *ch);

/* Counters kept by every channel. */
struct ipck_stats {
	uint64_t sent_msgs, sent_bytes;
	uint64_t recv_msgs, recv_bytes;
	uint64_t dropped; /* messages known lost in transit (udp only) */
};
int ipck_stats(const ipck_chan *ch, struct ipck_stats *st);

/*
 * Close the channel and free it (NULL is fine).  The peer sees -EPIPE after it
 * has received what was sent before.  Objects the channel created and still
 * owns are removed.  Returns 0 or the first error met while closing.
 */
int ipck_close(ipck_chan *ch);

/*
 * Remove the named kernel objects a listener at url would create (left behind
 * by a crash, say).  Returns 0, -ENOENT when there was nothing, or an error.
 */
int ipck_unlink(const char *url);

/*
 * Zero copy, on the shared-memory rings (pshm:, svshm:, mmap:); other
 * schemes return -ENOTSUP.  ipck_send and ipck_recv are these plus a copy.
 *
 * ipck_reserve: room for one message of exactly len bytes at *ptr, to be
 * written in place and sent by ipck_commit.  Returns 0, or -EMSGSIZE (len >
 * ipck_max_msg), -ETIMEDOUT, -EPIPE, -EBUSY (a reservation is open), -EPROTO.
 * Nothing is sent before the commit; closing the channel drops it.  On an
 * MPMC ring (?mpmc=1) the producers' lock is held from reserve to commit.
 * ipck_commit: send the reserved message.  0, or -EINVAL with none open.
 *
 * ipck_peek: the next message in place, *ptr and *len valid until
 * ipck_release; peeking again before that gives the same message.  Returns
 * 0 or the errors of ipck_recv (never -EMSGSIZE).  The bytes are in memory
 * the peer can write: copy whatever you validate before using it.  On an
 * MPMC ring the consumers' lock is held from peek to release.
 * ipck_release: done with the peeked message; its room goes back to the
 * writer.  0, or -EINVAL with none peeked.
 */
int ipck_reserve(ipck_chan *ch, size_t len, void **ptr, int timeout_ms);
int ipck_commit(ipck_chan *ch);
int ipck_peek(ipck_chan *ch, const void **ptr, size_t *len, int timeout_ms);
int ipck_release(ipck_chan *ch);

/*
 * Shared memory segments, the primitive under the rings: "pshm:/name"
 * (POSIX), "svshm:KEY" or "svshm:id=N" (System V), "mmap:/path" (a file);
 * option mode= (default 0600) on create, peer_uid= on open.
 * create: a new segment of size bytes, exclusively (-EADDRINUSE if it
 * exists), zero-filled.  open: an existing one, after checking its owner
 * (-EACCES) and learning its size.  map: its address, mapped read-write
 * and shared on the first call.  close: unmap and free the handle; the
 * segment stays until unlink (a System V one until its last detach too).
 */
typedef struct ipck_shm ipck_shm;
int ipck_shm_create(ipck_shm **shm, const char *url, size_t size);
int ipck_shm_open(ipck_shm **shm, const char *url);
int ipck_shm_map(ipck_shm *shm, void **ptr);
ssize_t ipck_shm_size(const ipck_shm *shm);
int ipck_shm_close(ipck_shm *shm);
int ipck_shm_unlink(const char *url);

/*
 * Semaphores: "psem:/name" (POSIX named), "svsem:KEY" or "svsem:id=N" (a
 * System V set of nsems), or unnamed POSIX ones placed in shared memory by
 * ipck_sem_init / ipck_sem_attach (IPCK_SEM_SIZE bytes, 8-aligned).  Options:
 * mode= (create), peer_uid= (open), undo=1 (System V: every wait and post
 * with SEM_UNDO, so the kernel reverts a process's operations when it dies,
 * as a lock must).  i picks a semaphore of a System V set; 0 otherwise.
 * wait: decrement, waiting at most timeout_ms (-ETIMEDOUT).  post:
 * increment.  value: the current value, or a negative errno.  close frees
 * the handle; unlink removes the named object (a set at once, waking its
 * waiters with -EIDRM).
 */
typedef struct ipck_sem ipck_sem;
#define IPCK_SEM_SIZE 32
int ipck_sem_create(ipck_sem **sem, const char *url, unsigned nsems, unsigned value);
int ipck_sem_open(ipck_sem **sem, const char *url);
int ipck_sem_init(ipck_sem **sem, void *mem, unsigned value);
int ipck_sem_attach(ipck_sem **sem, void *mem);
int ipck_sem_wait(ipck_sem *sem, unsigned i, int timeout_ms);
int ipck_sem_post(ipck_sem *sem, unsigned i);
int ipck_sem_value(const ipck_sem *sem, unsigned i);
int ipck_sem_close(ipck_sem *sem);
int ipck_sem_unlink(const char *url);

/* "Broken pipe" for -EPIPE or EPIPE; never NULL. */
const char *ipck_strerror(int err);
/* "EPIPE" for -EPIPE or EPIPE; "E?" followed by the number when unknown. */
const char *ipck_errname(int err);

/* Scheme metadata, for tools: iterate i = 0.. until it returns NULL. */
struct ipck_scheme_info {
	const char *name;    /* "fifo" */
	const char *summary; /* one line */
	unsigned caps;       /* IPCK_CAP_* */
};
#define IPCK_CAP_PAIR_ONLY 0x01 /* only through ipck_pair */
#define IPCK_CAP_NAMED     0x02 /* has a named kernel object */
#define IPCK_CAP_STREAM    0x04 /* framed over a byte stream */
#define IPCK_CAP_LOSSY     0x08 /* may drop messages (udp) */
#define IPCK_CAP_NETWORK   0x10 /* may cross machines */
const struct ipck_scheme_info *ipck_scheme_at(size_t i);

#ifdef __cplusplus
}
#endif
#endif /* IPCKIT_H */
