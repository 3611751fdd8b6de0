/*
 * t_broadcast.c - "?broadcast=1" on pshm:, mmap:, svshm: one sender (the
 * listener), many receivers, each receiving every message.
 *  - 3 reader processes each see every message exactly once, in order,
 *    whole (pattern and checksum), over a small ring that wraps and fills;
 *    ipck_accept announces each reader with its pid;
 *  - drop=oldest with one reader stopped (SIGSTOP): the writer never
 *    waits; the stopped reader, resumed, reports a positive dropped count,
 *    then in-order messages, received + dropped = sent;
 *  - a reader killed (SIGKILL) without reading does not block the writer;
 *  - the writer's close and its death end the readers with -EPIPE;
 *  - the API around it: send on a reader -ENOTSUP, recv on the listener
 *    -ENOTCONN, timeouts, -EMSGSIZE keeping the message, peek/release,
 *    0600 exclusive creation, broadcast on ipck_pair or another scheme
 *    -EINVAL, a reader's drop= different from the listener's -EINVAL.
 */
#include "check.h"
#include <poll.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define READERS 3
#define N 3000

static const char *const schemes[] = {"pshm", "mmap", "svshm"};

static const char *cast_url(char *out, size_t cap, const char *scheme, const char *more)
{
	snprintf(out, cap, "%s?broadcast=1&capacity=4096%s", test_url(scheme), more);
	return out;
}

static size_t msg_len(uint32_t i) { return 8 + i % 200; }

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* What a reader tells the parent through its pipe. */
struct result {
	uint64_t received, dropped, sum;
	uint32_t first, last;
	int end;        /* what ended it: -EPIPE expected */
	int bad;        /* messages out of order or damaged */
};

struct job {
	const char *url;
	int out;        /* pipe to the parent */
	bool die;       /* SIGKILL itself right after joining */
};

static void make_msg(unsigned char *m, uint32_t i)
{
	memcpy(m, &i, 4);
	fill_pattern(m + 4, msg_len(i) - 4, i);
}

static int reader(void *arg)
{
	const struct job *j = arg;
	struct result res = {.sum = 0xcbf29ce484222325ull, .first = UINT32_MAX};
	unsigned char m[256];
	ipck_chan *r;
	int e = ipck_open(&r, j->url, 0);
	if (e)
		return 2;
	if (j->die)
		raise(SIGKILL);
	int64_t prev = -1;
	for (;;) {
		ssize_t n = ipck_recv(r, m, sizeof(m), 20000);
		if (n < 0) {
			res.end = (int)n;
			break;
		}
		uint32_t i;
		memcpy(&i, m, 4);
		if (n != (ssize_t)msg_len(i) || (int64_t)i <= prev || !check_pattern(m + 4, (size_t)n - 4, i))
			res.bad++;
		if (res.first == UINT32_MAX)
			res.first = i;
		res.last = i;
		prev = i;
		res.sum = fnv(res.sum, m, (size_t)n);
		res.received++;
	}
	struct ipck_stats st;
	ipck_stats(r, &st);
	res.dropped = st.dropped;
	ipck_close(r);
	return write(j->out, &res, sizeof(res)) == sizeof(res) ? 0 : 3;
}

static pid_t start_reader(struct job *j, int fds[2], const char *url, bool die)
{
	REQUIRE(pipe(fds) == 0);
	j->url = url;
	j->out = fds[1];
	j->die = die;
	pid_t pid = spawn(reader, j);
	close(fds[1]);
	return pid;
}

static struct result end_reader(pid_t pid, int fd)
{
	struct result res = {.end = 1};
	CHECK_EQ(reap(pid), 0);
	CHECK_EQ(read(fd, &res, sizeof(res)), sizeof(res));
	close(fd);
	return res;
}

/* Accept n readers: every pid announced is one of pids. */
static void accept_readers(ipck_chan *l, const pid_t *pids, int n)
{
	for (int i = 0; i < n; i++) {
		ipck_chan *c = NULL;
		CHECK_OK(ipck_accept(l, &c, 10000));
		if (!c)
			continue;
		pid_t p = ipck_peer_pid(c);
		bool known = false;
		for (int k = 0; k < n; k++)
			known |= p == pids[k];
		CHECK(known);
		CHECK_EQ(ipck_send(c, "x", 1, 0), -ENOTSUP);
		CHECK_OK(ipck_close(c));
	}
}

static uint64_t send_all(ipck_chan *l, uint32_t count, int timeout_ms)
{
	unsigned char m[256];
	uint64_t sum = 0xcbf29ce484222325ull;
	for (uint32_t i = 0; i < count; i++) {
		make_msg(m, i);
		ssize_t n = ipck_send(l, m, msg_len(i), timeout_ms);
		CHECK_EQ(n, msg_len(i));
		sum = fnv(sum, m, msg_len(i));
	}
	return sum;
}

static void every_message(const char *scheme)
{
	char url[512];
	ipck_chan *l;
	cast_url(url, sizeof(url), scheme, "");
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	if (!l)
		return;
	struct job jobs[READERS];
	int fds[READERS][2];
	pid_t pids[READERS];
	for (int i = 0; i < READERS; i++)
		pids[i] = start_reader(&jobs[i], fds[i], url, false);
	accept_readers(l, pids, READERS);
	uint64_t sum = send_all(l, N, 20000);
	CHECK_OK(ipck_close(l));
	for (int i = 0; i < READERS; i++) {
		struct result r = end_reader(pids[i], fds[i][0]);
		CHECK_EQ(r.end, -EPIPE);
		CHECK_EQ(r.received, N);
		CHECK_EQ(r.dropped, 0);
		CHECK_EQ(r.bad, 0);
		CHECK_EQ(r.first, 0);
		CHECK_EQ(r.last, N - 1);
		CHECK(r.sum == sum);
	}
}

/* drop=oldest: one reader stopped while the writer sends; it loses, is told. */
static void drop_oldest(const char *scheme)
{
	char url[512];
	ipck_chan *l;
	struct job ja, jb;
	int fa[2], fb[2], st;
	cast_url(url, sizeof(url), scheme, "&drop=oldest");
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	if (!l)
		return;
	pid_t pids[2];
	pids[0] = start_reader(&ja, fa, url, false);
	pids[1] = start_reader(&jb, fb, url, false);
	accept_readers(l, pids, 2);
	CHECK_SYS(kill(pids[1], SIGSTOP));
	CHECK_EQ(waitpid(pids[1], &st, WUNTRACED), pids[1]);
	send_all(l, N, 0);   /* never waits for anyone */
	CHECK_SYS(kill(pids[1], SIGCONT));
	CHECK_OK(ipck_close(l));
	struct result a = end_reader(pids[0], fa[0]), b = end_reader(pids[1], fb[0]);
	CHECK_EQ(a.end, -EPIPE);
	CHECK_EQ(a.bad, 0);
	CHECK_EQ(a.received + a.dropped, N);
	CHECK_EQ(b.end, -EPIPE);
	CHECK_EQ(b.bad, 0);
	CHECK(b.dropped > 0);
	CHECK(b.received > 0);
	CHECK_EQ(b.received + b.dropped, N);
	CHECK_EQ(b.last, N - 1);
	CHECK(b.first >= b.dropped);   /* lost the oldest, not the newest */
}

/* A reader that dies without reading does not hold the writer. */
static void dead_reader(const char *scheme)
{
	char url[512];
	ipck_chan *l;
	struct job ja, jb;
	int fa[2], fb[2];
	cast_url(url, sizeof(url), scheme, "");
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	if (!l)
		return;
	pid_t pids[2];
	pids[0] = start_reader(&ja, fa, url, false);
	pids[1] = start_reader(&jb, fb, url, true);
	accept_readers(l, pids, 2);
	CHECK_EQ(reap(pids[1]), 128 + SIGKILL);
	close(fb[0]);
	long long t0 = now_ms();
	send_all(l, N, 10000);
	CHECK(now_ms() - t0 < 10000);
	CHECK_OK(ipck_close(l));
	struct result a = end_reader(pids[0], fa[0]);
	CHECK_EQ(a.end, -EPIPE);
	CHECK_EQ(a.received, N);
	CHECK_EQ(a.bad, 0);
}

static int readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms);
}

static int writer_dies(void *arg)
{
	ipck_chan *l, *c;
	if (ipck_open(&l, arg, IPCK_LISTEN) || ipck_accept(l, &c, 10000))
		return 2;
	ipck_send(l, "last", 4, 0);
	raise(SIGKILL);
	return 3;
}

/* The writer killed: a reader gets what was sent, then -EPIPE. */
static void writer_killed(const char *scheme)
{
	char url[512], m[16];
	ipck_chan *r = NULL;
	cast_url(url, sizeof(url), scheme, "");
	pid_t w = spawn(writer_dies, url);
	int e;
	long long t0 = now_ms();
	while ((e = ipck_open(&r, url, 0)) == -ECONNREFUSED && now_ms() - t0 < 10000)
		usleep(1000);
	CHECK_OK(e);
	CHECK_EQ(reap(w), 128 + SIGKILL);
	if (!r)
		return;
	CHECK_EQ(ipck_recv(r, m, sizeof(m), 5000), 4);
	CHECK_EQ(memcmp(m, "last", 4), 0);
	CHECK_EQ(readable(ipck_pollfd(r), 5000), 1);   /* its death */
	CHECK_EQ(ipck_recv(r, m, sizeof(m), 5000), -EPIPE);
	CHECK_OK(ipck_close(r));
	CHECK_OK(ipck_unlink(url));   /* its object outlived it */
}

/* ipck_pollfd on a reader: readable exactly when recv would not block. */
static void poll_reader(ipck_chan *l, ipck_chan *r)
{
	unsigned char m[64];
	int fd = ipck_pollfd(r);
	CHECK_OK(fd);
	CHECK_EQ(ipck_pollfd(l), -ENOTSUP);
	CHECK_EQ(readable(fd, 0), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(ipck_send(l, "ding", 4, 0), 4);
		CHECK_EQ(readable(fd, 1000), 1);
		CHECK_EQ(ipck_recv(r, m, sizeof(m), 0), 4);
		CHECK_EQ(readable(fd, 0), 0);
	}
	CHECK_EQ(ipck_send(l, "a", 1, 0), 1);
	CHECK_EQ(ipck_send(l, "b", 1, 0), 1);
	CHECK_EQ(ipck_recv(r, m, sizeof(m), 0), 1);
	CHECK_EQ(readable(fd, 0), 1);   /* one more there */
	CHECK_EQ(ipck_recv(r, m, sizeof(m), 0), 1);
	CHECK_EQ(readable(fd, 0), 0);
}

static void api(const char *scheme)
{
	char url[512], bad[600];
	unsigned char m[300];
	ipck_chan *l, *r, *x = NULL;
	const void *p;
	size_t len;
	cast_url(url, sizeof(url), scheme, "");
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	if (!l)
		return;
	CHECK_EQ(ipck_open(&x, url, IPCK_LISTEN), -EADDRINUSE);
	if (!strcmp(scheme, "pshm")) {
		struct stat sb;
		const char *name = strchr(url, '/');
	CHECK_SYS(stat(fmt("/dev/shm%.*s", (int)strcspn(name, "?"), name), &sb));
		CHECK_EQ(sb.st_mode & 0777, 0600);
	}
	CHECK_OK(ipck_open(&r, url, 0));
	snprintf(bad, sizeof(bad), "%s&drop=oldest", url);
	CHECK_EQ(ipck_open(&x, bad, 0), -EINVAL);
	CHECK_EQ(ipck_send(r, "x", 1, 0), -ENOTSUP);
	CHECK_EQ(ipck_recv(l, m, sizeof(m), 0), -ENOTCONN);
	CHECK_EQ(ipck_recv(r, m, sizeof(m), 0), -ETIMEDOUT);
	long long t0 = now_ms();
	CHECK_EQ(ipck_recv(r, m, sizeof(m), 100), -ETIMEDOUT);
	CHECK(now_ms() - t0 >= 90);
	CHECK_EQ(ipck_max_msg(l), 4096 - 16);
	make_msg(m, 7);
	CHECK_EQ(ipck_send(l, m, msg_len(7), 0), msg_len(7));
	CHECK_EQ(ipck_recv(r, m, 4, 0), -EMSGSIZE);
	CHECK_EQ(ipck_next_size(r), msg_len(7));
	CHECK_OK(ipck_peek(r, &p, &len, 0));
	CHECK_EQ(len, msg_len(7));
	CHECK_EQ(memcmp(p, &(uint32_t){7}, 4), 0);
	CHECK_OK(ipck_release(r));
	CHECK_EQ(ipck_peek(r, &p, &len, 0), -ETIMEDOUT);
	CHECK_EQ(ipck_send(l, m, ipck_max_msg(l) + 1, 0), -EMSGSIZE);
	poll_reader(l, r);
	CHECK_OK(ipck_close(l));
	CHECK_EQ(readable(ipck_pollfd(r), 1000), 1);   /* the goodbye */
	CHECK_EQ(ipck_recv(r, m, sizeof(m), 1000), -EPIPE);
	CHECK_OK(ipck_close(r));
	CHECK_EQ(ipck_pair(fmt("%s:?broadcast=1", scheme), &l, &r), -EINVAL);
	CHECK_EQ(ipck_open(&x, fmt("%s?broadcast=1", test_url("pipe")), IPCK_LISTEN), -EINVAL);
	CHECK_EQ(ipck_open(&x, fmt("%s&mpmc=1", url), IPCK_LISTEN), -EINVAL);
}

/* The last cap bytes of the object are the ring: scribble on its first record. */
static void scribble(const char *url, size_t cap, uint64_t junk)
{
	const char *name = strchr(url, '/');
	int fd = open(fmt("/dev/shm%.*s", (int)strcspn(name, "?"), name), O_RDWR);
	struct stat sb;
	CHECK_SYS(fd);
	CHECK_SYS(fstat(fd, &sb));
	unsigned char *p = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(p != MAP_FAILED);
	memcpy(p + sb.st_size - cap, &junk, 8);
	munmap(p, (size_t)sb.st_size);
	close(fd);
}

/* Whatever a peer scribbles in the segment fails the channel with -EPROTO, for good. */
static void hostile(void)
{
	char url[512];
	unsigned char m[64];
	ipck_chan *l, *r;
	cast_url(url, sizeof(url), "pshm", "");
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	CHECK_OK(ipck_open(&r, url, 0));
	CHECK_EQ(ipck_send(l, "hello", 5, 0), 5);
	scribble(url, 4096, 0x0000000100000fffull);   /* a length past the ring */
	CHECK_EQ(ipck_recv(r, m, sizeof(m), 0), -EPROTO);
	CHECK_EQ(ipck_recv(r, m, sizeof(m), 0), -EPROTO);
	CHECK_OK(ipck_close(r));
	CHECK_OK(ipck_close(l));
	/* drop=oldest: the writer walks its own old records to give them up */
	cast_url(url, sizeof(url), "pshm", "&drop=oldest");
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	CHECK_EQ(ipck_send(l, "hello", 5, 0), 5);
	scribble(url, 4096, 0xdeadbeef00000008ull);   /* a wrong tag */
	ssize_t n = 0;
	for (int i = 0; i < 1000 && n >= 0; i++)
		n = ipck_send(l, m, sizeof(m), 0);
	CHECK_EQ(n, -EPROTO);
	CHECK_OK(ipck_close(l));
}

int main(void)
{
	hostile();
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		const char *s = schemes[i];
		every_message(s);
		drop_oldest(s);
		dead_reader(s);
		writer_killed(s);
		api(s);
	}
	check_exit();
}
