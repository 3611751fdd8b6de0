/*
 * t_fdpass.c - descriptors carried with messages (ipck_send_fds /
 * ipck_recv_fds), between two processes:
 *   - a pipe's write end goes to the child, which writes into it; the parent
 *     reads that from the read end;
 *   - 40 messages in flight, 0 to 3 descriptors each and sizes up to 100 kB:
 *     each comes out with exactly its own descriptors (checked by inode),
 *     close-on-exec;
 *   - an array too small: -EMSGSIZE, the count needed, the message kept, no
 *     descriptor leaked (counted in /proc/self/fd); plain ipck_recv closes
 *     what a message carries; a full descriptor table gives -EMFILE;
 *   - -ENOTSUP on pipe:, -EINVAL on bad arguments, -EBADF sends nothing.
 * Over socketpair: (records), a stream socket under fdio.c's stream framing
 * (made here through the private API), unix:, unix-seqpacket:, abstract: and
 * unix-dgram:;
 * tcp:, a socket but not a Unix one, answers -ENOTSUP.
 */
#include "check.h"
#include "internal.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define NMSG 40

static const char *url;               /* scheme under test, or "stream" */
static ipck_chan *pair_a, *pair_b;

/* Open descriptors of this process. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	REQUIRE(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;   /* not the directory's own */
}

/* Open pipe descriptors of this process: the kind the tests pass around. */
static int count_pipes(void)
{
	DIR *d = opendir("/proc/self/fd");
	REQUIRE(d);
	char target[64];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		ssize_t k = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1);
		if (k > 0) {
			target[k] = '\0';
			n += !strncmp(target, "pipe:", 5);
		}
	}
	closedir(d);
	return n;
}

/* A socketpair: channel pair using fdio.c's stream framing. */
static int stream_pair(ipck_chan **a, ipck_chan **b)
{
	int sv[2];
	struct ipck_url u;
	CHECK_OK(ipck__url_parse("socketpair:", &u));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	*a = ipck__chan_new(u.sc, &u);
	*b = ipck__chan_new(u.sc, &u);
	REQUIRE(*a && *b);
	(*a)->role = (*b)->role = ROLE_PAIR;
	CHECK_OK(ipck__fd_init(*a, sv[0], sv[0], FRAME_STREAM));
	CHECK_OK(ipck__fd_init(*b, sv[1], sv[1], FRAME_STREAM));
	(*a)->is_sock = (*b)->is_sock = true;
	return 0;
}

static bool is_pair(void)
{
	return !strcmp(url, "stream") || !strcmp(url, "socketpair:");
}

static int make_pair(ipck_chan **a, ipck_chan **b)
{
	return !strcmp(url, "stream") ? stream_pair(a, b) : ipck_pair(url, a, b);
}

/* The child's end: the pair's b, or a connection to the parent's listener. */
static ipck_chan *child_chan(void)
{
	ipck_chan *c = NULL;
	check_failures = 0;   /* the child's own verdict */
	if (is_pair()) {
		ipck_close(pair_a);
		return pair_b;
	}
	CHECK_OK(ipck_open(&c, url, 0));
	return c;
}

/* Start fn in a child; return the parent's end. */
static ipck_chan *start(ipck_chan *l, int (*fn)(void *), pid_t *pid)
{
	ipck_chan *s = NULL;
	if (!l) {
		CHECK_OK(make_pair(&pair_a, &pair_b));
		*pid = spawn(fn, NULL);
		ipck_close(pair_b);
		return pair_a;
	}
	*pid = spawn(fn, NULL);
	CHECK_OK(ipck_accept(l, &s, 10000));
	return s;
}

/* ---- a pipe's write end to the child, data back through the pipe -------- */

static int pipe_child(void *arg)
{
	(void)arg;
	ipck_chan *c = child_chan();
	char buf[16];
	int fd = -1;
	size_t n = 1;
	REQUIRE(c);
	CHECK_EQ(ipck_recv_fds(c, buf, sizeof(buf), &fd, &n, 10000), 4);
	CHECK_EQ(n, 1);
	CHECK(!memcmp(buf, "take", 4));
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK_EQ(write(fd, "written by the child", 20), 20);
	close(fd);
	ipck_close(c);
	return check_failures ? 1 : 0;
}

static void test_pipe_end(ipck_chan *l)
{
	int p[2];
	pid_t pid;
	char got[64];
	REQUIRE(pipe2(p, O_CLOEXEC) == 0);
	ipck_chan *s = start(l, pipe_child, &pid);
	REQUIRE(s);
	CHECK_EQ(ipck_send_fds(s, "take", 4, &p[1], 1, 5000), 4);
	close(p[1]);   /* the child's copy is now the only write end */
	ssize_t n = read(p[0], got, sizeof(got));
	CHECK_EQ(n, 20);
	CHECK(n == 20 && !memcmp(got, "written by the child", 20));
	CHECK_EQ(read(p[0], got, sizeof(got)), 0);   /* and no other writer left */
	close(p[0]);
	CHECK_EQ(reap(pid), 0);
	ipck_close(s);
}

/* ---- many messages in flight, each with its own descriptors ------------- */

struct tagmsg {
	uint32_t i, k;
	uint64_t ino[3];
};

static size_t msg_size(size_t i, size_t max)
{
	size_t sizes[] = {0, 100, 5000, 100000, 40000};
	size_t n = sizeof(struct tagmsg) + sizes[i % 5];
	return n > max ? max : n;
}

static int many_child(void *arg)
{
	(void)arg;
	ipck_chan *c = child_chan();
	REQUIRE(c);
	size_t max = ipck_max_msg(c);
	unsigned char *buf = malloc(max);
	REQUIRE(buf);
	usleep(100000);   /* let them pile up in the socket */
	for (uint32_t i = 0; i < NMSG; i++) {
		int fds[4] = {-1, -1, -1, -1};
		size_t n = 4;
		/* -1: fdio may block in recvmsg itself, descriptors and all */
		ssize_t r = ipck_recv_fds(c, buf, max, fds, &n, i % 2 ? -1 : 10000);
		CHECK_EQ(r, msg_size(i, max));
		struct tagmsg t;
		memcpy(&t, buf, sizeof(t));
		CHECK_EQ(t.i, i);
		CHECK_EQ(n, t.k);
		for (size_t j = 0; j < n; j++) {
			struct stat st;
			CHECK(fstat(fds[j], &st) == 0 && st.st_ino == t.ino[j]);
			CHECK(fcntl(fds[j], F_GETFD) & FD_CLOEXEC);
			close(fds[j]);
		}
		if (check_failures)
			break;
	}
	free(buf);
	ipck_close(c);
	return check_failures ? 1 : 0;
}

static void test_in_flight(ipck_chan *l)
{
	pid_t pid;
	ipck_chan *s = start(l, many_child, &pid);
	REQUIRE(s);
	size_t max = ipck_max_msg(s);
	unsigned char *buf = calloc(1, max);
	REQUIRE(buf);
	for (uint32_t i = 0; i < NMSG; i++) {
		struct tagmsg t = {.i = i, .k = i % 4};
		int fds[3];
		for (size_t j = 0; j < t.k; j++) {
			int p[2];
			struct stat st;
			REQUIRE(pipe2(p, O_CLOEXEC) == 0 && fstat(p[0], &st) == 0);
			close(p[1]);
			fds[j] = p[0];
			t.ino[j] = st.st_ino;
		}
		memcpy(buf, &t, sizeof(t));
		size_t n = msg_size(i, max);
		CHECK_EQ(ipck_send_fds(s, buf, n, fds, t.k, 10000), n);
		for (size_t j = 0; j < t.k; j++)
			close(fds[j]);
	}
	CHECK_EQ(reap(pid), 0);
	free(buf);
	ipck_close(s);
}

/* ---- too small an array, plain recv, full table: nothing leaks ---------- */

static void send_three(ipck_chan *s, const char *what)
{
	int p[2];
	REQUIRE(pipe2(p, O_CLOEXEC) == 0);
	int fds[3] = {p[0], p[1], p[0]};
	CHECK_EQ(ipck_send_fds(s, what, strlen(what), fds, 3, 5000), strlen(what));
	close(p[0]);
	close(p[1]);
}

/* Room for exactly one more descriptor in this process. */
static void limit_to_one_more(void)
{
	int lowest = dup(0);
	REQUIRE(lowest >= 0);
	close(lowest);
	struct rlimit rl;
	REQUIRE(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	rl.rlim_cur = (rlim_t)lowest + 1;
	REQUIRE(setrlimit(RLIMIT_NOFILE, &rl) == 0);
}

static int small_child(void *arg)
{
	(void)arg;
	int pipes = count_pipes();
	ipck_chan *c = child_chan();
	REQUIRE(c);
	char buf[64];
	int fds[3];
	size_t n = 1;
	int before = count_fds();
	CHECK_EQ(ipck_recv_fds(c, buf, sizeof(buf), fds, &n, 5000), -EMSGSIZE);
	CHECK_EQ(n, 3);                       /* how many it needs */
	n = 0;
	CHECK_EQ(ipck_recv_fds(c, buf, sizeof(buf), NULL, &n, 5000), -EMSGSIZE);
	n = 3;
	CHECK_EQ(ipck_recv_fds(c, buf, 2, fds, &n, 5000), -EMSGSIZE);   /* buffer */
	CHECK_EQ(n, 0);
	n = 3;
	CHECK_EQ(ipck_recv_fds(c, buf, sizeof(buf), fds, &n, 5000), 3);   /* kept */
	CHECK(!memcmp(buf, "one", 3));
	CHECK_EQ(n, 3);
	for (size_t j = 0; j < n; j++)
		close(fds[j]);
	CHECK_EQ(count_fds(), before);
	CHECK_EQ(ipck_recv(c, buf, 2, 5000), -EMSGSIZE);     /* "two", held by plain recv */
	CHECK_EQ(ipck_recv(c, buf, sizeof(buf), 5000), 3);   /* "two": closed for us */
	CHECK(!memcmp(buf, "two", 3));
	CHECK_EQ(count_fds(), before);

	/* "three" stays held, unclaimed, until the channel closes. */
	n = 2;
	CHECK_EQ(ipck_recv_fds(c, buf, sizeof(buf), fds, &n, 5000), -EMSGSIZE);
	CHECK_EQ(count_fds(), before + 3);   /* held by the channel */
	CHECK_EQ(ipck_close(c), 0);
	CHECK_EQ(count_pipes(), pipes);      /* closed with the channel */
	return check_failures ? 1 : 0;
}

static int full_child(void *arg)
{
	(void)arg;
	ipck_chan *c = child_chan();
	REQUIRE(c);
	char buf[64];
	int fds[3];
	size_t n = 3;
	usleep(50000);   /* "four" arrives into a full table: -EMFILE, nothing left open */
	int before = count_fds();
	limit_to_one_more();
	CHECK_EQ(ipck_recv_fds(c, buf, sizeof(buf), fds, &n, 5000), -EMFILE);
	CHECK_EQ(n, 0);
	CHECK_EQ(count_fds(), before);
	n = 3;
	CHECK_EQ(ipck_recv_fds(c, buf, sizeof(buf), fds, &n, 5000), 5);   /* the next */
	CHECK(!memcmp(buf, "after", 5));
	CHECK_EQ(n, 0);
	CHECK_EQ(count_fds(), before);
	ipck_close(c);
	return check_failures ? 1 : 0;
}

static void test_no_leak(ipck_chan *l)
{
	pid_t pid;
	ipck_chan *s = start(l, small_child, &pid);
	REQUIRE(s);
	send_three(s, "one");
	send_three(s, "two");
	send_three(s, "three");
	CHECK_EQ(reap(pid), 0);
	ipck_close(s);

	s = start(l, full_child, &pid);
	REQUIRE(s);
	send_three(s, "four");
	CHECK_EQ(ipck_send_fds(s, "after", 5, NULL, 0, 5000), 5);
	CHECK_EQ(reap(pid), 0);
	ipck_close(s);
}

/* ---- argument errors ----------------------------------------------------- */

static void test_errors(void)
{
	ipck_chan *a, *b;
	char buf[8];
	int fds[2] = {0, 1};
	size_t n = 2;

	CHECK_OK(ipck_pair("pipe:", &a, &b));
	CHECK_EQ(ipck_send_fds(a, "x", 1, fds, 1, 0), -ENOTSUP);
	CHECK_EQ(ipck_recv_fds(b, buf, sizeof(buf), fds, &n, 0), -ENOTSUP);
	CHECK_EQ(n, 0);
	ipck_close(a);
	ipck_close(b);

	CHECK_OK(ipck_pair("socketpair:", &a, &b));
	CHECK_EQ(ipck_send_fds(a, "x", 1, NULL, 1, 0), -EINVAL);
	CHECK_EQ(ipck_send_fds(a, "x", 1, fds, IPCK_MAX_FDS + 1, 0), -EINVAL);
	CHECK_EQ(ipck_recv_fds(b, buf, sizeof(buf), fds, NULL, 0), -EINVAL);
	n = 1;
	CHECK_EQ(ipck_recv_fds(b, buf, sizeof(buf), NULL, &n, 0), -EINVAL);
	int bad = dup(0);
	close(bad);
	CHECK_EQ(ipck_send_fds(a, "x", 1, &bad, 1, 0), -EBADF);
	n = 2;
	CHECK_EQ(ipck_recv_fds(b, buf, sizeof(buf), fds, &n, 0), -ETIMEDOUT);
	CHECK_EQ(ipck_send_fds(a, "", 0, fds, 1, 0), 0);   /* empty message, one fd */
	n = 2;
	CHECK_EQ(ipck_recv_fds(b, buf, sizeof(buf), fds, &n, 1000), 0);
	CHECK_EQ(n, 1);
	if (n == 1)
		close(fds[0]);
	ipck_close(a);
	ipck_close(b);
}

/* A socket scheme that is not a Unix one cannot carry descriptors. */
static int tcp_child(void *arg)
{
	(void)arg;
	ipck_chan *c = child_chan();
	REQUIRE(c);
	int fd = 0;
	CHECK_EQ(ipck_send_fds(c, "x", 1, &fd, 1, 1000), -ENOTSUP);
	CHECK_OK(ipck_close(c));
	return check_failures ? 1 : 0;
}

static void test_not_unix(const char *scheme)
{
	ipck_chan *l, *s;
	pid_t pid;
	char buf[4];
	size_t n = 1;
	int fd;
	url = test_url(scheme);
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	REQUIRE((s = start(l, tcp_child, &pid)));
	CHECK_EQ(ipck_recv_fds(s, buf, sizeof(buf), &fd, &n, 1000), -ENOTSUP);
	CHECK_EQ(reap(pid), 0);
	ipck_close(s);
	ipck_close(l);
}

static bool have_scheme(const char *name)
{
	const struct ipck_scheme_info *s;
	for (size_t i = 0; (s = ipck_scheme_at(i)); i++)
		if (!strcmp(s->name, name))
			return true;
	return false;
}

static void run(const char *scheme)
{
	ipck_chan *l = NULL;
	int before = check_failures;
	url = !strcmp(scheme, "stream") ? "stream" : test_url(scheme);
	REQUIRE(url);
	fprintf(stderr, "== %s\n", url);
	if (!is_pair())
		CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	int fds0 = count_fds();
	test_pipe_end(l);
	test_in_flight(l);
	test_no_leak(l);
	CHECK_EQ(count_fds(), fds0);
	ipck_close(l);
	fprintf(stderr, "%s %s\n", check_failures == before ? "ok  " : "FAIL", scheme);
}

int main(void)
{
	test_errors();
	run("socketpair");
	run("stream");
	if (have_scheme("unix"))
		run("unix");
	if (have_scheme("unix-seqpacket"))
		run("unix-seqpacket");
	if (have_scheme("abstract"))
		run("abstract");
	if (have_scheme("unix-dgram"))
		run("unix-dgram");
	if (have_scheme("tcp"))   /* a socket, but not a Unix one */
		test_not_unix("tcp");
	check_exit();
}
