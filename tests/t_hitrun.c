/*
 * t_hitrun.c - a listener that accepts, sends three messages and closes at
 * once, on every named scheme, many times over: the client, which may still
 * be inside its ipck_open when the listener is already gone, must open,
 * receive the three messages whole and in order, then -EPIPE or -ECONNRESET.
 * The race this catches: a unix-dgram client whose connect() to the
 * listener's per-peer socket came after that socket closed, and failed the
 * open with the messages waiting in its queue.
 *   t_hitrun [SCHEME...]
 */
#include "check.h"
#include "ipckit.h"
#include <string.h>

#define ROUNDS 40
#define MSGS 3

static int client(void *arg)
{
	const char *url = arg;
	ipck_chan *c = NULL;
	char buf[64];
	CHECK_OK(ipck_open(&c, url, 0));
	REQUIRE(c);
	for (unsigned i = 0; i < MSGS; i++) {
		ssize_t n = ipck_recv(c, buf, sizeof(buf), 5000);
		CHECK_EQ(n, 16);
		CHECK(n == 16 && check_pattern(buf, 16, i));
	}
	ssize_t r = ipck_recv(c, buf, sizeof(buf), 5000);
	CHECK(r == -EPIPE || r == -ECONNRESET);
	CHECK_OK(ipck_close(c));
	return check_failures != 0;
}

static void round_of(const char *scheme)
{
	const char *url = test_url(scheme);
	ipck_chan *l = NULL, *s = NULL;
	char m[16];
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	REQUIRE(l);
	pid_t pid = spawn(client, (void *)url);
	CHECK_OK(ipck_accept(l, &s, 10000));
	for (unsigned i = 0; s && i < MSGS; i++) {
		fill_pattern(m, sizeof(m), i);
		CHECK_EQ(ipck_send(s, m, sizeof(m), 5000), sizeof(m));
	}
	CHECK_OK(ipck_close(s));
	CHECK_OK(ipck_close(l));
	CHECK_EQ(reap(pid), 0);
}

int main(int argc, char **argv)
{
	const struct ipck_scheme_info *si;
	for (size_t i = 0; (si = ipck_scheme_at(i)); i++) {
		if ((si->caps & (IPCK_CAP_PAIR_ONLY | IPCK_CAP_LOSSY)) ||
		    !scheme_wanted(si->name, argc, argv))
			continue;
		long long t0 = now_ms();
		int before = check_failures;
		for (unsigned r = 0; r < ROUNDS && check_failures == before; r++)
			round_of(si->name);
		printf("%-14s %d rounds, %s, %lld ms\n", si->name, ROUNDS,
		       check_failures == before ? "ok" : "FAILED", now_ms() - t0);
	}
	check_exit();
}
