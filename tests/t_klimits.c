/*
 * t_klimits.c - kernel limits reached: the error the contract promises, and
 * never a message in part.
 *   - Every scheme with flow control, its receiver not reading: sends with
 *     timeout 0 until the transport is full (pipe and socket buffers, queue
 *     depth and msgmnb, RLIMIT_SIGPENDING for signal: (as root, as a user
 *     of its own), the ring): then -ETIMEDOUT (a timeout of 50 ms takes
 *     about that long).  The receiver
 *     then gets every message that was accepted, whole, in order, and
 *     nothing more.  udp has no flow control (the kernel drops): skipped;
 *     file: is a log on disk, bounded by the disk only (20,000 go).
 *   - RLIMIT_MSGQUEUE (as a user of its own, so that nobody else's queues
 *     count): a second raw pmsg: queue beyond it is -EDQUOT, the first one
 *     still works, nothing is left over.
 * pipe-max-size does not apply: ipckit never resizes a pipe, and a message
 * larger than the pipe goes through whole (t_soak sends 16 MiB ones).
 */
#include "check.h"
#include "internal.h"
#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define MSG 1000
#define MAX_SENDS 20000       /* 20 MB: more means no bound (file: a log on disk) */

static int go[2], res[2];       /* parent -> child: drain now; child -> parent: count */
static ipck_chan *pair_other;

static void msg_make(unsigned i, unsigned char *b)
{
	fill_pattern(b, MSG, i);
	memcpy(b, &i, sizeof(i));
}

/* The receiver: connect, wait, then take everything: how many came whole. */
static int receiver(void *arg)
{
	ipck_chan *c = arg;
	unsigned char b[MSG + 1], want[MSG];
	char x;
	long count = 0, bad = 0;
	ipck_close(pair_other);
	if (!c && ipck_open(&c, getenv("KLIMITS_URL"), 0) < 0)
		return 1;
	if (ipck_send(c, "r", 1, 5000) != 1 || read(go[0], &x, 1) != 1)   /* set up both ways */
		return 1;
	for (;;) {
		ssize_t n = ipck_recv(c, b, sizeof(b), 2000);
		if (n < 0)
			break;
		msg_make((unsigned)count, want);
		bad += n != MSG || memcmp(b, want, MSG);
		count++;
	}
	ipck_close(c);
	count = bad ? -1 - bad : count;
	return write(res[1], &count, sizeof(count)) == sizeof(count) ? 0 : 1;
}

/* Fill c until the transport says no; how many were accepted. */
static long fill(ipck_chan *c)
{
	unsigned char b[MSG];
	long n = 0;
	ssize_t r;
	for (; n < MAX_SENDS; n++) {
		msg_make((unsigned)n, b);
		if ((r = ipck_send(c, b, MSG, 0)) != MSG)
			break;
	}
	if (n < MAX_SENDS)
		CHECK_EQ(r, -ETIMEDOUT);
	return n;
}

static void full_scheme(const struct ipck_scheme *sc, const char *name)
{
	char url[PATH_MAX];
	ipck_chan *l = NULL, *a = NULL, *b = NULL;
	long got = 0;
	unsigned char m[MSG];
	snprintf(url, sizeof(url), "%s", name);
	setenv("KLIMITS_URL", url, 1);
	CHECK_SYS(pipe(go));
	CHECK_SYS(pipe(res));
	if (sc->info.caps & IPCK_CAP_PAIR_ONLY)
		CHECK_OK(ipck_pair(url, &a, &b));
	else
		CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	pair_other = a;
	pid_t pid = spawn(receiver, b);
	pair_other = NULL;
	ipck_close(b);
	if (l)
		CHECK_OK(ipck_accept(l, &a, 5000));
	if (a)
		CHECK_EQ(ipck_recv(a, m, sizeof(m), 5000), 1);
	if (a) {
		long sent = fill(a);
		msg_make((unsigned)sent, m);
		long long t0 = now_ms(), dt = 0;
		if (sent < MAX_SENDS) {
			CHECK_EQ(ipck_send(a, m, MSG, 50), -ETIMEDOUT);
			dt = now_ms() - t0;
			CHECK(dt >= 45 && dt < 1000);
		} else {
			printf("%-14s no bound within %d messages; ", sc->info.name, MAX_SENDS);
		}
		CHECK_EQ(write(go[1], "g", 1), 1);
		CHECK_OK(ipck_close(a));   /* flushes a message kept in part */
		CHECK_EQ(read(res[0], &got, sizeof(got)), sizeof(got));
		if (sent < MAX_SENDS)
			printf("%-14s full after %6ld messages of %d bytes: -ETIMEDOUT (50 ms: %lld ms); ",
			       sc->info.name, sent, MSG, dt);
		printf("receiver got %ld whole\n", got);
		CHECK_EQ(got, sent);
	}
	CHECK_EQ(reap(pid), 0);
	ipck_close(l);
	for (int i = 0; i < 2; i++) {
		close(go[i]);
		close(res[i]);
	}
	ipck_unlink(url);
}

/*
 * signal: RLIMIT_SIGPENDING counts the pending signals of every process of
 * the receiver's user, so another program of that user moves the bound
 * under the test (a send accepted after the one that timed out): as root,
 * fill as a user of our own, in a directory it may write.
 */
static int own_user_full(void *arg)
{
	const struct ipck_scheme *sc = arg;
	uid_t uid = 60000 + (uid_t)(getpid() % 5000);
	const char *dir = fmt("%s/own", test_dir());
	if (mkdir(dir, 0700) || chown(dir, uid, uid) || chmod(test_dir(), 0711) ||
	    setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		return 3;
	full_scheme(sc, fmt("%s:%s/%s", sc->info.name, dir, sc->info.name));
	return check_failures ? 1 : 0;
}

/* As a user of our own, so that no other process's queues are counted. */
static int msgqueue_limit(void *arg)
{
	const char *u1 = arg, *u2 = fmt("%s-2?raw=1&maxmsg=4&msgsize=256", u1);
	ipck_chan *q1, *q2 = NULL;
	uid_t uid = 60000 + (uid_t)(getpid() % 5000);
	struct rlimit rl = {2000, 2000};   /* one queue of 4 x 256 bytes fits (~1250), two do not */
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid) ||
	    setrlimit(RLIMIT_MSGQUEUE, &rl))
		return 3;
	u1 = fmt("%s?raw=1&maxmsg=4&msgsize=256", u1);
	CHECK_OK(ipck_open(&q1, u1, IPCK_LISTEN));
	int r = ipck_open(&q2, u2, IPCK_LISTEN);
	printf("pmsg           RLIMIT_MSGQUEUE %lu: a second queue: %s\n", (unsigned long)rl.rlim_cur,
	       ipck_errname(r));
	CHECK_EQ(r, -EDQUOT);
	CHECK(q2 == NULL);
	ipck_close(q2);
	CHECK_OK(ipck_close(q1));
	CHECK_EQ(ipck_unlink(u2), -ENOENT);   /* the failed one left nothing */
	return check_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; ipck__schemes[i]; i++) {
		const struct ipck_scheme *sc = ipck__schemes[i];
		if (!scheme_wanted(sc->info.name, argc, argv))
			continue;
		if (sc->info.caps & IPCK_CAP_LOSSY)
			printf("%-14s no flow control: the kernel drops, a send never fills\n", sc->info.name);
		else if (!strcmp(sc->info.name, "signal") && geteuid() == 0)
			CHECK_EQ(reap(spawn(own_user_full, (void *)sc)), 0);
		else
			full_scheme(sc, test_url(sc->info.name));
	}
	if (scheme_wanted("pmsg", argc, argv) && geteuid() == 0)
		CHECK_EQ(reap(spawn(msgqueue_limit, (void *)test_url("pmsg"))), 0);
	check_exit();
}
