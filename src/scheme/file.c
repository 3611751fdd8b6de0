/*
 * file.c - "file:/path": two processes through plain files, on any file
 * system, NFS included.  The listener creates three files (0600 or mode=,
 * O_EXCL, never through a symlink):
 *   /path       the rendezvous (struct fctl): who listens, which connection
 *               is the current one, and the liveness locks;
 *   /path.c2s   the log the connecting side writes and the listener's reads;
 *   /path.s2c   the log the other way.
 * Logs are append-only records with checksums (flog.c); each reader's
 * position is saved in its log, so a reader that comes back goes on where it
 * stopped (from=saved, the default) or starts over (from=start).  The last
 * side to close removes the files, unless a side asked keep=1.
 *
 * Liveness: every side holds a write lock on its own byte of /path while it
 * is open: the listener byte 1, connection g's connecting side byte 16+2g,
 * its accepted side 17+2g.  The kernel (or NFS's lock manager) drops them
 * when a process dies, so a lock test says "the peer is still there" from
 * any machine; on the same machine (boot id and pid namespace alike) a pidfd
 * also wakes a waiting reader at once, and elsewhere a timer (every 100 ms,
 * or poll_ms) wakes it to test the lock.  A side that closes appends a
 * goodbye record to the log it writes.
 *
 * Wake-ups: inotify IN_MODIFY on the log being read; on network file
 * systems (statfs f_type), where inotify misses other machines' writes, or
 * with poll_ms=N, a timerfd every N ms (100 by default) instead.
 *
 * Traps: without OFD locks (fcntl falls back to classic POSIX locks) a
 * process drops all its locks on a file when it closes any descriptor of it,
 * and its own locks never conflict, so two channels on one path in one
 * process see each other as gone.  A lock held through a descriptor that a
 * fork copied lives as long as that copy.  Nothing is fsync'ed: records
 * survive the processes, not a machine crash.
 */
#include "../flog.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define CTL_LOCK 0                         /* held while the rendezvous changes */
#define CTL_LISTENER 1                     /* held by the listener */
#define CTL_CONN(g) (16 + 2 * (off_t)(g))  /* connection g's connecting side; +1 accepted */
#define POLL_MS_DEFAULT 100
#define HOST_LEN 64
#define FCTL_KEEP 1u                       /* a side asked keep=1 */
#define GEN_MAX ((uint64_t)1 << 60)        /* keeps CTL_CONN within off_t */

/* The rendezvous file, little-endian on disk. */
struct fctl {
	uint32_t magic;          /* FCTL_MAGIC */
	uint32_t version;        /* FLOG_VERSION */
	uint64_t gen;            /* connections made so far: the current one */
	uint64_t accepted;       /* the last connection a listener took */
	int32_t lpid, cpid;      /* the listener's and the current connector's pid */
	uint32_t flags;          /* FCTL_KEEP */
	uint32_t pad;
	char lhost[HOST_LEN];    /* where they run: boot id and pid namespace */
	char chost[HOST_LEN];
};

struct file_priv {
	int ctl;                 /* /path, our own open file: our own locks */
	bool classic;            /* no OFD locks on this file system */
	int ino, tfd;            /* inotify on what we wait for; a timer, or -1 */
	int nfd;                 /* what we wait on: one of them, or an epoll of both */
	bool polling;            /* no inotify: look at every tick, under a read lock */
	struct flog in, out;     /* the log we read and the one we write */
	uint64_t gen;            /* our connection; a listener: the last it took */
	off_t me, peer;          /* our liveness byte and the peer's */
	bool peer_seen;          /* the peer's byte was held once */
};

enum { PATH_CTL, PATH_C2S, PATH_S2C };

/* The name of one of the files; file_parse made sure it fits in PATH_MAX. */
static void file_path(char *out, const struct ipck_url *u, int which)
{
	static const char suffix[][5] = {"", ".c2s", ".s2c"};
	size_t n = strlen(u->addr);
	memcpy(out, u->addr, n);
	memcpy(out + n, suffix[which], strlen(suffix[which]) + 1);
}

static int file_parse(struct ipck_url *u)
{
	size_t n = strlen(u->addr);
	if (!n || n + 4 >= PATH_MAX || u->addr[n - 1] == '/')
		return -EINVAL;
	return 0;
}

/*
 * Create a file (exclusively) or open an existing one: never through a
 * symlink, never blocking on a FIFO; it must be a regular file, and an
 * existing one ours (or peer_uid's).
 */
static int file_open1(const struct ipck_url *u, const char *path, bool create)
{
	int fl = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (create ? O_CREAT | O_EXCL : 0);
	int fd = open(path, fl, 0600);
	struct stat st;
	if (fd < 0)
		return errno == EEXIST ? -EADDRINUSE : -errno;
	int r = fstat(fd, &st) < 0 ? -errno : 0;
	if (!r && !S_ISREG(st.st_mode))
		r = create ? -EIO : -EPROTO;
	if (!r && create && fchmod(fd, u->mode & 0777) < 0)
		r = -errno;
	if (!r && !create)
		r = ipck__check_owner(u, st.st_uid);
	if (r)
		close(fd);
	return r ? r : fd;
}

/* Where this process runs; equal strings mean a pid means the same process. */
static void host_id(char *out)
{
	char boot[40] = "", ns[32] = "";
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, boot, 36) : -1;
	boot[n > 0 ? n : 0] = '\0';
	ipck__close_fd(fd);
	n = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
	ns[n > 0 ? n : 0] = '\0';
	memset(out, 0, HOST_LEN);
	if (boot[0] && ns[0])
		snprintf(out, HOST_LEN, "%s %s", boot, ns);
}

/* ---- the rendezvous file ------------------------------------------------ */

static int ctl_read(int fd, struct fctl *k)
{
	int r = ipck__flog_pread(fd, k, sizeof(*k), 0);
	if (r)
		return r;   /* -EAGAIN: the listener has not written it yet */
	if (le32toh(k->magic) != FCTL_MAGIC || le32toh(k->version) != FLOG_VERSION)
		return -EPROTO;
	k->gen = le64toh(k->gen);
	k->accepted = le64toh(k->accepted);
	k->lpid = (int32_t)le32toh((uint32_t)k->lpid);
	k->cpid = (int32_t)le32toh((uint32_t)k->cpid);
	k->flags = le32toh(k->flags);
	k->lhost[HOST_LEN - 1] = k->chost[HOST_LEN - 1] = '\0';
	return k->gen < GEN_MAX && k->accepted <= k->gen ? 0 : -EPROTO;
}

static int ctl_write(int fd, const struct fctl *k)
{
	struct fctl le = *k;
	le.magic = htole32(FCTL_MAGIC);
	le.version = htole32(FLOG_VERSION);
	le.gen = htole64(k->gen);
	le.accepted = htole64(k->accepted);
	le.lpid = (int32_t)htole32((uint32_t)k->lpid);
	le.cpid = (int32_t)htole32((uint32_t)k->cpid);
	le.flags = htole32(k->flags);
	return ipck__flog_pwrite(fd, &le, sizeof(le), 0);
}

/* ---- wake-ups ------------------------------------------------------------- */

/* File systems whose other clients' writes inotify does not see. */
static bool net_fs(int fd)
{
	static const uint32_t net[] = {
		0x6969, 0x517b, 0xff534d42, 0xfe534d42,   /* NFS, SMB, CIFS, SMB2 */
		0x65735546, 0x00c36400, 0x5346414f,        /* FUSE, Ceph, AFS */
		0x01021997, 0x01161970, 0x7461636f,        /* 9P, GFS2, OCFS2 */
		0x0bd00bd0, 0x73757245, 0x564c,            /* Lustre, Coda, NCP */
	};
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return true;   /* unknown: polling always works */
	for (size_t i = 0; i < sizeof(net) / sizeof(net[0]); i++)
		if ((uint32_t)sf.f_type == net[i])
			return true;
	return false;
}

/* inotify on the open file fd (through /proc, so no path race), or -1. */
static int inotify_on(int fd)
{
	char proc[32];
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (in >= 0 && inotify_add_watch(in, proc, IN_MODIFY) < 0) {
		close(in);
		return -1;
	}
	return in;
}

static int timer_every(unsigned ms)
{
	struct itimerspec it;
	it.it_interval.tv_sec = ms / 1000;
	it.it_interval.tv_nsec = (long)(ms % 1000) * 1000000;
	it.it_value = it.it_interval;
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t < 0)
		return -errno;
	if (timerfd_settime(t, 0, &it, NULL) < 0) {
		int e = -errno;
		close(t);
		return e;
	}
	return t;
}

static int epoll_of(int a, int b)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	ev.data.fd = a;
	int r = epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev);
	ev.data.fd = b;
	if (r < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, b, &ev) < 0) {
		r = -errno;
		close(ep);
		return r;
	}
	return ep;
}

/*
 * What wakes a wait on fd: inotify, or a timer where inotify cannot see the
 * writes (network file systems, poll_ms=); tick adds the timer to inotify
 * when nothing else would tell that the peer died (no pidfd for it).
 */
static int notify_open(struct file_priv *f, const struct ipck_url *u, int fd, bool tick)
{
	if (!u->poll_ms && !net_fs(fd))
		f->ino = inotify_on(fd);
	f->polling = f->ino < 0;
	if (f->polling || tick) {
		f->tfd = timer_every(u->poll_ms ? u->poll_ms : POLL_MS_DEFAULT);
		if (f->tfd < 0)
			return f->tfd;
	}
	f->nfd = f->ino < 0 ? f->tfd : f->tfd < 0 ? f->ino : epoll_of(f->ino, f->tfd);
	return f->nfd < 0 ? f->nfd : 0;
}

static void notify_drain(const struct file_priv *f)
{
	uint64_t buf[512];
	while (f->ino >= 0 && read(f->ino, buf, sizeof(buf)) > 0)
		;
	while (f->tfd >= 0 && read(f->tfd, buf, sizeof(buf)) > 0)
		;
}

/* ---- liveness -------------------------------------------------------------- */

static bool peer_alive(ipck_chan *ch)
{
	struct file_priv *f = ipck__priv(ch);
	if (ch->peer_fd >= 0 && ipck__peer_gone(ch))
		return false;
	int h = ipck__flk_held(f->ctl, f->classic, f->peer, 1);
	if (h > 0)
		f->peer_seen = true;
	if (h != 0 || f->peer_seen || ch->role != ROLE_CLIENT)
		return h != 0;   /* an error: rather alive than a false end */
	/* Not accepted yet: the listener stands for the side that will be. */
	struct fctl k;
	if (ctl_read(f->ctl, &k) < 0)
		return true;
	if (k.accepted >= f->gen)   /* accepted meanwhile: look again */
		return ipck__flk_held(f->ctl, f->classic, f->peer, 1) != 0;
	return ipck__flk_held(f->ctl, f->classic, CTL_LISTENER, 1) != 0;
}

static void priv_init(struct file_priv *f)
{
	f->ctl = f->ino = f->tfd = f->nfd = f->in.fd = f->out.fd = -1;
}

/* Close every descriptor; the locks go with them. */
static void file_release(ipck_chan *ch)
{
	struct file_priv *f = ipck__priv(ch);
	if (f->nfd != f->ino && f->nfd != f->tfd)
		ipck__close_fd(f->nfd);   /* the epoll of both */
	ipck__close_fd(f->ino);
	ipck__close_fd(f->tfd);
	ipck__close_fd(f->in.fd);
	ipck__close_fd(f->out.fd);
	ipck__close_fd(f->ctl);
	priv_init(f);
}

/* Remove files 0..upto, all of which this side has just created. */
static void unlink_made(const struct ipck_url *u, int upto)
{
	char p[PATH_MAX];
	for (int i = 0; i <= upto; i++) {
		file_path(p, u, i);
		unlink(p);
	}
}

/* ---- the listener -------------------------------------------------------- */

/* Take the listener's byte and say who listens. */
static int listen_publish(ipck_chan *ch, struct fctl *k)
{
	struct file_priv *f = ipck__priv(ch);
	int r = ipck__flk_lock(f->ctl, &f->classic, F_WRLCK, CTL_LISTENER, ipck__deadline(0));
	if (r)
		return r == -ETIMEDOUT ? -EADDRINUSE : r;
	k->lpid = getpid();
	host_id(k->lhost);
	k->accepted = k->gen;   /* connections before us are over */
	k->flags |= ch->url.keep ? FCTL_KEEP : 0;
	f->gen = k->gen;
	return ctl_write(f->ctl, k);
}

/* A new rendezvous: the logs first, then the head that says they are there. */
static int listen_create(ipck_chan *ch)
{
	char p[PATH_MAX];
	int r = 0, made = PATH_CTL;
	for (int i = PATH_C2S; i <= PATH_S2C && !r; i++) {
		file_path(p, &ch->url, i);
		int fd = file_open1(&ch->url, p, true);
		if (fd < 0)
			r = fd;
		else
			made = i;
		if (fd >= 0) {
			r = ipck__flog_init(fd);
			close(fd);
		}
	}
	if (!r)
		r = listen_publish(ch, &(struct fctl){0});
	if (r)
		unlink_made(&ch->url, made);
	return r;
}

/* Files kept (keep=1) by a rendezvous nobody uses any more: take them up. */
static int listen_reattach(ipck_chan *ch)
{
	struct file_priv *f = ipck__priv(ch);
	struct fctl k;
	char p[PATH_MAX];
	if (ctl_read(f->ctl, &k) < 0 || ipck__flk_held(f->ctl, f->classic, CTL_LISTENER, 0) != 0)
		return -EADDRINUSE;   /* not ours, or someone is still there */
	for (int i = PATH_C2S; i <= PATH_S2C; i++) {
		file_path(p, &ch->url, i);
		int fd = file_open1(&ch->url, p, false);
		if (fd < 0)
			return fd;
		int r = ipck__flog_check(fd);
		close(fd);
		if (r)
			return r;
	}
	return listen_publish(ch, &k);
}

static int file_listen(ipck_chan *ch)
{
	struct file_priv *f = ipck__priv(ch);
	char p[PATH_MAX];
	file_path(p, &ch->url, PATH_CTL);
	int fd = file_open1(&ch->url, p, true);
	bool fresh = fd >= 0;
	if (fd == -EADDRINUSE && ch->url.keep)
		fd = file_open1(&ch->url, p, false);
	if (fd < 0)
		return fd;
	f->ctl = fd;
	int r = ipck__flk_lock(fd, &f->classic, F_WRLCK, CTL_LOCK, ipck__deadline(ch->url.timeout_ms));
	if (!r) {
		r = fresh ? listen_create(ch) : listen_reattach(ch);
		ipck__flk_unlock(fd, f->classic, CTL_LOCK);
	} else if (fresh) {
		unlink_made(&ch->url, PATH_CTL);
	}
	if (!r && (r = notify_open(f, &ch->url, fd, false)) && fresh)
		unlink_made(&ch->url, PATH_S2C);
	if (r)
		file_release(ch);
	return r;
}

/* ---- both sides of a connection ------------------------------------------- */

/* Open the logs, repair the one we write, find our place in the one we read. */
static int conn_attach(ipck_chan *ch, pid_t pid, const char *host, deadline_t dl)
{
	struct file_priv *f = ipck__priv(ch);
	bool server = ch->role == ROLE_SERVER;
	char p[PATH_MAX], here[HOST_LEN];
	file_path(p, &ch->url, server ? PATH_C2S : PATH_S2C);
	f->in.fd = file_open1(&ch->url, p, false);
	file_path(p, &ch->url, server ? PATH_S2C : PATH_C2S);
	f->out.fd = file_open1(&ch->url, p, false);
	if (f->in.fd < 0 || f->out.fd < 0)
		return f->in.fd < 0 ? f->in.fd : f->out.fd;
	int r = ipck__flk_lock(f->out.fd, &f->classic, F_WRLCK, FLOG_LOCK_APPEND, dl);
	if (r)
		return r;
	r = ipck__flog_writer(&f->out);
	ipck__flk_unlock(f->out.fd, f->classic, FLOG_LOCK_APPEND);
	if (!r)
		r = ipck__flog_reader(&f->in, ch->url.from_start);
	if (r)
		return r;
	ch->max_msg = IPCK_STREAM_MAX;
	host_id(here);
	if (host[0] && !strcmp(host, here))
		ipck__watch_peer(ch, pid);   /* best effort: else the lock test tells */
	/* A peer elsewhere (another machine, another pid namespace) dies without
	 * a word to inotify: then a timer wakes waits to test its lock. */
	return notify_open(f, &ch->url, f->in.fd, ch->peer_fd < 0);
}

/* Claim the next connection: 0, -EAGAIN / -EBUSY to try again, or an error. */
static int claim(ipck_chan *ch, struct fctl *k, deadline_t dl)
{
	struct file_priv *f = ipck__priv(ch);
	int r = ipck__flk_lock(f->ctl, &f->classic, F_WRLCK, CTL_LOCK, dl);
	if (r)
		return r == -ETIMEDOUT ? -ECONNREFUSED : r;
	r = ctl_read(f->ctl, k);
	if (!r && ipck__flk_held(f->ctl, f->classic, CTL_LISTENER, 1) <= 0)
		r = -ECONNREFUSED;   /* nobody listens (files kept by keep=1) */
	if (!r && k->gen && ipck__flk_held(f->ctl, f->classic, CTL_CONN(k->gen), 1) > 0)
		r = -EBUSY;          /* one connection at a time */
	if (!r) {
		k->gen++;
		k->cpid = getpid();
		k->flags |= ch->url.keep ? FCTL_KEEP : 0;
		host_id(k->chost);
		r = ipck__flk_lock(f->ctl, &f->classic, F_WRLCK, CTL_CONN(k->gen), ipck__deadline(0));
		if (!r && (r = ctl_write(f->ctl, k)))
			ipck__flk_unlock(f->ctl, f->classic, CTL_CONN(k->gen));
	}
	ipck__flk_unlock(f->ctl, f->classic, CTL_LOCK);
	return r;
}

static int file_connect(ipck_chan *ch)
{
	struct file_priv *f = ipck__priv(ch);
	deadline_t dl = ipck__deadline(ch->url.timeout_ms);
	char p[PATH_MAX];
	struct fctl k;
	int r;
	file_path(p, &ch->url, PATH_CTL);
	if ((f->ctl = file_open1(&ch->url, p, false)) < 0)
		return f->ctl == -ENOENT ? -ECONNREFUSED : f->ctl;
	for (unsigned i = 0;; i++) {
		r = claim(ch, &k, dl);
		if ((r != -EAGAIN && r != -EBUSY) || ipck__ms_left(dl) == 0)
			break;
		ipck__backoff(i, dl);
	}
	if (r == -EAGAIN)
		r = -ECONNREFUSED;
	if (!r) {
		f->gen = k.gen;
		f->me = CTL_CONN(k.gen);
		f->peer = f->me + 1;
		r = conn_attach(ch, k.lpid, k.lhost, dl);
	}
	if (r)
		file_release(ch);
	return r;
}

static int file_open(ipck_chan *ch, int flags)
{
	priv_init(ipck__priv(ch));
	ch->max_msg = IPCK_STREAM_MAX;
	return (flags & IPCK_LISTEN) ? file_listen(ch) : file_connect(ch);
}

/* The accepted side of connection k->gen, with its own open of /path. */
static int server_take(ipck_chan *c, const struct file_priv *lf, struct fctl *k, deadline_t dl)
{
	struct file_priv *f = ipck__priv(c);
	char proc[32];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", lf->ctl);
	if ((f->ctl = open(proc, O_RDWR | O_CLOEXEC)) < 0)
		return -errno;
	f->classic = lf->classic;
	f->gen = k->gen;
	f->me = CTL_CONN(k->gen) + 1;
	f->peer = CTL_CONN(k->gen);
	k->accepted = k->gen;
	int r = ipck__flk_lock(f->ctl, &f->classic, F_WRLCK, f->me, dl);
	if (!r)
		r = conn_attach(c, k->cpid, k->chost, dl);
	if (!r)
		r = ctl_write(f->ctl, k);
	if (r)
		file_release(c);
	return r;
}

/* 1 when a connection was taken, 0 when none waits, or an error. */
static int accept_take(ipck_chan *l, ipck_chan *c, deadline_t dl)
{
	struct file_priv *lf = ipck__priv(l);
	struct fctl k;
	int r = ipck__flk_lock(lf->ctl, &lf->classic, F_WRLCK, CTL_LOCK, dl);
	if (r)
		return r;
	r = ctl_read(lf->ctl, &k);
	if (!r && k.gen > lf->gen) {
		/* Even if its connector has left already: what it wrote is there
		 * to be read, then the end, as with a socket. */
		lf->gen = k.gen;
		r = server_take(c, lf, &k, dl) ?: 1;
	}
	notify_drain(lf);   /* our own write */
	ipck__flk_unlock(lf->ctl, lf->classic, CTL_LOCK);
	return r;
}

static int file_accept(ipck_chan *l, ipck_chan *c, int timeout_ms)
{
	struct file_priv *lf = ipck__priv(l);
	deadline_t dl = ipck__deadline(timeout_ms);
	priv_init(ipck__priv(c));
	for (;;) {
		notify_drain(lf);
		int r = accept_take(l, c, dl);
		if (r)
			return r < 0 ? r : 0;
		r = ipck__wait_fd(l, lf->nfd, POLLIN, dl);
		if (r)
			return r;
	}
}

/* ---- messages ---------------------------------------------------------------- */

static ssize_t file_send(ipck_chan *ch, const void *msg, size_t len, int timeout_ms)
{
	struct file_priv *f = ipck__priv(ch);
	if (ch->eof)
		return -EPIPE;
	int r = ipck__flk_lock(f->out.fd, &f->classic, F_WRLCK, FLOG_LOCK_APPEND,
			       ipck__deadline(timeout_ms));
	if (r)
		return r;
	/* Under the lock, so that no writer of an older connection slips in. */
	ssize_t n = peer_alive(ch) ? ipck__flog_append(&f->out, REC_DATA, f->gen, msg, len) : -EPIPE;
	ipck__flk_unlock(f->out.fd, f->classic, FLOG_LOCK_APPEND);
	return n;
}

/* Read the next record; polling, under a read lock (NFS revalidates then). */
static ssize_t rec_read(struct file_priv *f, void *buf, size_t cap, struct frec *h)
{
	if (!f->polling)
		return ipck__flog_read(&f->in, buf, cap, h);
	int r = ipck__flk_lock(f->in.fd, &f->classic, F_RDLCK, FLOG_LOCK_APPEND, ipck__deadline(0));
	if (r)
		return r == -ETIMEDOUT ? -EAGAIN : r;   /* being written */
	ssize_t n = ipck__flog_read(&f->in, buf, cap, h);
	ipck__flk_unlock(f->in.fd, f->classic, FLOG_LOCK_APPEND);
	return n;
}

/* The next data message: its length, -EAGAIN (none yet), -EPIPE, -EMSGSIZE... */
static ssize_t next_record(ipck_chan *ch, void *buf, size_t cap)
{
	struct file_priv *f = ipck__priv(ch);
	struct frec h;
	while (!ch->eof) {
		ssize_t n = rec_read(f, buf, cap, &h);
		if (n == -EMSGSIZE)
			ch->next_size = h.len;
		if (n == -EPROTO)
			ch->err = -EPROTO;   /* out of sequence: not a log we can trust */
		if (n < 0)
			return n;
		ipck__flog_consume(&f->in, &h);
		if (h.tag == REC_DATA)
			return n;
		if (h.tag == REC_BYE && h.gen == f->gen)
			ch->eof = true;
		/* another connection's goodbye (from=start): skip it */
	}
	return -EPIPE;
}

/* After a receive: forget our own wake-ups, mark the pollset. */
static void recv_mark(ipck_chan *ch)
{
	struct file_priv *f = ipck__priv(ch);
	struct stat st;
	notify_drain(f);   /* saving our position modified the log we watch */
	if (ch->poll_ev < 0)
		return;
	bool more = fstat(f->in.fd, &st) == 0 && (uint64_t)st.st_size > f->in.off;
	ipck__poll_mark(ch, ch->eof || more);
}

static ssize_t file_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms)
{
	struct file_priv *f = ipck__priv(ch);
	deadline_t dl = ipck__deadline(timeout_ms);
	bool gone = false;
	for (;;) {
		notify_drain(f);
		ssize_t n = next_record(ch, buf, cap);
		if (n == -EAGAIN && gone) {   /* it left nothing more: the end */
			ch->eof = true;
			n = -EPIPE;
		}
		if (n != -EAGAIN) {
			recv_mark(ch);
			return n;
		}
		if (!peer_alive(ch)) {   /* look once more: what it wrote before dying */
			gone = true;
			continue;
		}
		int r = ipck__wait_fd(ch, f->nfd, POLLIN, dl);
		if (r == -EPIPE)
			gone = true;
		else if (r)
			return r;
	}
}

static int file_pollfd(const ipck_chan *cch)
{
	ipck_chan *ch = (ipck_chan *)cch;   /* the pollset is made on demand */
	struct file_priv *f = ipck__priv(ch);
	if (ch->role == ROLE_LISTENER)
		return f->nfd;
	int r = ipck__pollset(ch, f->nfd);
	if (r >= 0)
		recv_mark(ch);
	return r;
}

/* ---- closing and removing ------------------------------------------------ */

/* Remove the file if it is one of ours: a rendezvous or a log. */
static int unlink_ours(const char *p, uint32_t magic)
{
	uint32_t m = 0;
	struct stat st;
	int fd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = fstat(fd, &st) < 0 ? -errno : 0;
	if (!r && (!S_ISREG(st.st_mode) || (st.st_size && (ipck__flog_pread(fd, &m, 4, 0) ||
							    le32toh(m) != magic))))
		r = -EPERM;   /* not ours: never removed */
	close(fd);
	if (!r && unlink(p) < 0)
		r = -errno;
	return r;
}

static int file_unlink(const struct ipck_url *u)
{
	char p[PATH_MAX];
	int first = 0;
	bool any = false;
	for (int i = PATH_CTL; i <= PATH_S2C; i++) {
		file_path(p, u, i);
		int r = unlink_ours(p, i == PATH_CTL ? FCTL_MAGIC : FLOG_MAGIC);
		if (!r)
			any = true;
		else if (r != -ENOENT && !first)
			first = r;
	}
	return first ? first : any ? 0 : -ENOENT;
}

/* A listener leaving a connection it never accepted tells its connector. */
static void listen_bye(ipck_chan *l)
{
	struct file_priv *f = ipck__priv(l);
	struct fctl k;
	char p[PATH_MAX];
	if (ctl_read(f->ctl, &k) < 0 || k.gen <= k.accepted)
		return;
	file_path(p, &l->url, PATH_S2C);
	struct flog lg = {.fd = file_open1(&l->url, p, false)};
	if (lg.fd < 0)
		return;
	if (!ipck__flk_lock(lg.fd, &f->classic, F_WRLCK, FLOG_LOCK_APPEND, ipck__deadline(1000))) {
		if (!ipck__flog_writer(&lg))
			ipck__flog_append(&lg, REC_BYE, k.gen, "", 0);
		ipck__flk_unlock(lg.fd, f->classic, FLOG_LOCK_APPEND);
	}
	close(lg.fd);
}

/* Drop our liveness byte; the last side out removes the files. */
static void file_leave(ipck_chan *ch)
{
	struct file_priv *f = ipck__priv(ch);
	struct fctl k;
	if (ipck__flk_lock(f->ctl, &f->classic, F_WRLCK, CTL_LOCK, ipck__deadline(1000)))
		return;   /* cannot tell whether we are the last: keep the files */
	if (ch->role == ROLE_LISTENER)
		listen_bye(ch);
	bool last = ipck__flk_held(f->ctl, f->classic, CTL_LISTENER, 0) == 0;
	bool keep = ch->url.keep || ctl_read(f->ctl, &k) < 0 || (k.flags & FCTL_KEEP);
	ipck__flk_unlock(f->ctl, f->classic, f->me);
	if (last && !keep)
		file_unlink(&ch->url);
	ipck__flk_unlock(f->ctl, f->classic, CTL_LOCK);
}

static int file_close(ipck_chan *ch)
{
	struct file_priv *f = ipck__priv(ch);
	if (ch->role == ROLE_LISTENER)
		f->me = CTL_LISTENER;
	else if (!ipck__flk_lock(f->out.fd, &f->classic, F_WRLCK, FLOG_LOCK_APPEND,
				 ipck__deadline(1000))) {
		ipck__flog_append(&f->out, REC_BYE, f->gen, "", 0);
		ipck__flk_unlock(f->out.fd, f->classic, FLOG_LOCK_APPEND);
	}
	file_leave(ch);
	file_release(ch);
	return 0;
}

const struct ipck_scheme ipck__scheme_file = {
	.info = {"file", "append-only record logs in plain files, one per direction (NFS too)",
		 IPCK_CAP_NAMED | IPCK_CAP_NETWORK},
	.opts = OPT_MODE | OPT_PEER_UID | OPT_TIMEOUT | OPT_FROM | OPT_KEEP | OPT_POLL_MS,
	.priv_size = sizeof(struct file_priv),
	.parse = file_parse,
	.open = file_open,
	.accept = file_accept,
	.send = file_send,
	.recv = file_recv,
	.pollfd = file_pollfd,
	.close = file_close,
	.unlink = file_unlink,
};
