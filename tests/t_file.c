/*
 * t_file.c - "file:" channels between real processes:
 *   - records both ways, in order, each side knowing the other's pid;
 *   - a writer killed in the middle of a record (RLIMIT_FSIZE, SIGXFSZ):
 *     the reader gets every whole record, then -EPIPE, never the torn one;
 *     the next writer cuts the tail off and goes on; a writer refused the
 *     space (EFBIG) leaves no trace;
 *   - a reader that closes and comes back: from=saved goes on exactly where
 *     it stopped, from=start reads everything again;
 *   - the files go with the last side, unless keep=1: then a new listener
 *     takes them up and unread records are still there;
 *   - poll_ms=N: no inotify, a timer, the same exchange and a working pollfd;
 *   - an orderly close is seen by a sender; bad URLs, modes, symlinks,
 *     owners, a busy rendezvous.
 */
#include "check.h"
#include "flog.h"
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *url;   /* the channel under test, with options */

static const char *path_of(const char *u, const char *suffix)
{
	const char *p = strchr(u, ':') + 1, *q = strchr(p, '?');
	int n = q ? (int)(q - p) : (int)strlen(p);
	return fmt("%.*s%s", n, p, suffix);
}

static bool exists(const char *u, const char *suffix)
{
	struct stat st;
	return stat(path_of(u, suffix), &st) == 0;
}

static int files_left(const char *u)
{
	return exists(u, "") + exists(u, ".c2s") + exists(u, ".s2c");
}

static ipck_chan *connect_to(const char *u)
{
	ipck_chan *c = NULL;
	check_failures = 0;   /* a child's own verdict */
	CHECK_OK(ipck_open(&c, u, 0));
	return c;
}

/* Start fn in a child and accept it. */
static ipck_chan *start(ipck_chan *l, int (*fn)(void *), void *arg, pid_t *pid)
{
	ipck_chan *s = NULL;
	*pid = spawn(fn, arg);
	CHECK_OK(ipck_accept(l, &s, 10000));
	return s;
}

static void send_str(ipck_chan *c, const char *s)
{
	CHECK_EQ(ipck_send(c, s, strlen(s), 5000), strlen(s));
}

static void expect_str(ipck_chan *c, const char *want, int timeout_ms)
{
	char buf[256];
	ssize_t n = ipck_recv(c, buf, sizeof(buf) - 1, timeout_ms);
	CHECK_EQ(n, strlen(want));
	if (n >= 0) {
		buf[n] = '\0';
		if (strcmp(buf, want))
			check_fail(__FILE__, __LINE__, "got \"%s\", want \"%s\"", buf, want);
	}
}

/* ---- records both ways ----------------------------------------------------- */

#define NREC 200

static int exchange_child(void *arg)
{
	(void)arg;
	ipck_chan *c = connect_to(url);
	REQUIRE(c);
	CHECK_EQ(ipck_peer_pid(c), getppid());
	static unsigned char buf[5000];
	for (unsigned i = 0; i < NREC; i++) {
		size_t n = (i * 37) % sizeof(buf);
		fill_pattern(buf, n, i);
		CHECK_EQ(ipck_send(c, buf, n, 5000), n);
	}
	expect_str(c, fmt("got %d", NREC), 10000);
	CHECK_OK(ipck_close(c));
	return check_failures ? 1 : 0;
}

static void test_exchange(void)
{
	ipck_chan *l, *s;
	pid_t pid;
	static unsigned char buf[5000];
	url = test_url("file");
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	REQUIRE((s = start(l, exchange_child, NULL, &pid)));
	CHECK_EQ(ipck_peer_pid(s), pid);
	int ok = 0;
	for (unsigned i = 0; i < NREC; i++) {
		ssize_t n = ipck_recv(s, buf, sizeof(buf), 10000);
		CHECK_EQ(n, (i * 37) % sizeof(buf));
		ok += n >= 0 && check_pattern(buf, (size_t)n, i);
	}
	CHECK_EQ(ok, NREC);
	send_str(s, fmt("got %d", ok));
	CHECK_EQ(reap(pid), 0);
	CHECK_EQ(ipck_recv(s, buf, sizeof(buf), 5000), -EPIPE);
	CHECK_OK(ipck_close(s));
	CHECK_EQ(files_left(url), 3);   /* the listener is still there */
	CHECK_OK(ipck_close(l));
	CHECK_EQ(files_left(url), 0);
}

/* ---- a writer killed mid-record ------------------------------------------- */

/* Let this process's file writes end at size + room bytes of path. */
static void limit_file_size(const char *path, off_t room)
{
	struct stat st;
	REQUIRE(stat(path, &st) == 0);
	struct rlimit rl = {(rlim_t)(st.st_size + room), RLIM_INFINITY};
	REQUIRE(setrlimit(RLIMIT_FSIZE, &rl) == 0);
}

static int torn_child(void *arg)
{
	bool ignore = arg != NULL;
	ipck_chan *c = connect_to(url);
	REQUIRE(c);
	send_str(c, "r0");
	send_str(c, "r1");
	static unsigned char big[100000];
	prctl(PR_SET_DUMPABLE, 0);   /* no core file from SIGXFSZ */
	if (ignore)
		signal(SIGXFSZ, SIG_IGN);
	limit_file_size(path_of(url, ".c2s"), 1000);
	struct stat st0, st1;
	REQUIRE(stat(path_of(url, ".c2s"), &st0) == 0);
	/* The write stops at the limit; the rest of the record kills us. */
	CHECK_EQ(ipck_send(c, big, sizeof(big), 5000), -EFBIG);
	REQUIRE(stat(path_of(url, ".c2s"), &st1) == 0);
	CHECK_EQ(st1.st_size, st0.st_size);   /* cut back: no trace of it */
	send_str(c, "r2");   /* only when SIGXFSZ is ignored */
	ipck_close(c);
	return check_failures ? 1 : 0;
}

static int late_child(void *arg)
{
	ipck_chan *c = connect_to(url);
	REQUIRE(c);
	send_str(c, arg);
	CHECK_OK(ipck_close(c));
	return check_failures ? 1 : 0;
}

static void test_torn(void)
{
	ipck_chan *l, *s;
	pid_t pid;
	struct stat st;
	url = test_url("file");
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));

	REQUIRE((s = start(l, torn_child, NULL, &pid)));
	CHECK_EQ(reap(pid), 128 + SIGXFSZ);
	REQUIRE(stat(path_of(url, ".c2s"), &st) == 0);
	off_t torn_size = st.st_size;
	CHECK_EQ(torn_size, (off_t)(FLOG_START + 2 * (sizeof(struct frec) + 2) + 1000));
	expect_str(s, "r0", 5000);
	expect_str(s, "r1", 5000);
	long long t0 = now_ms();
	static unsigned char big[100000];
	CHECK_EQ(ipck_recv(s, big, sizeof(big), 5000), -EPIPE);   /* not the torn one */
	CHECK(now_ms() - t0 < 1000);
	CHECK_OK(ipck_close(s));
	REQUIRE(stat(path_of(url, ".c2s"), &st) == 0);
	CHECK_EQ(st.st_size, torn_size);   /* the torn tail is still there... */

	REQUIRE((s = start(l, late_child, "after", &pid)));
	CHECK_EQ(reap(pid), 0);
	expect_str(s, "after", 5000);      /* ...until the next writer cut it */
	CHECK_EQ(ipck_recv(s, big, sizeof(big), 5000), -EPIPE);
	CHECK_OK(ipck_close(s));
	REQUIRE(stat(path_of(url, ".c2s"), &st) == 0);
	CHECK(st.st_size < torn_size);

	REQUIRE((s = start(l, torn_child, "ignore", &pid)));
	CHECK_EQ(reap(pid), 0);
	expect_str(s, "r0", 5000);
	expect_str(s, "r1", 5000);
	expect_str(s, "r2", 5000);         /* the refused record left no trace */
	CHECK_EQ(ipck_recv(s, big, sizeof(big), 5000), -EPIPE);
	CHECK_OK(ipck_close(s));
	CHECK_OK(ipck_close(l));
	CHECK_EQ(files_left(url), 0);
}

/* ---- coming back: from=saved and from=start -------------------------------- */

static int written[2];   /* the writer says "all 10 are written" */

static int reader_child(void *arg)
{
	const char *spec = arg;   /* "URL first count" */
	char u[512];
	int first, count;
	REQUIRE(sscanf(spec, "%511s %d %d", u, &first, &count) == 3);
	ipck_chan *c = connect_to(u);
	REQUIRE(c);
	for (int i = first; i < first + count; i++)
		expect_str(c, fmt("m%d", i), 5000);
	if (first + count == 10)   /* read them all: nothing more comes */
		CHECK_EQ(ipck_recv(c, u, sizeof(u), 100), -ETIMEDOUT);
	else if (first == 0)       /* stay till the writer is done */
		CHECK_EQ(read(written[0], u, 1), 1);
	CHECK_OK(ipck_close(c));
	return check_failures ? 1 : 0;
}

static void read_back(ipck_chan *l, const char *u, int first, int count)
{
	pid_t pid;
	ipck_chan *s = start(l, reader_child, (void *)fmt("%s %d %d", u, first, count), &pid);
	CHECK_EQ(reap(pid), 0);
	CHECK_OK(ipck_close(s));
}

static void test_resume(void)
{
	ipck_chan *l, *s;
	pid_t pid;
	url = test_url("file");
	REQUIRE(pipe(written) == 0);
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	REQUIRE((s = start(l, reader_child, (void *)fmt("%s 0 3", url), &pid)));
	for (int i = 0; i < 10; i++)
		send_str(s, fmt("m%d", i));
	CHECK_EQ(write(written[1], "w", 1), 1);
	close(written[0]);
	close(written[1]);
	CHECK_EQ(reap(pid), 0);   /* read m0..m2 and left */
	CHECK_OK(ipck_close(s));
	read_back(l, fmt("%s?from=saved", url), 3, 4);   /* m3..m6 */
	read_back(l, url, 7, 3);                          /* saved is the default */
	read_back(l, fmt("%s?from=start", url), 0, 10);
	CHECK_OK(ipck_close(l));
	CHECK_EQ(files_left(url), 0);
}

/* ---- keep=1 ------------------------------------------------------------------ */

static void test_keep(void)
{
	ipck_chan *l, *s;
	pid_t pid;
	const char *base = test_url("file");
	url = fmt("%s?keep=1", base);
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	REQUIRE((s = start(l, late_child, "kept", &pid)));
	CHECK_EQ(reap(pid), 0);
	CHECK_OK(ipck_close(s));   /* nobody read "kept" */
	CHECK_OK(ipck_close(l));
	CHECK_EQ(files_left(base), 3);

	CHECK_EQ(ipck_open(&l, base, IPCK_LISTEN), -EADDRINUSE);   /* not without keep */
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));                 /* taken up again */
	REQUIRE((s = start(l, late_child, "new", &pid)));
	CHECK_EQ(reap(pid), 0);
	expect_str(s, "kept", 5000);
	expect_str(s, "new", 5000);
	CHECK_OK(ipck_close(s));
	CHECK_OK(ipck_close(l));
	CHECK_EQ(files_left(base), 3);
	CHECK_EQ(ipck_unlink(base), 0);
	CHECK_EQ(files_left(base), 0);
	CHECK_EQ(ipck_unlink(base), -ENOENT);
}

/* ---- poll_ms ----------------------------------------------------------------- */

/* Descriptors of this process that are inotify instances or timerfds. */
static int count_anon(const char *kind)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char target[64];
	int n = 0;
	REQUIRE(d);
	while ((e = readdir(d))) {
		ssize_t k = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1);
		if (k > 0) {
			target[k] = '\0';
			n += strstr(target, kind) != NULL;
		}
	}
	closedir(d);
	return n;
}

static int poll_child(void *arg)
{
	(void)arg;
	ipck_chan *c = connect_to(url);
	REQUIRE(c);
	expect_str(c, "ping", 5000);
	usleep(100000);
	send_str(c, "pong");
	CHECK_OK(ipck_close(c));
	return check_failures ? 1 : 0;
}

static void test_poll(void)
{
	ipck_chan *l, *s;
	pid_t pid;
	url = fmt("%s?poll_ms=20", test_url("file"));
	int timers = count_anon("timerfd"), inotifies = count_anon("inotify");
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	REQUIRE((s = start(l, poll_child, NULL, &pid)));
	CHECK_EQ(count_anon("timerfd"), timers + 2);   /* listener and connection */
	CHECK_EQ(count_anon("inotify"), inotifies);
	send_str(s, "ping");
	struct pollfd p = {.fd = ipck_pollfd(s), .events = POLLIN};
	CHECK(p.fd >= 0);
	char buf[16];
	long long t0 = now_ms();
	ssize_t n = -ETIMEDOUT;
	while (n == -ETIMEDOUT && now_ms() - t0 < 5000) {   /* ticks may wake us early */
		CHECK(poll(&p, 1, 5000) == 1);
		n = ipck_recv(s, buf, sizeof(buf), 0);
	}
	CHECK_EQ(n, 4);
	CHECK(n == 4 && !memcmp(buf, "pong", 4));
	CHECK_EQ(reap(pid), 0);
	CHECK_EQ(ipck_recv(s, buf, sizeof(buf), 5000), -EPIPE);
	CHECK_OK(ipck_close(s));
	CHECK_OK(ipck_close(l));
	CHECK_EQ(files_left(url), 0);
}

/* ---- closing, errors, files --------------------------------------------------- */

static int closer_child(void *arg)
{
	ipck_chan *c = connect_to(url);
	REQUIRE(c);
	if (arg)
		CHECK_OK(ipck_close(c));   /* alive, but no longer on the channel */
	pause();
	return 0;
}

static int waiter_child(void *arg)
{
	(void)arg;
	char buf[8];
	ipck_chan *c = connect_to(url);
	REQUIRE(c);
	long long t0 = now_ms();
	CHECK_EQ(ipck_recv(c, buf, sizeof(buf), 5000), -EPIPE);
	CHECK(now_ms() - t0 < 1000);
	CHECK_EQ(ipck_send(c, "x", 1, 1000), -EPIPE);
	CHECK_OK(ipck_close(c));
	return check_failures ? 1 : 0;
}

static void test_close_seen(void)
{
	ipck_chan *l, *s, *c2;
	pid_t pid;
	char buf[8];
	url = fmt("%s?timeout=200", test_url("file"));
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	REQUIRE((s = start(l, closer_child, "close", &pid)));
	CHECK_EQ(ipck_recv(s, buf, sizeof(buf), 5000), -EPIPE);
	CHECK_EQ(ipck_send(s, "x", 1, 1000), -EPIPE);
	CHECK_OK(ipck_close(s));
	kill(pid, SIGKILL);
	CHECK_EQ(reap(pid), 128 + SIGKILL);

	/* One connection at a time: a second connector waits, then gives up. */
	REQUIRE((s = start(l, closer_child, NULL, &pid)));
	CHECK_EQ(ipck_open(&c2, url, 0), -EBUSY);
	kill(pid, SIGKILL);
	CHECK_EQ(reap(pid), 128 + SIGKILL);
	CHECK_OK(ipck_open(&c2, url, 0));   /* the first is dead: its turn is over */
	CHECK_OK(ipck_close(c2));
	CHECK_OK(ipck_close(s));
	CHECK_OK(ipck_close(l));
	CHECK_EQ(ipck_open(&c2, url, 0), -ECONNREFUSED);

	/* A listener that closes without accepting ends a waiting connector. */
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	pid = spawn(waiter_child, NULL);
	usleep(100000);
	CHECK_OK(ipck_close(l));
	CHECK_EQ(reap(pid), 0);
	CHECK_EQ(files_left(url), 0);
}

/* ---- a peer no pidfd can watch ----------------------------------------------- */

static int nspid[2];   /* the peer's pid, as this namespace sees it */

static int ns_peer(void *arg)
{
	(void)arg;
	ipck_chan *c = connect_to(url);
	REQUIRE(c);
	send_str(c, "from elsewhere");
	pause();   /* until SIGKILL */
	return 0;
}

/* A child in a new pid namespace starts the peer, as a container would. */
static int ns_parent(void *arg)
{
	(void)arg;
	if (unshare(CLONE_NEWPID) < 0)
		return 77;
	pid_t pid = spawn(ns_peer, NULL);
	if (write(nspid[1], &pid, sizeof(pid)) != sizeof(pid))
		return 1;
	return reap(pid) == 128 + SIGKILL ? 0 : 1;
}

static void test_other_namespace(void)
{
	ipck_chan *l, *s;
	pid_t mid, peer = 0;
	char buf[32];
	url = test_url("file");
	REQUIRE(pipe(nspid) == 0);
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	mid = spawn(ns_parent, NULL);
	close(nspid[1]);
	ssize_t got = read(nspid[0], &peer, sizeof(peer));
	close(nspid[0]);
	if (got != sizeof(peer)) {
		CHECK_EQ(reap(mid), 77);   /* no pid namespaces here */
		fprintf(stderr, "  no new pid namespace: the unwatched peer is not tested\n");
		ipck_close(l);
		return;
	}
	CHECK_OK(ipck_accept(l, &s, 10000));
	REQUIRE(s);
	CHECK_EQ(ipck_peer_pid(s), 0);   /* its pid means nothing here */
	expect_str(s, "from elsewhere", 5000);
	kill(peer, SIGKILL);
	long long t0 = now_ms();
	CHECK_EQ(ipck_recv(s, buf, sizeof(buf), 5000), -EPIPE);
	long long dt = now_ms() - t0;
	CHECK(dt < 1000);
	fprintf(stderr, "  unwatched peer's death noticed in %lld ms\n", dt);
	CHECK_EQ(reap(mid), 0);
	CHECK_OK(ipck_close(s));
	CHECK_OK(ipck_close(l));
	CHECK_EQ(files_left(url), 0);
}

static void test_files(void)
{
	ipck_chan *l, *c;
	struct stat st;
	const char *u = test_url("file"), *p = path_of(u, "");
	const char *bad[] = {"file:", "file:/x/", "file:/x?raw=1", "file:/x?poll_ms=0",
			     "file:/x?from=end", "file:/x?keep=2", "file:/x?nope=1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(ipck_open(&l, bad[i], IPCK_LISTEN), -EINVAL);
	CHECK_EQ(ipck_open(&c, u, 0), -ECONNREFUSED);

	CHECK_OK(ipck_open(&l, fmt("%s?mode=0640", u), IPCK_LISTEN));
	CHECK(stat(path_of(u, ".s2c"), &st) == 0 && (st.st_mode & 0777) == 0640);
	CHECK_EQ(ipck_open(&c, u, IPCK_LISTEN), -EADDRINUSE);
	if (geteuid() == 0) {   /* another user's files are refused */
		CHECK(chown(p, 4242, 4242) == 0);
		CHECK_EQ(ipck_open(&c, u, 0), -EACCES);
		CHECK(chown(path_of(u, ".c2s"), 4242, 4242) == 0);
		CHECK(chown(path_of(u, ".s2c"), 4242, 4242) == 0);
		CHECK_OK(ipck_open(&c, fmt("%s?peer_uid=4242", u), 0));
		ipck_close(c);
	}
	CHECK_OK(ipck_close(l));
	CHECK_EQ(files_left(u), 0);

	const char *u2 = test_url("file"), *p2 = path_of(u2, "");
	REQUIRE(symlink("/etc/passwd", p2) == 0);   /* never followed */
	CHECK_EQ(ipck_open(&l, u2, IPCK_LISTEN), -EADDRINUSE);
	CHECK_EQ(ipck_open(&c, u2, 0), -ELOOP);
	unlink(p2);
	int fd = open(p2, O_CREAT | O_WRONLY, 0600);   /* not ours: never removed */
	REQUIRE(fd >= 0 && write(fd, "data", 4) == 4);
	close(fd);
	CHECK_EQ(ipck_unlink(u2), -EPERM);
	CHECK(stat(p2, &st) == 0);
	unlink(p2);
}

int main(void)
{
	test_exchange();
	test_torn();
	test_resume();
	test_keep();
	test_poll();
	test_close_seen();
	test_other_namespace();
	test_files();
	check_exit();
}
