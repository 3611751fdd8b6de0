/*
 * t_sigpipe.c - with SIGPIPE at its default disposition (which kills), 1,000
 * sends to a peer that has closed and exited never kill the sender, for every
 * scheme, framed and raw=1, from the listening side and the connecting side.
 *
 * Three processes per case: the writer W (SIG_DFL, SIGPIPE unblocked), the
 * closer C, and this one, which waits until C has exited and been reaped
 * before it lets W write.  W exits 0 when it survived and every send after
 * the first failure failed with -EPIPE or -ECONNRESET; a SIGPIPE death shows
 * as 128 + 13.  Framed channels must fail from the first send on, except
 * where the kernel itself learns of the close only from a send (tcp's RST,
 * udp's ICMP): there one send may pass, and is counted.  Raw udp has no
 * connection to lose: its sends only must not kill.
 *
 * On Linux 6.18 and later pipe writes go through pwritev2(RWF_NOSIGNAL); the
 * way older kernels take (SIGPIPE blocked around write(2), ours taken with
 * sigtimedwait) is checked directly: the writer survives, its signal mask is
 * as before, and a SIGPIPE it had pending itself is still pending.
 */
#include "check.h"
#include "internal.h"
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#define SENDS 1000

struct job {
	const char *url;
	const struct ipck_scheme *sc;
	bool raw, writer_owns;     /* the writer is the listening side */
	int ready[2], go[2];       /* owner -> connector: listening; parent -> W: write now */
	int joined[2];             /* owner -> connector: it has the connection */
	ipck_chan *pa, *pb;        /* a pair scheme's two ends */
};

static int wait_byte(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;
	return poll(&p, 1, 10000) == 1 && read(fd, &c, 1) == 1 ? 0 : -1;
}

/* Open our end: a pair end, or listen+accept, or connect.  One message crosses. */
static ipck_chan *join(struct job *j, bool owner)
{
	ipck_chan *l = NULL, *c = NULL;
	char b[8];
	if (j->pa) {
		c = owner ? j->pa : j->pb;
		ipck_close(owner ? j->pb : j->pa);
	} else if (owner) {
		CHECK_OK(ipck_open(&l, j->url, IPCK_LISTEN));
		if (write(j->ready[1], "r", 1) != 1 || !l)
			return NULL;
		CHECK_OK(ipck_accept(l, &c, 10000));
		ipck_close(l);   /* raw and rendezvous objects stay with the connection */
	} else {
		if (wait_byte(j->ready[0]) < 0)
			return NULL;
		CHECK_OK(ipck_open(&c, j->url, 0));
	}
	if (!c)
		return NULL;
	/* The connector speaks first: raw one-way objects flow that way. */
	if (owner) {
		CHECK_EQ(ipck_recv(c, b, sizeof(b), 10000), 2);
		CHECK_EQ(write(j->joined[1], "j", 1), 1);
	} else {
		CHECK_EQ(ipck_send(c, "hi", 2, 10000), 2);
		CHECK_EQ(wait_byte(j->joined[0]), 0);   /* raw dgram: accepted before we go */
	}
	return c;
}

static int closer(void *arg)
{
	struct job *j = arg;
	int before = check_failures;
	ipck_chan *c = join(j, !j->writer_owns);
	CHECK_OK(ipck_close(c));
	return check_failures > before;
}

struct tally {
	int passed;        /* sends accepted before the first failure */
	int gone;          /* -EPIPE / -ECONNRESET */
	int first_gone;    /* which of the two came first */
	int later_ok;      /* accepted after a failure (raw udp: no connection) */
	int timedout, oneway, other;
};

static void tally(struct tally *t, ssize_t r, int i)
{
	if (r >= 0 && !t->gone && !t->timedout)
		t->passed++;
	else if (r >= 0)
		t->later_ok++;
	else if (r == -EPIPE || r == -ECONNRESET)
		t->first_gone = t->first_gone ? t->first_gone : (int)r, t->gone++;
	else if (r == -ETIMEDOUT)
		t->timedout++;
	else if (r == -ENOTSUP)
		t->oneway++;
	else if (!t->other++)
		fprintf(stderr, "send %d: %s\n", i, ipck_errname((int)r));
}

/*
 * What the sends must give.  Framed: the end from the first send on, or
 * after the transport's buffer filled (a queue the dead peer no longer
 * reads, tcp's one send before the RST), never a timeout.  Raw has no peer
 * watch: a send may also time out (a queue nobody reads) or pass again (udp).
 */
static bool tally_ok(const struct job *j, const struct tally *t)
{
	if (t->other || (t->oneway && !j->raw))
		return false;
	if (t->oneway)
		return t->oneway == SENDS;   /* this side of a raw one-way object cannot send */
	if (j->raw)
		return true;
	return !t->timedout && !t->later_ok && t->passed + t->gone == SENDS && t->gone > 0;
}

static int writer(void *arg)
{
	struct job *j = arg;
	struct tally t = {0};
	char msg[64] = "ping";
	sigset_t none;
	sigemptyset(&none);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	ipck_chan *c = join(j, j->writer_owns);
	if (!c || wait_byte(j->go[0]) < 0)
		return 2;
	for (int i = 0; i < SENDS; i++)
		tally(&t, ipck_send(c, msg, sizeof(msg), j->raw ? 0 : 2000), i);
	ipck_close(c);
	printf("%-15s %-4s %-9s %4d accepted, then %4d %-10s %d accepted after, %d timed out%s\n",
	       j->sc->info.name, j->raw ? "raw" : "", j->writer_owns ? "listener" : "connector",
	       t.passed, t.gone, t.first_gone ? ipck_errname(t.first_gone) : "-", t.later_ok,
	       t.timedout, t.oneway ? " (one-way: this side reads only)" : "");
	return !tally_ok(j, &t);
}

static void run_case(struct job *j)
{
	CHECK_SYS(pipe(j->ready));
	CHECK_SYS(pipe(j->go));
	CHECK_SYS(pipe(j->joined));
	if (j->sc->info.caps & IPCK_CAP_PAIR_ONLY)
		CHECK_OK(ipck_pair(j->url, &j->pa, &j->pb));
	pid_t w = spawn(writer, j), c = spawn(closer, j);
	if (j->pa) {
		ipck_close(j->pa);
		ipck_close(j->pb);
	}
	CHECK_EQ(reap(c), 0);
	CHECK_EQ(write(j->go[1], "g", 1), 1);
	int st = reap(w);
	if (st == 128 + SIGPIPE)
		fprintf(stderr, "%s%s: the writer was killed by SIGPIPE\n", j->url, j->raw ? " raw" : "");
	CHECK_EQ(st, 0);
	for (int i = 0; i < 2; i++) {
		close(j->ready[i]);
		close(j->go[i]);
		close(j->joined[i]);
	}
	ipck_unlink(j->url);   /* raw objects the owner may leave: ENOENT is fine */
}

static void scheme_cases(const struct ipck_scheme *sc)
{
	for (int raw = 0; raw <= !!(sc->opts & OPT_RAW); raw++) {
		for (int owns = 0; owns < 2; owns++) {
			char url[PATH_MAX];
			snprintf(url, sizeof(url), "%s%s", test_url(sc->info.name), raw ? "?raw=1" : "");
			struct job j = {.url = url, .sc = sc, .raw = raw, .writer_owns = owns};
			run_case(&j);
		}
	}
}

static bool pipe_pending(void)
{
	sigset_t p;
	return sigpending(&p) == 0 && sigismember(&p, SIGPIPE);
}

/* Writes to a pipe with no reader through the pre-6.18 guard. */
static int masked_writer(void *arg)
{
	bool own_pending = arg != NULL;
	int p[2];
	sigset_t before, after, pipe_set;
	if (pipe(p) < 0 || close(p[0]) < 0)
		return 2;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	if (own_pending && (sigprocmask(SIG_BLOCK, &pipe_set, NULL) < 0 || raise(SIGPIPE)))
		return 3;
	sigprocmask(SIG_SETMASK, NULL, &before);
	for (int i = 0; i < SENDS; i++) {
		struct iovec v = {"x", 1};
		if (ipck__write_masked(p[1], &v, 1) != -EPIPE)
			return 4;
	}
	sigprocmask(SIG_SETMASK, NULL, &after);
	if (sigismember(&before, SIGPIPE) != sigismember(&after, SIGPIPE))
		return 5;
	return pipe_pending() == own_pending ? 0 : 6;
}

static void masked_cases(void)
{
	signal(SIGPIPE, SIG_DFL);
	CHECK_EQ(reap(spawn(masked_writer, NULL)), 0);
	CHECK_EQ(reap(spawn(masked_writer, "pending")), 0);
	printf("pre-6.18 guard: %d writes to a closed pipe, unblocked and with a pending SIGPIPE: ok\n",
	       SENDS);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		masked_cases();
	for (size_t i = 0; ipck__schemes[i]; i++)
		if (scheme_wanted(ipck__schemes[i]->info.name, argc, argv))
			scheme_cases(ipck__schemes[i]);
	check_exit();
}
