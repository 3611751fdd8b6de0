/*
 * t_conform.c - one body over every scheme of the table: the channel
 * contract of include/ipckit.h, between two real processes.
 *
 *   client (child)                      server (parent)
 *   echo sizes 0,1,4095,4096,4097,max   echoes every message back
 *   "small": too-small buffer           sends 100 bytes
 *   timeouts 0 and 50 ms                -
 *   "poll": waits on ipck_pollfd        sleeps 50 ms, sends one
 *   "bye": gets 3 messages, then EPIPE  sends 3, closes
 * then a second peer sends 5 messages and is SIGKILLed: the server gets
 * all 5, then an error, not a timeout.
 *
 *   t_conform [SCHEME...]    (default: every scheme, and the pair URLs below)
 * A SCHEME with a ':' is a URL for ipck_pair: "pshm:".
 */
#include "check.h"
#include "ipckit.h"
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *url;
static size_t maxsz;
static ipck_chan *pair_a, *pair_b;   /* the two ends of a pair scheme */

/* Schemes that listen and also make pairs: their pair runs too. */
static const char *const pair_urls[] = {"pshm:"};

static bool is_pair(const char *scheme)
{
	const struct ipck_scheme_info *s;
	if (strchr(scheme, ':'))
		return true;
	for (size_t i = 0; (s = ipck_scheme_at(i)); i++)
		if (!strcmp(s->name, scheme))
			return s->caps & IPCK_CAP_PAIR_ONLY;
	return false;
}

static size_t test_max(size_t m)
{
	return m > (16u << 20) ? (16u << 20) : m;
}

static int client_connect(ipck_chan **c)
{
	if (pair_b) {
		ipck_close(pair_a);   /* the parent's end: keep only ours */
		*c = pair_b;
		return 0;
	}
	return ipck_open(c, url, 0);
}

static void client_echo(ipck_chan *c, unsigned char *buf, unsigned char *back)
{
	size_t sizes[] = {0, 1, 4095, 4096, 4097, maxsz};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i] > maxsz ? maxsz : sizes[i];
		fill_pattern(buf, n, (unsigned)(n + i));
		CHECK_EQ(ipck_send(c, buf, n, 10000), n);
		ssize_t r = ipck_recv(c, back, maxsz, 10000);
		CHECK_EQ(r, n);
		if (r == (ssize_t)n)
			CHECK(check_pattern(back, n, (unsigned)(n + i)));
	}
	CHECK_EQ(ipck_send(c, buf, ipck_max_msg(c) + 1, 1000), -EMSGSIZE);
}

static void client_small_and_timeouts(ipck_chan *c, unsigned char *back)
{
	CHECK_EQ(ipck_send(c, "small", 5, 5000), 5);
	CHECK_EQ(ipck_recv(c, back, 10, 5000), -EMSGSIZE);
	CHECK_EQ(ipck_next_size(c), 100);
	CHECK_EQ(ipck_recv(c, back, 100, 5000), 100);
	CHECK(check_pattern(back, 100, 7));

	long long t0 = now_ms();
	CHECK_EQ(ipck_recv(c, back, maxsz, 0), -ETIMEDOUT);
	CHECK(now_ms() - t0 < 100);
	t0 = now_ms();
	CHECK_EQ(ipck_recv(c, back, maxsz, 50), -ETIMEDOUT);
	long long dt = now_ms() - t0;
	CHECK(dt >= 45 && dt < 1000);
}

static void client_poll_and_bye(ipck_chan *c, unsigned char *back)
{
	int pfd = ipck_pollfd(c);
	CHECK(pfd >= 0);
	struct pollfd p = {.fd = pfd, .events = POLLIN};
	CHECK_EQ(poll(&p, 1, 0), 0);   /* nothing there yet */
	CHECK_EQ(ipck_send(c, "poll", 4, 5000), 4);
	CHECK_EQ(poll(&p, 1, 5000), 1);
	CHECK_EQ(ipck_recv(c, back, maxsz, 0), 1);

	CHECK_EQ(ipck_send(c, "bye", 3, 5000), 3);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(ipck_recv(c, back, maxsz, 5000), 2);
	long long t0 = now_ms();
	ssize_t r = ipck_recv(c, back, maxsz, 5000);
	CHECK(r == -EPIPE || r == -ECONNRESET);
	if (r != -EPIPE && r != -ECONNRESET)
		fprintf(stderr, "after the peer closed: %s\n", ipck_errname((int)r));
	CHECK(now_ms() - t0 < 1000);
	r = ipck_recv(c, back, maxsz, 100);   /* and it stays so */
	CHECK(r == -EPIPE || r == -ECONNRESET);
}

static int client(void *arg)
{
	(void)arg;
	ipck_chan *c;
	int r = client_connect(&c);
	CHECK_OK(r);
	if (r < 0)
		return 1;
	unsigned char *buf = malloc(maxsz + 1), *back = malloc(maxsz + 1);
	REQUIRE(buf && back);
	client_echo(c, buf, back);
	client_small_and_timeouts(c, back);
	client_poll_and_bye(c, back);
	CHECK_OK(ipck_close(c));
	free(buf);
	free(back);
	return check_failures ? 1 : 0;
}

/* Serve the client until it says "bye". */
static void serve(ipck_chan *s)
{
	unsigned char *buf = malloc(maxsz + 1), small[100];
	REQUIRE(buf);
	for (;;) {
		ssize_t n = ipck_recv(s, buf, maxsz, 20000);
		CHECK_OK(n);
		if (n < 0)
			break;
		if (n == 5 && !memcmp(buf, "small", 5)) {
			fill_pattern(small, 100, 7);
			CHECK_EQ(ipck_send(s, small, 100, 5000), 100);
		} else if (n == 4 && !memcmp(buf, "poll", 4)) {
			usleep(50000);
			CHECK_EQ(ipck_send(s, "p", 1, 5000), 1);
		} else if (n == 3 && !memcmp(buf, "bye", 3)) {
			for (int i = 0; i < 3; i++)
				CHECK_EQ(ipck_send(s, "ok", 2, 5000), 2);
			break;
		} else {
			CHECK_EQ(ipck_send(s, buf, (size_t)n, 10000), n);
		}
	}
	free(buf);
}

static int killed_peer(void *arg)
{
	(void)arg;
	ipck_chan *c;
	if (client_connect(&c) < 0)
		return 1;
	for (int i = 0; i < 5; i++)
		if (ipck_send(c, &i, sizeof(i), 5000) != sizeof(i))
			return 1;
	pause();   /* until SIGKILL */
	return 0;
}

/* The second peer sends 5 and is killed: all 5 arrive, then an error. */
static void peer_death(ipck_chan *s, pid_t pid)
{
	int v;
	CHECK_EQ(ipck_recv(s, &v, sizeof(v), 10000), sizeof(v));
	CHECK_EQ(v, 0);
	usleep(20000);   /* let it send the rest */
	kill(pid, SIGKILL);
	CHECK_EQ(reap(pid), 128 + SIGKILL);
	for (int i = 1; i < 5; i++) {
		CHECK_EQ(ipck_recv(s, &v, sizeof(v), 5000), sizeof(v));
		CHECK_EQ(v, i);
	}
	long long t0 = now_ms();
	ssize_t r = ipck_recv(s, &v, sizeof(v), 5000);
	CHECK(r == -EPIPE || r == -ECONNRESET);
	long long dt = now_ms() - t0;
	CHECK(dt < 1000);
	fprintf(stderr, "  peer death noticed in %lld ms (%s)\n", dt, ipck_errname((int)r));
}

/* Serve one client process: a pair end, or an accepted connection. */
static ipck_chan *start(ipck_chan *l, int (*fn)(void *), pid_t *pid)
{
	ipck_chan *a = NULL;
	if (!l) {
		CHECK_OK(ipck_pair(url, &pair_a, &pair_b));
		a = pair_a;
		*pid = spawn(fn, NULL);
		ipck_close(pair_b);
		pair_b = NULL;
		return a;
	}
	*pid = spawn(fn, NULL);
	int r = ipck_accept(l, &a, 10000);
	CHECK_OK(r);
	return r < 0 ? NULL : a;
}

static void conform(const char *scheme)
{
	int before = check_failures;
	ipck_chan *l = NULL, *s;
	pid_t pid;
	url = strchr(scheme, ':') ? scheme : test_url(scheme);
	if (!url) {
		check_fail(__FILE__, __LINE__, "no test URL for scheme %s", scheme);
		return;
	}
	fprintf(stderr, "== %s (%s)\n", scheme, url);
	if (!is_pair(scheme)) {
		CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
		if (!l)
			return;
		maxsz = test_max(ipck_max_msg(l));
	} else {
		ipck_chan *a, *b;
		CHECK_OK(ipck_pair(url, &a, &b));
		maxsz = test_max(ipck_max_msg(a));
		ipck_close(a);
		ipck_close(b);
	}
	if ((s = start(l, client, &pid))) {
		serve(s);
		CHECK_OK(ipck_close(s));
	}
	CHECK_EQ(reap(pid), 0);
	if ((s = start(l, killed_peer, &pid))) {
		peer_death(s, pid);
		CHECK_OK(ipck_close(s));
	} else {
		kill(pid, SIGKILL);
		reap(pid);
	}
	CHECK_OK(ipck_close(l));
	fprintf(stderr, "%s %s\n", check_failures == before ? "ok  " : "FAIL", scheme);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			conform(argv[i]);
	} else {
		const struct ipck_scheme_info *s;
		for (size_t i = 0; (s = ipck_scheme_at(i)); i++)
			conform(s->name);
		for (size_t i = 0; i < sizeof(pair_urls) / sizeof(pair_urls[0]); i++)
			conform(pair_urls[i]);
	}
	check_exit();
}
