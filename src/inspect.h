/*
 * inspect.h - what the files of ipck_list / ipck_remove / ipck_limits share.
 * Private to src/inspect*.c.
 *
 * A listing is one struct insp: the objects found so far (a growing array,
 * addressed by index because it moves), the live pids, and the references
 * the one pass over /proc/PID/fd and /proc/PID/maps found (which process
 * holds which pipe, socket, /dev/shm file, queue or FIFO).  The passes fill
 * it in order: sources (sysv, posix, mqueue), process scan, sockets, join
 * of references to objects, channels, stale, filter, sort, callbacks.
 */
#ifndef IPCK_INSPECT_H
#define IPCK_INSPECT_H

#include "internal.h"
#include <stdint.h>

/* What a reference from a process points at. */
enum ref_type {
	REF_PIPE = 1,   /* key: inode */
	REF_SOCK,       /* key: inode */
	REF_DEVSHM,     /* path: name under /dev/shm; key: ipck__file_key */
	REF_MQ,         /* path: "/name"; key: ipck__file_key */
	REF_FIFO,       /* path: where it was opened; key: ipck__file_key */
	REF_SYSV,       /* key: shmid of a mapped System V segment */
};

struct ref {
	uint64_t key;
	char *path;        /* REF_DEVSHM, REF_MQ, REF_FIFO: the name it had there */
	pid_t pid;
	int fd;            /* -1 for a mapping */
	unsigned how;      /* IPCK_HOLD_* */
	uint8_t type;      /* enum ref_type */
	bool deleted;      /* the link said " (deleted)" */
	bool used;         /* joined to an object */
};

struct proc {
	pid_t pid;
	bool comm_read;
	char comm[16];
};

/* One object being built; o.name, o.url and o.holders point into it. */
struct iobj {
	struct ipck_obj o;
	char *name;
	char *url;
	struct ipck_holder *h;
	size_t nh, caph;
	uint64_t key;       /* what refs know it by (ref.key); 0 when unknown */
	int chan;           /* index of the channel it belongs to, or -1 */
	uint64_t nonce;     /* a channel: the nonce its objects are named by, or 0 */
};

struct insp {
	struct ipck_list_opts *opts;
	unsigned kinds;             /* kinds wanted, channels' members included */
	struct iobj *obj;
	size_t nobj, capobj;
	struct proc *procs;         /* live processes, sorted by pid */
	size_t nprocs;
	struct ref *refs;
	size_t nrefs, caprefs;
	bool sorted_refs;
	int mq_dir;                 /* a directory of the mqueue fs, or -1 */
};

static inline bool insp_want(const struct insp *in, int kind)
{
	return in->kinds & IPCK_KIND_BIT(kind);
}

/*
 * Make room for one more element in the array *v of *cap elements of size
 * bytes, n of them in use: doubles it (from first).  0 or -ENOMEM.
 */
int ipck__grow(void *v, size_t *cap, size_t n, size_t size, size_t first);

/* inspect.c: objects and holders */
int ipck__obj_new(struct insp *in, int kind);          /* index or -ENOMEM */
int ipck__obj_name(struct iobj *ob, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ipck__obj_url(struct iobj *ob, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ipck__obj_hold(struct insp *in, struct iobj *ob, pid_t pid, int fd, unsigned how);
bool ipck__pid_alive(const struct insp *in, pid_t pid);

/* inspect_proc.c: the process scan and the join of references */
int ipck__proc_pids(struct insp *in);
int ipck__proc_scan_fds(struct insp *in);
int ipck__proc_scan_maps(struct insp *in);
int ipck__ref_add(struct insp *in, const struct ref *r, const char *path);
void ipck__refs_sort(struct insp *in);
/*
 * Make every process referring to (type, key) a holder of object idx, with
 * the ref's own how, or with how when nonzero; marks the refs used.
 */
int ipck__refs_join(struct insp *in, int idx, int type, uint64_t key, unsigned how);
/* Objects for references no source listed: pipes, FIFOs, deleted files. */
int ipck__refs_orphans(struct insp *in);
const char *ipck__proc_comm(struct insp *in, pid_t pid);
void ipck__refs_free(struct insp *in);
/* One number for a file: its device and inode (names lie: unlinked, renamed). */
uint64_t ipck__file_key(dev_t dev, ino_t ino);

/* inspect_sysv.c */
int ipck__sysv_list(struct insp *in);
int ipck__sysv_remove(int kind, const char *addr, unsigned flags);

/* inspect_posix.c */
int ipck__posix_list(struct insp *in);
int ipck__posix_remove(int kind, const char *addr, unsigned flags);
/* An object for a /dev/shm file or queue only processes know of (unlinked). */
int ipck__posix_orphan(struct insp *in, const struct ref *r);

struct mq_usage {
	unsigned long long queues;       /* in the caller's IPC namespace */
	unsigned long long uid_bytes;    /* what RLIMIT_MSGQUEUE counts for uid, about */
	unsigned long long max_maxmsg, max_msgsize;   /* the largest queue's */
};
int ipck__mq_usage(struct mq_usage *u, uid_t uid);   /* 0, or -errno: not visible */

/* inspect_unix.c: sockets (sock_diag, /proc/net/unix) and FIFOs */
int ipck__unix_list(struct insp *in);
int ipck__path_remove(int kind, const char *path, unsigned flags);
/* An object for a FIFO some process holds open; index, -ENOENT or -errno. */
int ipck__fifo_orphan(struct insp *in, const struct ref *r);

/* inspect_chan.c: ipckit channels recognised from their objects' names */
int ipck__chan_detect(struct insp *in);

#endif
