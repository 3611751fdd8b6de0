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
 *   signal:/path                           realtime signals through a signalfd
 *                                          (see ipckit-signal(7): blocks its signal)
 *   file:/path                             append-only logs in plain files (NFS too)
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

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
 * Send up to n whole messages, msgs[0] first, as few system calls as the
 * scheme allows: one write for all of them on a framed stream (unix:,
 * abstract:, tcp:, fifo:, pipe:), one by one elsewhere.  Returns how many
 * were sent, at least 1, or the error of msgs[0] (nothing sent; -EMSGSIZE
 * when it exceeds ipck_max_msg).  Only msgs[0] waits up to timeout_ms: the
 * count stops before a later message that would wait, fails, or exceeds
 * ipck_max_msg, which the next call then meets first.  At most 64 at a time.
 */
ssize_t ipck_send_many(ipck_chan *ch, const struct iovec *msgs, size_t n, int timeout_ms);

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
 * Descriptor passing (SCM_RIGHTS) on Unix socket channels: socketpair:,
 * unix:, unix-seqpacket:, unix-dgram:, abstract:.  Every other scheme
 * answers -ENOTSUP.
 *
 * ipck_send_fds sends one message like ipck_send and, with it, copies of
 * the nfds open descriptors in fds (at most IPCK_MAX_FDS, else -EINVAL; the
 * caller keeps and still closes its own).  A bad descriptor fails with
 * -EBADF and nothing is sent.
 *
 * ipck_recv_fds receives one message like ipck_recv and the descriptors that
 * were sent with it, never those of another message.  *nfds is the room in
 * fds on entry and the number received on return (0 when the message carried
 * none); received descriptors are close-on-exec and belong to the caller.
 * -EMSGSIZE when the message is larger than cap, or carries more descriptors
 * than *nfds (*nfds is then set to how many it carries): the message and its
 * descriptors stay queued, held open by the channel, for a call with room.
 * -EMFILE when the kernel could not give us all of a message's descriptors
 * (our descriptor table was full): the message is consumed and every
 * descriptor that came with it is closed.  On every error *nfds is 0 unless
 * said otherwise, and no descriptor is left open in the caller's hands.
 * ipck_recv on such a channel closes the descriptors a message carries.
 */
#define IPCK_MAX_FDS 253 /* SCM_MAX_FD: descriptors per message */
ssize_t ipck_send_fds(ipck_chan *ch, const void *msg, size_t len,
		      const int *fds, size_t nfds, int timeout_ms);
ssize_t ipck_recv_fds(ipck_chan *ch, void *buf, size_t cap,
		      int *fds, size_t *nfds, int timeout_ms);

/*
 * ipck_recv_from receives one message like
 * ipck_recv, and the pid of the message's sender in *from (NULL is fine):
 * on a connected channel the peer's (ipck_peer_pid), on a mailbox the pid
 * of the sender of this very message; 0 when it is not known, and 0 on
 * error.
 *
 * Mailboxes ("?mailbox=1" on svmsg:, pmsg:, unix-dgram:): many senders,
 * one receiver.  The listener (IPCK_LISTEN) is the mailbox: ipck_recv and
 * ipck_recv_from work on it directly, ipck_pollfd polls it, ipck_send on
 * it is -ENOTCONN.  ipck_accept on it returns each sender once, in the
 * order they opened: a handle whose ipck_peer_pid is the sender, which
 * carries no messages and whose ipck_recv / ipck_pollfd say -EPIPE /
 * readable once the sender is gone (-ENOBUFS: receive first).
 * Any number of ipck_open(url, 0) are senders: ipck_send only (ipck_recv
 * and ipck_pollfd are -ENOTSUP).  Each sender's messages arrive whole and
 * in order; a sender's death does not end the mailbox; once the receiver
 * closes, sends fail with -EPIPE.  See ipck_recv_from(3).
 *
 * Broadcast ("?broadcast=1" on pshm:, svshm:, mmap:): one sender, many
 * receivers.  The listener is the sender (ipck_send on it directly); each
 * ipck_open(url, 0) receives every message sent after it joined, and
 * ipck_accept returns a handle per receiver that joined (its pid only).
 * With "&drop=oldest" a slow receiver loses the oldest messages instead of
 * holding the sender, and ipck_stats().dropped says how many.  See
 * ipckit-shm(7).
 */
ssize_t ipck_recv_from(ipck_chan *ch, void *buf, size_t cap, pid_t *from, int timeout_ms);

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
	uint64_t dropped; /* messages known lost in transit (udp; broadcast drop=oldest) */
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

/*
 * Check a URL's syntax as ipck_open and ipck_pair do, touching nothing: 0, or -EINVAL
 * with a one-line reason in why ("unknown option 'maxmg'", "option
 * 'capacity': bad value 'big'"); why may be NULL, and is "" on success.
 */
int ipck_url_check(const char *url, char *why, size_t len);

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

/*
 * Benchmark (ipckit bench): every mechanism measured side by side, each as
 * two real processes, with reference rows (the same system calls made
 * directly, a bare cache-line ping-pong, memcpy, other libraries).  The
 * measuring runs in forked processes; the caller only receives rows.
 */
struct ipck_bench_row {
	char scheme[32];   /* "pipe", "raw-pipe", "cacheline", "memcpy", "zmq" */
	char wait[8];      /* "kernel", "spin" (spin then sleep), "sleep", "none" */
	size_t size;       /* message bytes */
	double rtt_p50_ns, rtt_p99_ns, rtt_p999_ns; /* round trip; 0: not measured */
	double msgs_per_s, mb_per_s;  /* one way, MB = 10^6 bytes; 0: not measured */
	double cpu_tx_ns, cpu_rx_ns;  /* CPU time per message, sender and receiver */
	unsigned long long rounds, msgs; /* round trips, messages per repetition */
	unsigned reps;     /* repetitions; each figure is their median */
	int pinned;        /* the two processes ran on the CPUs of opts.cpu */
	int noisy;         /* repetitions disagree by more than 2x */
	int ref;           /* a reference row, not a libipckit scheme */
	int err;           /* 0, or why it was not measured (-EMSGSIZE: > max_msg) */
	size_t max_msg;    /* the transport's largest message, when known */
};

/*
 * A transport of another library measured as a peer (ZeroMQ, NNG...).
 * open runs in each process after fork, side 0 listening and side 1
 * connecting, with names under dir; send and recv block for one whole
 * message.  Every call returns >= 0 or a negative errno.  cleanup (may be
 * NULL) runs in the caller's process afterwards and removes any object
 * named from dir outside it.
 */
struct ipck_bench_peer {
	const char *name;
	size_t max_msg;
	int (*open)(void **ctx, const char *dir, int side);
	ssize_t (*send)(void *ctx, const void *msg, size_t len);
	ssize_t (*recv)(void *ctx, void *buf, size_t cap);
	void (*close)(void *ctx);
	void (*cleanup)(const char *dir);
};

enum { IPCK_PLACE_ANY = 0, IPCK_PLACE_ONE, IPCK_PLACE_TWO };

struct ipck_bench_opts {
	const char *names;     /* comma list of targets and groups (lib, raw, ref,
				  peer); NULL: all */
	const size_t *sizes;   /* NULL: 64, 1 KiB, 64 KiB, 1 MiB */
	size_t nsizes;
	unsigned long long rounds; /* round trips and messages per repetition; 0: timed */
	unsigned reps;         /* repetitions per figure; 0: 5, or 3 when quick */
	int quick;             /* short phases: everything in well under a minute */
	int pin;               /* pin the two processes to cpu[0] and cpu[1] */
	int cpu[2];
	int place;             /* without pin: IPCK_PLACE_ANY (the scheduler's
				  choice), _ONE (one CPU) or _TWO (two CPUs);
				  pairs that both spin always get two */
	const struct ipck_bench_peer *const *peers; /* NULL-terminated, or NULL */
	/* Called at least every 100 ms; a non-zero return stops the run. */
	int (*progress)(void *arg, unsigned done, unsigned total, const char *what);
	void *arg;
	int block;             /* library rows wait forever (timeout -1), as the
				  raw rows block; 0: each call has a 20 s (quick
				  3 s) timeout, which a pipe pays with a poll */
};

/*
 * Run the benchmark; row is called once per target and size, in run order,
 * also for sizes not measured (row->err).  Every object made is removed,
 * also when progress or row stops the run.  Returns 0, -EINVAL for a bad
 * option or name (nothing run), -ECANCELED when stopped, or an error.
 */
int ipck_bench_run(const struct ipck_bench_opts *o,
		   int (*row)(const struct ipck_bench_row *r, void *arg), void *arg);

/* Names of the built-in targets, i = 0.. until NULL: schemes, then references. */
const char *ipck_bench_target_at(size_t i);
/* ---- Objects: list, remove, limits (ipckit ls / rm / limits) ------------ */

/*
 * Every IPC object on the machine, of every mechanism, with the processes
 * that hold it.  System V objects come from /proc/sysvipc, POSIX shared
 * memory and semaphores from /dev/shm, POSIX queues from an mqueue mount
 * (a detached private one when /dev/mqueue is not mounted and the caller may
 * mount), FIFOs, pipes and sockets from /proc/PID/fd and sock_diag.  See
 * ipck_list(3).
 */
enum ipck_kind {
	IPCK_KIND_SVSHM = 1,   /* System V shared memory segment */
	IPCK_KIND_SVSEM,       /* System V semaphore set */
	IPCK_KIND_SVMSG,       /* System V message queue */
	IPCK_KIND_PSHM,        /* POSIX shared memory, /dev/shm/NAME */
	IPCK_KIND_PSEM,        /* POSIX named semaphore, /dev/shm/sem.NAME */
	IPCK_KIND_PMSG,        /* POSIX message queue */
	IPCK_KIND_FIFO,        /* named pipe held open by a process */
	IPCK_KIND_UNIX,        /* bound Unix socket: path or abstract ("@name") */
	IPCK_KIND_PIPE,        /* anonymous pipe */
	IPCK_KIND_SOCKETPAIR,  /* two connected unnamed Unix sockets */
	IPCK_KIND_CHANNEL,     /* an ipckit channel, made of objects above */
	IPCK_KIND_COUNT
};
#define IPCK_KIND_BIT(k) (1u << (k))

/* "svshm" for IPCK_KIND_SVSHM; NULL when unknown. */
const char *ipck_kind_name(int kind);
/* The kind named name ("svshm"), or -EINVAL. */
int ipck_kind_find(const char *name);

#define IPCK_HOLD_READ  0x1   /* open for reading */
#define IPCK_HOLD_WRITE 0x2   /* open for writing */
#define IPCK_HOLD_MAP   0x4   /* mapped (shared memory, semaphores) */
#define IPCK_HOLD_PEER  0x8   /* holds the other end (a socket's peer) */
#define IPCK_HOLD_LAST  0x10  /* System V queue or set, used without being held:
                                 the kernel's record of the last to use it (with
                                 _WRITE: msgsnd, _READ: msgrcv, alone: semop) */

/* A process that has an object open or mapped. */
struct ipck_holder {
	pid_t pid;
	int fd;          /* one descriptor on it, or -1 when only mapped */
	unsigned how;    /* IPCK_HOLD_* */
	char comm[16];   /* /proc/PID/comm */
};

/* Which fields of a struct ipck_obj are known (ipck_obj.fields). */
enum {
	IPCK_F_ID = 1u << 0,  IPCK_F_KEY = 1u << 1,      IPCK_F_UID = 1u << 2,
	IPCK_F_MODE = 1u << 3, IPCK_F_SIZE = 1u << 4,    IPCK_F_NATTCH = 1u << 5,
	IPCK_F_CPID = 1u << 6, IPCK_F_LPID = 1u << 7,    IPCK_F_MESSAGES = 1u << 8,
	IPCK_F_BYTES = 1u << 9, IPCK_F_NSEMS = 1u << 10, IPCK_F_VALUE = 1u << 11,
	IPCK_F_CTIME = 1u << 12, IPCK_F_MTIME = 1u << 13, IPCK_F_HOLDERS = 1u << 14,
	IPCK_F_PIDS = 1u << 15,
};

/*
 * One object, valid only during the callback that receives it.  Strings are
 * never NULL ("" when they do not apply) except url.
 */
struct ipck_obj {
	int kind;                 /* IPCK_KIND_* */
	unsigned fields;          /* IPCK_F_*: which numbers below are known */
	const char *name;         /* path, POSIX "/name", "@abstract"; "" for System V */
	const char *url;          /* the ipck_remove target ("svshm:id=5"), or NULL */
	long long id;             /* System V id; inode of a pipe or socket */
	long long key;            /* System V key */
	uid_t uid;                /* owner */
	gid_t gid;
	unsigned mode;            /* permission bits, 0777 */
	unsigned long long size;  /* segment bytes; queue capacity (maxmsg * msgsize) */
	long long nattch;         /* System V attaches */
	pid_t cpid, lpid;         /* creator; last to attach or operate */
	long long messages;       /* queued messages */
	unsigned long long bytes; /* queued bytes */
	long long nsems;          /* semaphores in a System V set */
	long long value;          /* POSIX semaphore value */
	long long ctime, mtime;   /* seconds since the epoch: created/changed, last used */
	const struct ipck_holder *holders; /* sorted by pid, one per process */
	size_t nholders;
	bool stale;               /* no live holder and its creator is known dead */
	bool deleted;             /* unlinked, alive only through its holders */
	const char *type;         /* sockets: "stream", "dgram", "seqpacket"; else "" */
	const char *state;        /* sockets: "listen", "connected"...; else "" */
	const char *scheme;       /* channels: "pmsg", "fifo"...; else "" */
	pid_t pids[2];            /* channels: listening side, connecting side (0: unknown) */
	bool alive;               /* channels: both sides' processes live */
};

#define IPCK_LIST_STALE 0x1    /* only stale objects (what ipck_remove may clean) */
#define IPCK_LIST_UID   0x2    /* only objects owned by opts->uid */

/* Parts of the picture ipck_list could not see (ipck_list_opts.missing). */
#define IPCK_MISSING_PMSG  0x1 /* POSIX queues: only those held open were found */
#define IPCK_MISSING_PROCS 0x2 /* some processes were unreadable: holders may be missing */
#define IPCK_MISSING_PEERS 0x4 /* no sock_diag: socket pairs and peers unknown */

struct ipck_list_opts {
	unsigned kinds;       /* IPCK_KIND_BIT()s; 0 = every kind */
	unsigned flags;       /* IPCK_LIST_* */
	uid_t uid;            /* with IPCK_LIST_UID */
	const char *name;     /* fnmatch(3) pattern on the name (System V: the key
	                         as "0x%08x"); NULL = any */
	unsigned missing;     /* out: IPCK_MISSING_* */
};

/* Called once per object; a nonzero return stops the listing. */
typedef int (*ipck_list_fn)(const struct ipck_obj *obj, void *arg);

/*
 * Call fn for every object that matches opts (NULL = everything), sorted by
 * kind, then id, then name.  Returns 0, the nonzero value fn returned, or a
 * negative errno when the listing itself failed (-ENOMEM, /proc unreadable).
 * What could not be seen is reported in opts->missing, never silently.
 */
int ipck_list(struct ipck_list_opts *opts, ipck_list_fn fn, void *arg);

#define IPCK_RM_FORCE   0x1   /* remove another user's object too */
#define IPCK_RM_DRY_RUN 0x2   /* check everything, remove nothing */

/*
 * Remove one object named by a URL: svshm:id=N, svshm:KEY, svsem:..., svmsg:...,
 * pshm:/n, psem:/n, pmsg:/n, fifo:/path, unix:/path.  Returns 0, -EINVAL (bad
 * target, or the path is not a FIFO), -ENOTSOCK (unix: not a socket), -ENOENT,
 * -EACCES (another user's, without IPCK_RM_FORCE), -EBUSY (unix: a process
 * still listens on it, without IPCK_RM_FORCE), -ENOTSUP (pipes, socket pairs,
 * abstract sockets: closing is the only way), or the system call's error.
 */
int ipck_remove(const char *target, unsigned flags);

/* A system limit on IPC objects and its current use. */
struct ipck_limit {
	const char *name;    /* "msgmni" */
	const char *group;   /* "svmsg", "svshm", "svsem", "pmsg", "pipe", "unix" */
	const char *desc;    /* what it limits, one line */
	const char *use;     /* what "used" counts, "" when nothing */
	const char *unit;    /* "", "bytes", "pages", "messages" */
	unsigned long long value;  /* the limit (RLIM_INFINITY: none) */
	unsigned long long used;   /* current use */
	bool known;                /* value was read */
	bool has_used;             /* used is meaningful and was measured */
};

/*
 * Fill lim[0..n-1] with the limits; returns how many there are (which may
 * be more than n: call again with a larger array), or a negative errno.
 */
ssize_t ipck_limits(struct ipck_limit *lim, size_t n);
/* ---- signals (ipckit-signal(7)) ------------------------------------------ */

/* What is known of one signal number. */
struct ipck_sig_info {
	int number;          /* 1..SIGRTMAX */
	char name[16];       /* "SIGINT", "SIGRTMIN+3", "SIGRTMAX-2", "SIG32" */
	const char *action;  /* default action: "term", "core", "stop", "cont" or "ign" */
	const char *descr;   /* one line: "interrupt from the keyboard (Ctrl-C)" */
};

/*
 * The number of a signal named as kill(1) accepts it: "INT", "SIGINT",
 * "sigint", "2", "SIGRTMIN+3", "RTMAX-2", "IOT".  Returns 0..SIGRTMAX ("0",
 * the null signal that only checks a pid) or -EINVAL.
 */
int ipck_sig_lookup(const char *name);
/* Fill *info for a signal 1..SIGRTMAX; 0 or -EINVAL. */
int ipck_sig_info(int sig, struct ipck_sig_info *info);
/*
 * Queue sig to process pid with an integer value, as sigqueue(3); the
 * receiver sees it as si_value (ssi_int of a signalfd).  Returns 0, -ESRCH
 * (no such process), -EPERM, -EAGAIN (its queue of pending signals is full)
 * or -EINVAL (pid <= 0: a process group cannot be queued to).
 */
int ipck_sig_send(pid_t pid, int sig, int value);

#ifdef __cplusplus
}
#endif
#endif /* IPCKIT_H */
