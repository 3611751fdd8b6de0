/*
 * bench.c - the benchmark engine behind `ipckit bench` (process E).
 *
 * Builds the list of targets from the scheme table (so a new scheme is
 * measured without an edit here), the raw system-call references, the
 * hardware references and the caller's peers; then runs each target in a
 * forked driver A (bench_run.c) in a process group of its own, so a stop
 * kills A and its partner B at once.  Every name a target uses (a private
 * directory, POSIX names and System V keys made from our pid) is chosen
 * here, so everything can be removed here, whatever happened to A and B.
 * Rows travel from A over a pipe; the caller's callbacks run only in E.
 */
#include "bench.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TARGETS 96

static const struct { const char *name; const struct btp *tp; } raw_targets[] = {
	{"raw-pipe", &ipck__btp_raw_pipe},
	{"raw-socketpair", &ipck__btp_raw_socketpair},
	{"raw-fifo", &ipck__btp_raw_fifo},
	{"raw-unix", &ipck__btp_raw_unix},
	{"raw-unix-seqpacket", &ipck__btp_raw_seqpacket},
	{"raw-unix-dgram", &ipck__btp_raw_dgram},
	{"raw-tcp", &ipck__btp_raw_tcp},
	{"raw-udp", &ipck__btp_raw_udp},
	{"raw-svmsg", &ipck__btp_raw_svmsg},
	{"raw-pmsg", &ipck__btp_raw_pmsg},
};
#define NRAW (sizeof(raw_targets) / sizeof(raw_targets[0]))
#define NREF 3   /* bare-ring, cacheline, memcpy */

static const size_t default_sizes[] = {64, 1024, 65536, 1048576};

struct run {
	const struct ipck_bench_opts *o;
	int (*cb)(const struct ipck_bench_row *, void *);
	void *arg;
	struct btarget t[MAX_TARGETS];
	size_t nt;
	struct bjob job;       /* template: sizes, reps, budget, pinning */
	char dir[160];
	unsigned done, total;
	bool stopped;
};

IPCK_API const char *ipck_bench_target_at(size_t i)
{
	static const char *const refs[NREF] = {"bare-ring", "cacheline", "memcpy"};
	size_t ns = 0;
	while (ipck__schemes[ns])
		ns++;
	if (i < ns)
		return ipck__schemes[i]->info.name;
	i -= ns;
	if (i < NRAW)
		return raw_targets[i].name;
	i -= NRAW;
	return i < NREF ? refs[i] : NULL;
}

/* ---- which targets ------------------------------------------------------- */

/* Is word, or its group, or "all" in the comma list?  NULL selects everything. */
static bool listed(const char *list, const char *word, const char *group)
{
	if (!list)
		return true;
	size_t wn = strlen(word), gn = strlen(group);
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		if ((n == wn && !memcmp(p, word, n)) || (n == gn && !memcmp(p, group, n)) ||
		    (n == 3 && !memcmp(p, "all", 3)))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

static struct btarget *add(struct run *R, const char *name, const char *wait, bool ref)
{
	if (R->nt == MAX_TARGETS)
		return NULL;
	struct btarget *t = &R->t[R->nt++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->wait = wait;
	t->ref = ref;
	return t;
}

static void add_schemes(struct run *R)
{
	for (size_t i = 0; ipck__schemes[i]; i++) {
		const struct ipck_scheme *sc = ipck__schemes[i];
		if (!listed(R->o->names, sc->info.name, "lib"))
			continue;
		bool ring = sc->opts & OPT_SPIN_US;
		struct btarget *t = add(R, sc->info.name, ring ? "spin" : "kernel", false);
		if (t)
			t->tp = &ipck__btp_chan, t->sc = sc, t->spins = ring;
		if (ring && (t = add(R, sc->info.name, "sleep", false)))
			t->tp = &ipck__btp_chan, t->sc = sc, t->sleep_only = true;
	}
}

static void add_refs(struct run *R)
{
	struct btarget *t;
	for (size_t i = 0; i < NRAW; i++)
		if (listed(R->o->names, raw_targets[i].name, "raw") &&
		    (t = add(R, raw_targets[i].name, "kernel", true)))
			t->tp = raw_targets[i].tp;
	if (listed(R->o->names, "bare-ring", "ref") && (t = add(R, "bare-ring", "spin", true)))
		t->tp = &ipck__btp_ring, t->spins = true;
	if (listed(R->o->names, "cacheline", "ref") && (t = add(R, "cacheline", "spin", true)))
		t->probe = ipck__bench_cacheline, t->spins = true;
	if (listed(R->o->names, "memcpy", "ref") && (t = add(R, "memcpy", "none", true)))
		t->probe = ipck__bench_memcpy;
	for (size_t i = 0; R->o->peers && R->o->peers[i]; i++)
		if (listed(R->o->names, R->o->peers[i]->name, "peer") &&
		    (t = add(R, R->o->peers[i]->name, "kernel", true)))
			t->tp = &ipck__btp_peer, t->peer = R->o->peers[i];
}

/* Every word of the list names a target or a group. */
static int check_names(const struct ipck_bench_opts *o)
{
	static const char *const groups[] = {"all", "lib", "raw", "ref", "peer"};
	for (const char *p = o->names; p && *p;) {
		size_t n = strcspn(p, ","), k;
		bool ok = false;
		const char *w;
		for (k = 0; (w = ipck_bench_target_at(k)); k++)
			ok |= strlen(w) == n && !memcmp(w, p, n);
		for (k = 0; k < sizeof(groups) / sizeof(groups[0]); k++)
			ok |= strlen(groups[k]) == n && !memcmp(groups[k], p, n);
		for (k = 0; o->peers && o->peers[k]; k++)
			ok |= strlen(o->peers[k]->name) == n && !memcmp(o->peers[k]->name, p, n);
		if (!ok)
			return -EINVAL;
		p += n + (p[n] == ',');
	}
	return 0;
}

/* ---- options -------------------------------------------------------------- */

static int check_cpu(int cpu)
{
	cpu_set_t set;
	if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof(set), &set) < 0)
		return -EINVAL;
	return CPU_ISSET(cpu, &set) ? 0 : -EINVAL;
}

/* The first two CPUs we may run on, for the spinning references. */
static void spread_cpus(int out[2])
{
	cpu_set_t set;
	out[0] = out[1] = -1;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	for (int c = 0, k = 0; c < CPU_SETSIZE && k < 2; c++)
		if (CPU_ISSET(c, &set))
			out[k++] = c;
}

static int setup_job(struct run *R)
{
	const struct ipck_bench_opts *o = R->o;
	struct bjob *j = &R->job;
	const size_t *sz = o->sizes ? o->sizes : default_sizes;
	size_t n = o->sizes ? o->nsizes : 4;
	if (!n || n > BENCH_MAX_SIZES || o->reps > 64 || o->rounds > (1ull << 26))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (sz[i] < 1 || sz[i] > (64u << 20))
			return -EINVAL;
		j->sizes[i] = sz[i];
	}
	j->nsizes = n;
	j->rounds = o->rounds;
	j->reps = o->reps ? o->reps : o->quick ? 3 : 5;
	j->phase_ns = o->quick ? 15000000 : 100000000;
	j->pin = o->pin;
	j->place = o->place;
	if (o->place < IPCK_PLACE_ANY || o->place > IPCK_PLACE_TWO)
		return -EINVAL;
	if (o->pin && (check_cpu(o->cpu[0]) || check_cpu(o->cpu[1])))
		return -EINVAL;
	j->cpu[0] = o->cpu[0];
	j->cpu[1] = o->cpu[1];
	spread_cpus(j->spread);
	return check_names(o);
}

/* ---- names -------------------------------------------------------------- */

static int free_port(int type)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), port = -errno;
	if (fd < 0)
		return port;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	else
		port = -errno;
	close(fd);
	return port;
}

/* Names of target number n: a path in our directory, a POSIX name, a key, a port. */
static void name_link(struct run *R, const struct btarget *t, struct blink *lk, unsigned n)
{
	memset(lk, 0, sizeof(*lk));
	lk->tp = t->tp;
	lk->peer = t->peer;
	lk->fd[0] = lk->fd[1] = lk->fd[2] = lk->fd[3] = -1;
	lk->id = -1;
	snprintf(lk->dir, sizeof(lk->dir), "%s", R->dir);
	snprintf(lk->name, sizeof(lk->name), "/ipckb%d-%u", (int)getpid(), n);
	lk->key = (key_t)(0x1b000000 | ((getpid() & 0xffff) << 8) | (n & 0xff));
	bool dgram = strstr(t->name, "udp") || (t->sc && (t->sc->info.caps & IPCK_CAP_LOSSY));
	lk->port = free_port(dgram ? SOCK_DGRAM : SOCK_STREAM);
	lk->lossy = dgram;
	lk->io_tmo = R->o->quick ? 3000 : 20000;
	lk->pair = t->sc && (t->sc->info.caps & IPCK_CAP_PAIR_ONLY);
	lk->block = R->o->block && !dgram;   /* udp's losses need the timeout */
	snprintf(lk->path, sizeof(lk->path), "%s/%s%u", R->dir, t->name, n);
}

/*
 * The URL of a libipckit scheme: the first address form its parser takes,
 * trying first the form its name suggests.
 */
/*
 * The options of a ring scheme: spin_us=0 for its sleep row, and a capacity
 * that holds four of the largest message when the default (1 MiB) would not
 * carry it, so that a ring is measured at every size.
 */
static void ring_opts(const struct btarget *t, const struct bjob *j, char *opt, size_t cap)
{
	size_t big = 0, ring = 1u << 20;
	for (size_t i = 0; i < j->nsizes; i++)
		big = j->sizes[i] > big ? j->sizes[i] : big;
	while (ring < 4 * big && ring < (256u << 20))
		ring <<= 1;
	bool grow = (t->sc->opts & OPT_CAPACITY) && ring > (1u << 20);
	int n = snprintf(opt, cap, "%s", t->sleep_only ? "?spin_us=0" : "");
	if (grow)
		snprintf(opt + n, cap - (size_t)n, "%scapacity=%zu", n ? "&" : "?", ring);
}

static int scheme_url(const struct btarget *t, const struct bjob *j, struct blink *lk)
{
	char opt[64];
	const char *s = t->sc->info.name;
	unsigned caps = t->sc->info.caps;
	ring_opts(t, j, opt, sizeof(opt));
	char c[5][320];
	struct ipck_url u;
	snprintf(c[0], sizeof(c[0]), "%s:%s%s", s, lk->path, opt);               /* a path */
	snprintf(c[1], sizeof(c[1]), "%s:%s%s", s, lk->name, opt);               /* /name */
	snprintf(c[2], sizeof(c[2]), "%s:0x%x%s", s, (unsigned)lk->key, opt);    /* key */
	snprintf(c[3], sizeof(c[3]), "%s:%s%s", s, lk->name + 1, opt);           /* name */
	snprintf(c[4], sizeof(c[4]), "%s://127.0.0.1:%d%s", s, lk->port, opt);   /* host:port */
	if (caps & IPCK_CAP_PAIR_ONLY) {
		snprintf(lk->url, sizeof(lk->url), "%s:%s", s, opt);
		return ipck__url_parse(lk->url, &u);
	}
	int pref = (caps & IPCK_CAP_NETWORK) ? 4 : !strncmp(s, "sv", 2) ? 2 :
		s[0] == 'p' ? 1 : !strcmp(s, "abstract") ? 3 : 0;
	for (int i = -1; i < 5; i++) {
		int k = i < 0 ? pref : i;
		if ((i < 0 || k != pref) && ipck__url_parse(c[k], &u) == 0) {
			snprintf(lk->url, sizeof(lk->url), "%s", c[k]);
			return 0;
		}
	}
	return -EINVAL;
}

/* Remove what is left in our directory (sockets, FIFOs, files). */
static void sweep_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

/* ---- running one target --------------------------------------------------- */

static int progress(struct run *R, const char *what)
{
	if (R->o->progress && R->o->progress(R->o->arg, R->done, R->total, what))
		R->stopped = true;
	return R->stopped ? -ECANCELED : 0;
}

/* Read a message from A; 1 when one arrived, 0 at the end, or an error. */
static int read_wire(int fd, struct bwire *w)
{
	size_t got = 0;
	while (got < sizeof(*w)) {
		ssize_t n = read(fd, (char *)w + got, sizeof(*w) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : got ? -EPROTO : 0;
		got += (size_t)n;
	}
	return w->kind == WIRE_ROW || w->kind == WIRE_PID ? 1 : -EPROTO;
}

static pid_t start_a(struct bjob *j, int *rfd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t a = ipck__bench_fork();
	if (a == 0) {
		close(p[0]);
		setpgid(0, 0);   /* A and B: one group, killed together */
		j->out_fd = p[1];
		int r = j->t->probe ? j->t->probe(j) : ipck__bench_drive(j);
		_exit(r ? 1 : 0);
	}
	close(p[1]);
	if (a < 0) {
		close(p[0]);
		return -errno;
	}
	setpgid(a, a);   /* also here: no race with our kill */
	*rfd = p[0];
	return a;
}

/* A pidfd for B, so that E can wait for its end after a kill. */
static int watch_b(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Collect A's rows until it ends, the run is stopped, or it is silent too long. */
static int collect(struct run *R, const struct btarget *t, int fd, int64_t quiet_ns, int *bfd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int64_t dl = ipck__now_ns() + quiet_ns;
	struct bwire w;
	for (;;) {
		if (progress(R, t->name))
			return -ECANCELED;
		if (ipck__now_ns() > dl)
			return -ETIMEDOUT;
		int r = poll(&p, 1, 100);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		if ((r = read_wire(fd, &w)) <= 0)
			return r;
		if (w.kind == WIRE_PID) {
			if (*bfd < 0 && w.pid > 0)
				*bfd = watch_b(w.pid);
			continue;
		}
		R->done++;
		dl = ipck__now_ns() + quiet_ns;
		if (R->cb(&w.row, R->arg)) {
			R->stopped = true;
			return -ECANCELED;
		}
	}
}

/* Kill A's group when asked; reap A; wait (1 s at most) for B to be gone. */
static void end_a(pid_t a, bool kill_it, int bfd)
{
	if (kill_it)
		kill(-a, SIGKILL);
	while (waitpid(a, NULL, 0) < 0 && errno == EINTR)
		;
	if (bfd >= 0) {
		struct pollfd p = {.fd = bfd, .events = POLLIN};
		if (kill_it)
			syscall(SYS_pidfd_send_signal, bfd, SIGKILL, NULL, 0);
		poll(&p, 1, 1000);   /* readable once B has exited */
		close(bfd);
	}
}

static int remove_obj(const struct ipck_obj *o, void *arg)
{
	if (o->url)
		ipck_remove(o->url, 0);
	return 0;
}

/*
 * After a kill: the per-connection objects a scheme names from its URL
 * ("<base>.<pid>.<n>") were not removed by their owner, and ipck_unlink
 * knows only the base.  Every POSIX name and System V key of the run starts
 * with our prefix, so remove whatever the listing finds under it.
 */
static void sweep_names(void)
{
	unsigned posix = IPCK_KIND_BIT(IPCK_KIND_PSHM) | IPCK_KIND_BIT(IPCK_KIND_PSEM) |
			 IPCK_KIND_BIT(IPCK_KIND_PMSG);
	unsigned sysv = IPCK_KIND_BIT(IPCK_KIND_SVSHM) | IPCK_KIND_BIT(IPCK_KIND_SVSEM) |
			IPCK_KIND_BIT(IPCK_KIND_SVMSG);
	char pname[48], kname[48];
	snprintf(pname, sizeof(pname), "/ipckb%d-*", (int)getpid());
	snprintf(kname, sizeof(kname), "0x1b%04x??", (unsigned)(getpid() & 0xffff));
	struct ipck_list_opts po = {.kinds = posix, .name = pname};
	struct ipck_list_opts so = {.kinds = sysv, .name = kname};
	ipck_list(&po, remove_obj, NULL);   /* best effort: nothing to report to */
	ipck_list(&so, remove_obj, NULL);
}

static void cleanup(struct run *R, const struct btarget *t, struct blink *lk, bool killed)
{
	if (killed)
		sweep_names();
	if (t->sc)
		ipck_unlink(lk->url);
	if (t->tp && t->tp->cleanup)
		t->tp->cleanup(lk);
	if (t->peer && t->peer->cleanup)
		t->peer->cleanup(R->dir);
	sweep_dir(R->dir);
}

/* A row with err for every size of a target that could not start. */
static void fail_rows(struct run *R, const struct btarget *t, int err)
{
	struct ipck_bench_row row;
	struct bjob j = R->job;
	j.t = t;
	for (size_t i = 0; i < j.nsizes && !R->stopped; i++) {
		ipck__bench_row_init(&j, &row, j.sizes[i]);
		row.err = err;
		R->done++;
		if (R->cb(&row, R->arg))
			R->stopped = true;
	}
}

static int run_target(struct run *R, const struct btarget *t, unsigned n)
{
	struct bjob j = R->job;
	int fd = -1, r = 0;
	j.t = t;
	name_link(R, t, &j.lk, n);
	if (t->sc && (r = scheme_url(t, &j, &j.lk)) < 0) {
		fail_rows(R, t, r);
		return 0;
	}
	pid_t a = start_a(&j, &fd);
	if (a < 0)
		return (int)a;
	int64_t quiet = R->job.rounds ? 600000000000 : R->o->quick ? 10000000000 : 60000000000;
	int bfd = -1;
	r = collect(R, t, fd, quiet, &bfd);
	close(fd);
	end_a(a, r < 0, bfd);
	cleanup(R, t, &j.lk, r < 0);
	if (r == -ETIMEDOUT)
		fail_rows(R, t, r);   /* a hung transport: say so and go on */
	return r == -ECANCELED ? r : 0;
}

static int make_dir(char *dir, size_t cap)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp || strlen(tmp) > 128)
		tmp = "/tmp";
	snprintf(dir, cap, "%s/ipckb%d-XXXXXX", tmp, (int)getpid());
	return mkdtemp(dir) ? 0 : -errno;
}

static unsigned count_rows(const struct run *R)
{
	unsigned n = 0;
	for (size_t i = 0; i < R->nt; i++)
		n += R->t[i].probe == ipck__bench_cacheline ? 1 : (unsigned)R->job.nsizes;
	return n;
}

IPCK_API int ipck_bench_run(const struct ipck_bench_opts *o,
			    int (*cb)(const struct ipck_bench_row *, void *), void *arg)
{
	if (!o || !cb)
		return -EINVAL;
	struct run *R = calloc(1, sizeof(*R));
	if (!R)
		return -ENOMEM;
	R->o = o, R->cb = cb, R->arg = arg;
	int r = setup_job(R);
	if (!r)
		r = make_dir(R->dir, sizeof(R->dir));
	if (r) {
		free(R);
		return r;
	}
	add_schemes(R);
	add_refs(R);
	R->total = count_rows(R);
	for (size_t i = 0; !r && i < R->nt && !R->stopped; i++)
		r = run_target(R, &R->t[i], (unsigned)i);
	if (!r && R->stopped)
		r = -ECANCELED;
	sweep_dir(R->dir);
	rmdir(R->dir);
	free(R);
	return r;
}
