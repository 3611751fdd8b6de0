/*
 * t_badinput.c - the table of bad inputs: every call of the public API with a
 * wrong URL, size, timeout, NULL, or on a channel in the wrong state (a
 * listener, a connected channel given to accept, a channel whose peer has
 * closed), for every scheme of the table, each with the exact error it must
 * give.  Prints one line per row: scheme, input, what came back.
 *
 * A peer that closed cleanly gives -EPIPE on every scheme (-ECONNRESET is
 * for a connection the kernel saw torn, t_peerdeath).  Runs on the normal and the SANITIZE=1
 * build alike (make test, make test SANITIZE=1).
 *
 *   t_badinput [SCHEME...]    (default: every scheme)
 */
#include "check.h"
#include "internal.h"
#include <signal.h>
#include <unistd.h>

static const char *cur = "-";   /* the scheme of the rows being checked */
static int rows;

static void row(const char *what, long long got, long long want, int line)
{
	rows++;
	printf("%-15s %-44s %-14s %s\n", cur, what, check_ename(got)[0] ? check_ename(got) : fmt("%lld", got),
	       got == want ? "ok" : fmt("WANT %s", want < 0 ? check_ename(want) : fmt("%lld", want)));
	if (got != want)
		check_fail(__FILE__, line, "%s %s: %lld (%s), want %lld (%s)", cur, what,
			   got, check_ename(got), want, check_ename(want));
}
#define ROW(what, expr, want) row(what, (long long)(expr), (long long)(want), __LINE__)

/* ---- URLs and NULLs that no scheme may accept ---------------------------- */

static void generic_rows(void)
{
	static const char *bad[] = {
		"", ":", "unix", ":/x", "nope:/x", "UNIX:/x", "unix :/x", "unix:/x?", "unix:/x?&",
		"unix:/x?mode", "unix:/x?mode=", "unix:/x?=1", "unix:/x?mode=0600&", "unix:/x?mode=600",
		"unix:/x?mode=010000", "unix:/x?mode=0600&mode=0600", "unix:/x?timeout=-1",
		"unix:/x?timeout=99999999999", "unix:/x?timeout=1x", "unix:/x?raw=2", "unix:/x?bogus=1",
		"unix:/x?peer_uid=4294967295", "unix:/x?peer_uid=-1", "unix:", "pipe:x", "socketpair:x",
		"tcp://", "tcp://:80", "tcp://127.0.0.1", "tcp://127.0.0.1:", "tcp://127.0.0.1:65536",
		"tcp://127.0.0.1:-1", "tcp://::1:80", "tcp://[::1]80", "tcp:127.0.0.1:80", "udp://[::1:80",
	};
	ipck_chan *c = (ipck_chan *)1, *d;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ROW(fmt("open \"%s\"", bad[i]), ipck_open(&c, bad[i], 0), -EINVAL);
		ROW("  ... leaves *ch NULL", c == NULL, 1);
		ROW(fmt("open \"%s\" LISTEN", bad[i]), ipck_open(&c, bad[i], IPCK_LISTEN), -EINVAL);
		ROW(fmt("unlink \"%s\"", bad[i]), ipck_unlink(bad[i]), -EINVAL);
	}
	char *longp = malloc(PATH_MAX + 16);
	REQUIRE(longp);
	memcpy(longp, "unix:", 5);
	memset(longp + 5, 'a', PATH_MAX + 10);
	longp[PATH_MAX + 15] = '\0';
	ROW("open unix: with a path over PATH_MAX", ipck_open(&c, longp, 0), -EINVAL);
	longp[5 + 108] = '\0';
	ROW("open unix: path of 108 (sun_path full)", ipck_open(&c, longp, IPCK_LISTEN), -EINVAL);
	free(longp);
	ROW("open NULL out", ipck_open(NULL, "unix:/x", 0), -EINVAL);
	ROW("open NULL url", ipck_open(&c, NULL, 0), -EINVAL);
	ROW("open flags 0x2", ipck_open(&c, "unix:/x", 0x2), -EINVAL);
	ROW("open flags -1", ipck_open(&c, "unix:/x", -1), -EINVAL);
	ROW("pair NULL url", ipck_pair(NULL, &c, &d), -EINVAL);
	ROW("pair NULL a", ipck_pair("pipe:", NULL, &d), -EINVAL);
	ROW("pair NULL b", ipck_pair("pipe:", &c, NULL), -EINVAL);
	ROW("pair bad url", ipck_pair("pipe:?raw=5", &c, &d), -EINVAL);
	ROW("accept NULL listener", ipck_accept(NULL, &c, 0), -EINVAL);
	ROW("accept NULL out", ipck_accept(NULL, NULL, 0), -EINVAL);
	ROW("send NULL channel", ipck_send(NULL, "x", 1, 0), -EINVAL);
	ROW("recv NULL channel", ipck_recv(NULL, &c, 1, 0), -EINVAL);
	ROW("next_size NULL", ipck_next_size(NULL), -EINVAL);
	ROW("pollfd NULL", ipck_pollfd(NULL), -EINVAL);
	ROW("max_msg NULL", ipck_max_msg(NULL), 0);
	ROW("peer_pid NULL", ipck_peer_pid(NULL), 0);
	ROW("scheme NULL", ipck_scheme(NULL) == NULL, 1);
	ROW("stats NULL", ipck_stats(NULL, &(struct ipck_stats){0}), -EINVAL);
	ROW("close NULL", ipck_close(NULL), 0);
	ROW("unlink NULL", ipck_unlink(NULL), -EINVAL);
	ROW("strerror 0 not NULL", ipck_strerror(0) != NULL, 1);
	ROW("strerror INT_MIN not NULL", ipck_strerror(INT_MIN) != NULL, 1);
	ROW("errname INT_MIN not NULL", ipck_errname(INT_MIN) != NULL, 1);
	ROW("errname 99999 not NULL", ipck_errname(99999) != NULL, 1);
	ROW("scheme_at past the end", ipck_scheme_at(1000) == NULL, 1);
}

/* ---- options: each one a scheme does not take, and a bad value of each it does */

static const char *const opt_names[32] = {
	"mode", "peer_uid", "raw", "maxmsg", "msgsize", "timeout", "capacity", "spin_us",
	"mpmc", "mailbox", "broadcast", "drop", "from", "keep", "priority", "sig",
};

/* Open (or pair) url as the scheme would; close what opened. */
static int try_url(const struct ipck_scheme *sc, const char *u)
{
	ipck_chan *a, *b;
	int r;
	if (sc->info.caps & IPCK_CAP_PAIR_ONLY) {
		if (!(r = ipck_pair(u, &a, &b)))
			ipck_close(b);
	} else {
		r = ipck_open(&a, u, IPCK_LISTEN);
	}
	if (!r)
		ipck_close(a);
	return r;
}

static void option_rows(const struct ipck_scheme *sc, const char *url)
{
	const char *sep = strchr(url, '?') ? "&" : "?";
	for (unsigned b = 0; b < 32; b++) {
		if (!opt_names[b])
			continue;
		const char *u = fmt("%s%s%s=%s", url, sep, opt_names[b], "x");
		if (!(sc->opts & (1u << b)))
			u = fmt("%s%s%s=%s", url, sep, opt_names[b], "1");
		ROW(fmt("open ?%s=%s", opt_names[b], sc->opts & (1u << b) ? "x" : "1 (not taken)"),
		    try_url(sc, u), -EINVAL);
	}
}

/* ---- one channel, from the side that has it --------------------------------- */

/* Calls with bad arguments on a connected channel, which must stay usable. */
static void conn_rows(ipck_chan *c)
{
	char buf[8];
	ipck_chan *x = (ipck_chan *)1;
	size_t max = ipck_max_msg(c);
	char *big = calloc(1, max + 1);
	REQUIRE(big);
	ROW("accept on a connected channel", ipck_accept(c, &x, 0), -EINVAL);
	ROW("  ... leaves *ch NULL", x == NULL, 1);
	ROW("send max_msg + 1", ipck_send(c, big, max + 1, 1000), -EMSGSIZE);
	ROW("send SIZE_MAX", ipck_send(c, big, SIZE_MAX, 1000), -EMSGSIZE);
	ROW("send NULL, 5", ipck_send(c, NULL, 5, 0), -EINVAL);
	ROW("send timeout -2", ipck_send(c, "x", 1, -2), -EINVAL);
	ROW("send timeout INT_MIN", ipck_send(c, "x", 1, INT_MIN), -EINVAL);
	ROW("recv NULL, 5", ipck_recv(c, NULL, 5, 0), -EINVAL);
	ROW("recv timeout -2", ipck_recv(c, buf, sizeof(buf), -2), -EINVAL);
	ROW("recv timeout 0, nothing sent", ipck_recv(c, buf, sizeof(buf), 0), -ETIMEDOUT);
	ROW("recv NULL, 0, timeout 0", ipck_recv(c, NULL, 0, 0), -ETIMEDOUT);
	ROW("next_size before any -EMSGSIZE", ipck_next_size(c), -EAGAIN);
	ROW("stats NULL out", ipck_stats(c, NULL), -EINVAL);
	free(big);
}

/* The peer sends 100 bytes, then closes: sizes first, then the end, three times. */
static void peer_gone_rows(ipck_chan *c)
{
	char buf[100];
	ROW("recv 100-byte msg into 10", ipck_recv(c, buf, 10, 5000), -EMSGSIZE);
	ROW("  ... next_size", ipck_next_size(c), 100);
	ROW("  ... again into 99", ipck_recv(c, buf, 99, 0), -EMSGSIZE);
	ROW("  ... then into 100", ipck_recv(c, buf, 100, 5000), 100);
	ROW("  ... next_size after", ipck_next_size(c), -EAGAIN);
	ROW("recv, peer closed", ipck_recv(c, buf, sizeof(buf), 5000), -EPIPE);
	for (int i = 0; i < 3; i++)
		ROW("  ... and again, the same", ipck_recv(c, buf, sizeof(buf), 100), -EPIPE);
	ROW("send, peer closed", ipck_send(c, "x", 1, 1000), -EPIPE);
	ROW("  ... and again", ipck_send(c, "x", 1, 1000), -EPIPE);
}

static ipck_chan *parent_end;   /* a pair's other end, for the child to close */
static int listening_fd = -1;   /* named schemes: a byte here once the listener is up */

/* The child: waits for "go", makes its bad calls, sends 100 bytes, closes. */
static int peer_main(void *arg)
{
	ipck_chan *c = arg;
	char msg[100];
	int before = check_failures;
	memset(msg, 'm', sizeof(msg));
	char go;
	ipck_close(parent_end);
	if (!c && (read(listening_fd, &go, 1) != 1 || ipck_open(&c, getenv("BADINPUT_URL"), 0) < 0))
		return 1;
	CHECK_EQ(ipck_recv(c, msg, sizeof(msg), 10000), 2);
	conn_rows(c);
	CHECK_EQ(ipck_send(c, msg, sizeof(msg), 5000), sizeof(msg));
	CHECK_OK(ipck_close(c));
	return check_failures > before;
}

/* Both sides connected: our bad calls, then the child's, then it closes. */
static void connected_rows(ipck_chan *s, pid_t pid)
{
	conn_rows(s);
	CHECK_EQ(ipck_send(s, "go", 2, 5000), 2);
	peer_gone_rows(s);
	CHECK_EQ(reap(pid), 0);
	CHECK_OK(ipck_close(s));
}

static void pair_scheme(const char *url)
{
	ipck_chan *a, *b, *x;
	ROW("open a pair-only scheme", ipck_open(&x, url, 0), -EINVAL);
	ROW("open a pair-only scheme LISTEN", ipck_open(&x, url, IPCK_LISTEN), -EINVAL);
	ROW("unlink a pair-only scheme", ipck_unlink(url), -ENOTSUP);
	CHECK_OK(ipck_pair(url, &a, &b));
	if (!a)
		return;
	parent_end = a;
	pid_t pid = spawn(peer_main, b);
	parent_end = NULL;
	ipck_close(b);
	connected_rows(a, pid);
}

static void listener_rows(ipck_chan *l, const char *url)
{
	char buf[4];
	ipck_chan *x = (ipck_chan *)1, *y;
	ROW("send on a listener", ipck_send(l, "x", 1, 0), -ENOTCONN);
	ROW("recv on a listener", ipck_recv(l, buf, sizeof(buf), 0), -ENOTCONN);
	ROW("accept NULL out", ipck_accept(l, NULL, 0), -EINVAL);
	ROW("accept timeout -2", ipck_accept(l, &x, -2), -EINVAL);
	ROW("  ... leaves *ch NULL", x == NULL, 1);
	ROW("accept timeout 0, nobody", ipck_accept(l, &x, 0), -ETIMEDOUT);
	ROW("accept timeout 50, nobody", ipck_accept(l, &x, 50), -ETIMEDOUT);
	ROW("listen twice on one address", ipck_open(&y, url, IPCK_LISTEN), -EADDRINUSE);
	ROW("pollfd of a listener >= 0", ipck_pollfd(l) >= 0, 1);
}

static void named_scheme(const struct ipck_scheme *sc, const char *url)
{
	ipck_chan *l, *s = NULL, *x;
	char quick[PATH_MAX];
	snprintf(quick, sizeof(quick), sc->opts & OPT_TIMEOUT ? "%s?timeout=200" : "%s", url);
	/* A named URL never makes a pair: -ENOTSUP, or -EINVAL where the scheme
	 * has an unnamed pair of its own ("pshm:"). */
	ROW("pair on a named scheme", ipck_pair(url, &l, &x), sc->pair ? -EINVAL : -ENOTSUP);
	ROW(fmt("unlink, nothing there"), ipck_unlink(url), -ENOENT);
	ROW("connect, nobody listens", ipck_open(&x, quick, 0), -ECONNREFUSED);
	option_rows(sc, url);
	/* The peer is forked before the listener exists, and connects when told:
	 * a listener may run a thread (svmsg), and a child forked from a process
	 * with threads may not start threads of its own (POSIX allows it only
	 * async-signal-safe calls; ThreadSanitizer kills it). */
	int go[2];
	CHECK_SYS(pipe(go));
	setenv("BADINPUT_URL", url, 1);
	listening_fd = go[0];
	pid_t pid = spawn(peer_main, NULL);
	close(go[0]);
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	if (l)
		listener_rows(l, url);
	CHECK_EQ(write(go[1], "g", 1), 1);
	close(go[1]);
	if (!l) {
		reap(pid);
		return;
	}
	CHECK_OK(ipck_accept(l, &s, 10000));
	if (s)
		connected_rows(s, pid);
	else
		reap(pid);
	CHECK_OK(ipck_close(l));
	ROW("unlink after the listener closed", ipck_unlink(url), -ENOENT);
	ROW("connect after the listener closed", ipck_open(&x, quick, 0), -ECONNREFUSED);
}

static void scheme_rows(const struct ipck_scheme *sc)
{
	char url[PATH_MAX];   /* fmt's buffers are reused by the rows */
	cur = sc->info.name;
	if (!test_url(cur)) {
		check_fail(__FILE__, __LINE__, "no test URL for scheme %s", cur);
		return;
	}
	snprintf(url, sizeof(url), "%s", test_url(cur));
	if (sc->info.caps & IPCK_CAP_PAIR_ONLY) {
		option_rows(sc, url);
		pair_scheme(url);
	} else {
		named_scheme(sc, url);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	generic_rows();
	for (size_t i = 0; ipck__schemes[i]; i++)
		if (scheme_wanted(ipck__schemes[i]->info.name, argc, argv))
			scheme_rows(ipck__schemes[i]);
	fprintf(stderr, "%d rows, %d failed\n", rows, check_failures);
	check_exit();
}
