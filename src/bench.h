/*
 * bench.h - what the files of the benchmark engine share.  Private.
 *
 * Three kinds of process take part in a run:
 *   E  the caller of ipck_bench_run: picks names, forks one A per target,
 *      collects rows, enforces a deadline, removes every object at the end;
 *   A  the driver: sets the transport up, forks B, measures, sends rows to E;
 *   B  the echo and sink on the other end, told what to do by A over a
 *      control socket pair (so the data path carries only the messages).
 * A transport (struct btp) is one way to carry messages between A and B:
 * a libipckit channel, the same system calls made directly, a bare ring in
 * shared memory, or another library (struct ipck_bench_peer).
 */
#ifndef IPCK_BENCH_H
#define IPCK_BENCH_H

#include "internal.h"
#include <stdbool.h>
#include <sys/types.h>

#define BENCH_MAX_SIZES 16

/* Everything one transport instance needs; A and B each hold a copy. */
struct blink {
	const struct btp *tp;
	const struct ipck_bench_peer *peer;
	char url[PATH_MAX];    /* libipckit URL */
	char dir[160];         /* private directory of the run */
	char path[200];        /* a path in it for this target: dir/<name><n> */
	char name[64];         /* POSIX name, "/ipckb<pid>-<n>" */
	key_t key;             /* System V key */
	int port;              /* loopback port */
	int fd[4];             /* raw descriptors; -1 when unused */
	int id;                /* System V id; udp: the receive timeout set */
	int side;              /* 0 in A, 1 in B, once attached */
	ipck_chan *ch, *other; /* the channel kept, and the listener or pair end */
	void *ctx;             /* mapping or peer context */
	uint64_t seen[2];      /* bare ring: the peer's tail and head seen last */
	size_t max_msg;
	bool lossy;            /* may drop messages: waits time out, losses skip */
	bool pair;             /* made by ipck_pair before the fork */
	bool block;            /* library calls wait forever, as raw rows (--block) */
	int io_tmo;            /* ms: a send or receive that takes longer has failed */
};

/*
 * Slots return >= 0 or a negative errno.  pair runs in A before B is forked;
 * listen runs in A after the fork, before B is told to connect; attach runs
 * in both (side 0 = A accepts or keeps its end, side 1 = B connects or keeps
 * its end).  send and recv carry one whole message of len bytes (recv may be
 * told the exact length: raw byte streams need it).  cleanup runs in E after
 * A has ended and removes what a killed A or B may have left.
 */
struct btp {
	int (*pair)(struct blink *l);
	int (*listen)(struct blink *l);
	int (*attach)(struct blink *l, int side);
	ssize_t (*send)(struct blink *l, const void *msg, size_t len, int tmo);
	ssize_t (*recv)(struct blink *l, void *buf, size_t len, int tmo);
	void (*close)(struct blink *l, int side);
	void (*cleanup)(struct blink *l);
};

struct bjob;
/* A target: one row per size (or one row), measured by a transport or a probe. */
struct btarget {
	char name[32];
	const char *wait;
	bool ref;
	const struct btp *tp;
	int (*probe)(struct bjob *j);   /* measures on its own (cacheline, memcpy) */
	const struct ipck_scheme *sc;   /* libipckit scheme, or NULL */
	const struct ipck_bench_peer *peer;
	bool sleep_only;                /* ring scheme with spin_us=0 */
	bool spins;                     /* both sides spin: give them two CPUs */
};

/* What A is given: the target, its link, the options; rows go to out_fd. */
struct bjob {
	const struct btarget *t;
	struct blink lk;
	size_t sizes[BENCH_MAX_SIZES];
	size_t nsizes;
	unsigned long long rounds;
	unsigned reps;
	int64_t phase_ns;      /* time budget of one phase of one repetition */
	bool pin;              /* the caller pinned A to cpu[0] and B to cpu[1] */
	int cpu[2];
	int spread[2];         /* two distinct CPUs we may use, or -1 */
	int place;             /* IPCK_PLACE_*: where pairs run when not pinned */
	int out_fd;            /* to E: struct bwire, one per write */
};

/* What A tells E, one write each (smaller than PIPE_BUF: never split). */
struct bwire {
	uint32_t kind;         /* WIRE_ROW, or WIRE_PID: B's pid, to wait for its end */
	int32_t pid;
	struct ipck_bench_row row;
};
enum { WIRE_ROW = 1, WIRE_PID };

/* bench_run.c: A's and B's side of a transport target. */
int ipck__bench_drive(struct bjob *j);
/* Send a row to E; tell E the pid of B. */
int ipck__bench_emit(struct bjob *j, const struct ipck_bench_row *r);
void ipck__bench_tell_pid(struct bjob *j, pid_t b);
void ipck__bench_row_init(const struct bjob *j, struct ipck_bench_row *r, size_t size);
/*
 * Pin the calling process (side 0 = A, 1 = B): to the caller's CPUs when it
 * pinned; for a target whose two sides spin, to two distinct CPUs (two
 * spinners on one CPU measure the scheduler, not the hardware); else as
 * opts.place says (both on one CPU, on two, or left to the scheduler).
 * Fork a child that dies with us.
 */
void ipck__bench_pin(const struct bjob *j, int side);
pid_t ipck__bench_fork(void);
double ipck__bench_median(double *v, unsigned n);
int64_t ipck__bench_cpu_ns(void);
void ipck__bench_sort(int64_t *v, size_t n);

/* Transports and probes (bench_tp.c, bench_raw.c, bench_ref.c). */
extern const struct btp ipck__btp_chan, ipck__btp_peer, ipck__btp_ring;
extern const struct btp ipck__btp_raw_pipe, ipck__btp_raw_socketpair, ipck__btp_raw_fifo,
	ipck__btp_raw_unix, ipck__btp_raw_seqpacket, ipck__btp_raw_dgram, ipck__btp_raw_tcp,
	ipck__btp_raw_udp, ipck__btp_raw_svmsg, ipck__btp_raw_pmsg;
int ipck__bench_cacheline(struct bjob *j);

/* bench_raw.c: plain descriptor I/O shared by the raw references. */
ssize_t ipck__braw_write_all(struct blink *l, const void *msg, size_t len, int tmo);
ssize_t ipck__braw_read_all(struct blink *l, void *buf, size_t len, int tmo);
ssize_t ipck__braw_send(struct blink *l, const void *msg, size_t len, int tmo);
ssize_t ipck__braw_recv(struct blink *l, void *buf, size_t len, int tmo);
void ipck__braw_close(struct blink *l, int side);
int ipck__bench_memcpy(struct bjob *j);

#endif
