/*
 * bench_relay.c - `ipckit relay` measured as a peer of the benchmark: the
 * driver's messages go FROM -> relay -> TO and back, through a third
 * process running cmd_relay --both, so the rate of a relay can be set
 * beside the rate of one channel of the same scheme (relay-pshm beside pshm).
 *
 * Order, so that nobody connects to what does not exist yet: B listens on
 * TO, forks the relay (which listens on FROM, accepts A, then connects to
 * TO), and accepts it; A connects to FROM, retrying until the relay listens.
 * The names come from the run's private directory; cleanup removes them.
 */
#include "bench.h"
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RELAY_TMO_MS 10000

struct rpeer {
	ipck_chan *c, *l;
	pid_t relay;
};

/* FROM (which = 'f') or TO ('t') of the relay for scheme, under dir. */
static void relay_url(char *buf, size_t cap, const char *scheme, const char *dir, char which)
{
	const char *base = strrchr(dir, '/');
	if (!strcmp(scheme, "pshm"))
		snprintf(buf, cap, "pshm:/%s-r%c", base ? base + 1 : dir, which);
	else
		snprintf(buf, cap, "%s:%s/relay-%c", scheme, dir, which);
}

static void run_relay(const char *from, const char *to)
{
	char *argv[] = {"relay", "--both", (char *)from, (char *)to, NULL};
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	cli_prog = "ipckit relay";
	_exit(cmd_relay(4, argv));
}

/* B: listen on TO, start the relay, accept it. */
static int open_b(struct rpeer *p, const char *from, const char *to)
{
	int r = ipck_open(&p->l, to, IPCK_LISTEN);
	if (r < 0)
		return r;
	fflush(NULL);
	p->relay = fork();
	if (p->relay < 0)
		return -errno;
	if (p->relay == 0)
		run_relay(from, to);
	return ipck_accept(p->l, &p->c, RELAY_TMO_MS);
}

/* A: connect to FROM once the relay listens there. */
static int open_a(struct rpeer *p, const char *from)
{
	struct timespec ms = {0, 1000000};
	int r = -ETIMEDOUT;
	for (int i = 0; i < RELAY_TMO_MS; i++) {
		r = ipck_open(&p->c, from, 0);
		if (r != -ECONNREFUSED && r != -ENOENT)
			break;
		nanosleep(&ms, NULL);
	}
	return r;
}

static int relay_open(void **ctx, const char *dir, int side, const char *scheme)
{
	char from[320], to[320];
	struct rpeer *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	relay_url(from, sizeof(from), scheme, dir, 'f');
	relay_url(to, sizeof(to), scheme, dir, 't');
	int r = side ? open_b(p, from, to) : open_a(p, from);
	*ctx = p;   /* closed by relay_close even after a failure */
	return r;
}

static int open_pshm(void **ctx, const char *dir, int side) { return relay_open(ctx, dir, side, "pshm"); }
static int open_unix(void **ctx, const char *dir, int side) { return relay_open(ctx, dir, side, "unix"); }

static ssize_t relay_send(void *ctx, const void *msg, size_t len)
{
	return ipck_send(((struct rpeer *)ctx)->c, msg, len, RELAY_TMO_MS);
}

static ssize_t relay_recv(void *ctx, void *buf, size_t cap)
{
	return ipck_recv(((struct rpeer *)ctx)->c, buf, cap, RELAY_TMO_MS);
}

static void relay_close(void *ctx)
{
	struct rpeer *p = ctx;
	ipck_close(p->c);
	ipck_close(p->l);
	/* B's end closed: the relay sees TO end and exits, removing FROM; a
	 * SIGTERM (which prints totals) only if it has not within 2 s. */
	for (int i = 0; p->relay > 0 && i < 200; i++) {
		if (waitpid(p->relay, NULL, WNOHANG) != 0)
			p->relay = 0;   /* reaped (or not ours): never signal it */
		else
			nanosleep(&(struct timespec){0, 10000000}, NULL);
	}
	if (p->relay > 0 && kill(p->relay, SIGTERM) == 0)
		waitpid(p->relay, NULL, 0);
	free(p);
}

static void cleanup(const char *dir, const char *scheme)
{
	char u[320];
	relay_url(u, sizeof(u), scheme, dir, 'f');
	ipck_unlink(u);
	relay_url(u, sizeof(u), scheme, dir, 't');
	ipck_unlink(u);
}

static void cleanup_pshm(const char *dir) { cleanup(dir, "pshm"); }
static void cleanup_unix(const char *dir) { cleanup(dir, "unix"); }

/* The relay carries what both sides carry: a default ring's record (1 MiB
 * less its 8-byte header), a framed stream message (16 MiB). */
const struct ipck_bench_peer cli_relay_pshm = {
	"relay-pshm", (1u << 20) - 8, open_pshm, relay_send, relay_recv, relay_close, cleanup_pshm,
};
const struct ipck_bench_peer cli_relay_unix = {
	"relay-unix", 16u << 20, open_unix, relay_send, relay_recv, relay_close, cleanup_unix,
};
