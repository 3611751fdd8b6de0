/*
 * t_mailbox.c - "?mailbox=1" on svmsg:, pmsg: and unix-dgram: many senders,
 * one receiver on the listener itself.
 *  - 4 sender processes send N numbered messages each, and a fifth dies
 *    (SIGKILL) after a few: the receiver gets each message exactly once, in
 *    order per sender, with that sender's pid from ipck_recv_from;
 *  - the receiver's close makes senders fail with -EPIPE; its death too
 *    (svmsg through the beacon's pid, unix-dgram from the kernel), while a
 *    pmsg sender sees only the close (the documented limit);
 *  - the API around it: send on the mailbox -ENOTCONN, accept a handle,
 *    recv and pollfd on a sender -ENOTSUP, timeouts, ipck_pollfd, -EMSGSIZE
 *    with the message kept, empty and largest messages, 0600, -EADDRINUSE,
 *    a sender inherited by a forked child sends with the child's pid;
 *  - as root: another user's datagrams are dropped unless peer_uid= names
 *    it, and another user cannot send into a 0600 mailbox;
 *  - mailbox=1 on any other scheme, or with raw=1, is -EINVAL.
 */
#include "check.h"
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <unistd.h>

#define SENDERS 4
#define N 400
#define DYING_AT 37
#define NOBODY 65534

static const char *const schemes[] = {"svmsg", "pmsg", "unix-dgram"};

/* A mailbox URL for scheme, copied into out (fmt's buffers are reused). */
static const char *mb_url(char *out, size_t cap, const char *scheme, const char *more)
{
	const char *u = test_url(scheme);
	const char *q = !strcmp(scheme, "pmsg") ? "&maxmsg=10&msgsize=128" : "";
	snprintf(out, cap, "%s?mailbox=1%s%s", u, q, more);
	return out;
}

/* ---- many senders ------------------------------------------------------------ */

struct job {
	const char *url;
	uint32_t who;
	uint32_t count;
	bool die;        /* SIGKILL itself after count messages */
};

static size_t msg_len(uint32_t seq) { return 8 + seq % 23; }

static int sender(void *arg)
{
	const struct job *j = arg;
	unsigned char m[64];
	ipck_chan *s;
	int r = ipck_open(&s, j->url, 0);
	if (r) {
		fprintf(stderr, "sender %u: open: %s\n", j->who, ipck_errname(r));
		return 2;
	}
	for (uint32_t i = 0; i < j->count; i++) {
		size_t len = msg_len(i);
		memcpy(m, &j->who, 4);
		memcpy(m + 4, &i, 4);
		fill_pattern(m + 8, len - 8, j->who * 100000 + i);
		ssize_t n = ipck_send(s, m, len, 10000);
		if (n != (ssize_t)len) {
			fprintf(stderr, "sender %u: send %u: %s\n", j->who, i, ipck_errname((int)n));
			return 3;
		}
	}
	if (j->die)
		raise(SIGKILL);
	return ipck_close(s) ? 4 : 0;
}

/* One message from the mailbox, checked against who sent what; false to stop. */
static bool take_one(ipck_chan *mb, const pid_t *pids, uint32_t *next)
{
	unsigned char b[64];
	uint32_t who, seq;
	pid_t from = -1;
	ssize_t n = ipck_recv_from(mb, b, sizeof(b), &from, 10000);
	CHECK_OK(n);
	if (n < 8)
		return false;
	memcpy(&who, b, 4);
	memcpy(&seq, b + 4, 4);
	CHECK(who <= SENDERS);
	if (who > SENDERS)
		return false;
	CHECK_EQ(from, pids[who]);
	CHECK_EQ(seq, next[who]);
	CHECK_EQ(n, msg_len(seq));
	CHECK(check_pattern(b + 8, (size_t)n - 8, who * 100000 + seq));
	next[who] = seq + 1;
	return check_failures < 10;
}

static void many_senders(const char *scheme)
{
	char url[512];
	struct job jobs[SENDERS + 1];
	pid_t pids[SENDERS + 1];
	uint32_t next[SENDERS + 1] = {0};
	ipck_chan *mb;
	mb_url(url, sizeof(url), scheme, "");
	CHECK_OK(ipck_open(&mb, url, IPCK_LISTEN));
	if (!mb)
		return;
	for (uint32_t i = 0; i <= SENDERS; i++) {
		jobs[i] = (struct job){url, i, i < SENDERS ? N : DYING_AT, i == SENDERS};
		pids[i] = spawn(sender, &jobs[i]);
	}
	long total = SENDERS * N + DYING_AT, got = 0;
	while (got < total && take_one(mb, pids, next))
		got++;
	CHECK_EQ(got, total);
	for (int i = 0; i <= SENDERS; i++) {
		CHECK_EQ(next[i], jobs[i].count);
		if (got < total)
			kill(pids[i], SIGKILL);   /* failed already: do not wait for them */
		int st = reap(pids[i]);
		if (got == total)
			CHECK_EQ(st, i < SENDERS ? 0 : 128 + SIGKILL);
	}
	unsigned char b[64];
	CHECK_EQ(ipck_recv(mb, b, sizeof(b), 0), -ETIMEDOUT);   /* nothing twice */
	CHECK_OK(ipck_close(mb));
	fprintf(stderr, "%s: %ld messages from %d senders ok\n", scheme, got, SENDERS + 1);
}

/* ---- the end of the mailbox ---------------------------------------------------- */

/*
 * Send until the mailbox is seen gone: the last result (-EPIPE expected), and
 * how many sends still went through in *ok.  A pmsg sender looks for the
 * close, and an svmsg one for the receiver's death, once a millisecond.
 */
static ssize_t send_until_gone(ipck_chan *s, int *ok)
{
	ssize_t n;
	*ok = 0;
	while ((n = ipck_send(s, "b", 1, 1000)) == 1 && *ok < 1000) {
		(*ok)++;
		usleep(1000);
	}
	return n;
}

struct ender {
	const char *url;
	bool at_once;          /* the first send after the close fails */
	ipck_chan *mb;         /* the parent's mailbox: a forked child closes its copy */
	int ready[2], go[2];   /* child -> parent: sent one; parent -> child: closed */
};

/* Send one, wait for the receiver's close, then two sends must be -EPIPE. */
static int send_until_closed(void *arg)
{
	struct ender *e = arg;
	ipck_chan *s;
	char c;
	if (ipck_close(e->mb))   /* else our copy of a socket keeps the mailbox open */
		return 6;
	if (ipck_open(&s, e->url, 0) || ipck_send(s, "a", 1, 5000) != 1)
		return 2;
	if (write(e->ready[1], "r", 1) != 1 || read(e->go[0], &c, 1) != 1)
		return 3;
	int ok;
	ssize_t a = send_until_gone(s, &ok), b = ipck_send(s, "c", 1, 5000);
	if (a != -EPIPE || b != -EPIPE || (e->at_once && ok)) {
		fprintf(stderr, "after close: %d sent, then %s, %s\n", ok,
			ipck_errname((int)a), ipck_errname((int)b));
		return 4;
	}
	return ipck_close(s) ? 5 : 0;
}

static void ends_on_close(const char *scheme)
{
	char url[512], b[8], c;
	struct ender e = {.url = mb_url(url, sizeof(url), scheme, ""),
			  .at_once = strcmp(scheme, "pmsg") != 0};
	ipck_chan *mb;
	pid_t from = 0;
	REQUIRE(pipe(e.ready) == 0 && pipe(e.go) == 0);
	CHECK_OK(ipck_open(&mb, url, IPCK_LISTEN));
	e.mb = mb;
	pid_t pid = spawn(send_until_closed, &e);
	CHECK_EQ(read(e.ready[0], &c, 1), 1);
	CHECK_EQ(ipck_recv_from(mb, b, sizeof(b), &from, 5000), 1);
	CHECK_EQ(from, pid);
	CHECK_OK(ipck_close(mb));
	CHECK_EQ(write(e.go[1], "g", 1), 1);
	CHECK_EQ(reap(pid), 0);
	for (int i = 0; i < 2; i++) {
		close(e.ready[i]);
		close(e.go[i]);
	}
}

/* A receiver that sits until it is killed. */
static int sit(void *arg)
{
	struct ender *e = arg;
	ipck_chan *mb;
	char c;
	if (ipck_open(&mb, e->url, IPCK_LISTEN))
		return 2;
	if (write(e->ready[1], "r", 1) != 1)
		return 3;
	while (read(e->go[0], &c, 1) < 0)
		;
	return 4;
}

/* The receiver is killed: svmsg and unix-dgram senders are told, pmsg ones
 * only once the queue is unlinked (ipck_unlink here). */
static void ends_on_death(const char *scheme)
{
	char url[512], c;
	struct ender e = {.url = mb_url(url, sizeof(url), scheme, "")};
	ipck_chan *s = NULL;
	REQUIRE(pipe(e.ready) == 0 && pipe(e.go) == 0);
	pid_t pid = spawn(sit, &e);
	CHECK_EQ(read(e.ready[0], &c, 1), 1);
	CHECK_OK(ipck_open(&s, url, 0));
	CHECK_EQ(ipck_send(s, "a", 1, 1000), 1);
	kill(pid, SIGKILL);
	CHECK_EQ(reap(pid), 137);
	int ok;
	if (!strcmp(scheme, "pmsg")) {
		CHECK_EQ(ipck_send(s, "b", 1, 1000), 1);   /* not seen: see ipckit-queues(7) */
		CHECK_OK(ipck_unlink(url));
		CHECK_EQ(send_until_gone(s, &ok), -EPIPE);
	} else {
		CHECK_EQ(send_until_gone(s, &ok), -EPIPE);
		if (!strcmp(scheme, "unix-dgram"))
			CHECK_EQ(ok, 0);   /* the kernel tells at once */
		CHECK_OK(ipck_unlink(url));   /* what the killed listener left */
	}
	CHECK_EQ(ipck_send(s, "d", 1, 1000), -EPIPE);
	CHECK_OK(ipck_close(s));
	for (int i = 0; i < 2; i++) {
		close(e.ready[i]);
		close(e.go[i]);
	}
}

/* ---- the API around it ----------------------------------------------------------- */

static void check_mode_0600(const char *scheme, const char *url)
{
	const char *addr = strchr(url, ':') + 1;
	char name[256];
	struct stat st;
	struct msqid_ds ds;
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(addr, "?"), addr);
	if (!strcmp(scheme, "svmsg")) {
		int q = msgget((key_t)strtol(name, NULL, 0), 0);
		CHECK(q >= 0 && msgctl(q, IPC_STAT, &ds) == 0);
		CHECK_EQ(ds.msg_perm.mode & 0777, 0600);
		return;
	}
	if (!strcmp(scheme, "pmsg")) {
		mqd_t q = mq_open(name, O_RDONLY);
		CHECK(q >= 0 && fstat(q, &st) == 0);
		mq_close(q);
	} else {
		CHECK_SYS(lstat(name, &st));
	}
	CHECK_EQ(st.st_mode & 0777, 0600);
}

/* Timeouts and the pollfd of an empty mailbox, then one message of ours. */
static void poll_and_time(ipck_chan *mb, ipck_chan *s)
{
	char b[8];
	pid_t from = -1;
	struct pollfd p = {.fd = ipck_pollfd(mb), .events = POLLIN};
	CHECK_EQ(ipck_recv(mb, b, sizeof(b), 0), -ETIMEDOUT);
	long long t0 = now_ms();
	CHECK_EQ(ipck_recv(mb, b, sizeof(b), 100), -ETIMEDOUT);
	CHECK(now_ms() - t0 >= 90 && now_ms() - t0 < 5000);
	CHECK_OK(p.fd);
	CHECK_EQ(poll(&p, 1, 0), 0);
	CHECK_EQ(ipck_send(s, "xy", 2, 1000), 2);
	CHECK_EQ(poll(&p, 1, 5000), 1);
	CHECK_EQ(ipck_recv_from(mb, b, 1, &from, 0), -EMSGSIZE);
	CHECK_EQ(from, 0);
	CHECK_EQ(ipck_next_size(mb), 2);
	CHECK_EQ(poll(&p, 1, 0), 1);   /* still there */
	CHECK_EQ(ipck_recv_from(mb, b, sizeof(b), &from, 0), 2);
	CHECK(!memcmp(b, "xy", 2));
	CHECK_EQ(from, getpid());
	CHECK_EQ(poll(&p, 1, 0), 0);
}

/* Empty and largest messages; one too large is refused whole. */
static void sizes(ipck_chan *mb, ipck_chan *s)
{
	size_t max = ipck_max_msg(s);
	unsigned char *big = malloc(max + 1), *in = malloc(max + 1);
	pid_t from = -1;
	REQUIRE(big && in && max >= 64);
	CHECK_EQ(ipck_max_msg(mb), max);
	fill_pattern(big, max, 7);
	CHECK_EQ(ipck_send(s, big, max + 1, 1000), -EMSGSIZE);
	CHECK_EQ(ipck_send(s, "", 0, 1000), 0);
	CHECK_EQ(ipck_send(s, big, max, 1000), (ssize_t)max);
	CHECK_EQ(ipck_recv_from(mb, in, max, &from, 5000), 0);
	CHECK_EQ(from, getpid());
	CHECK_EQ(ipck_recv_from(mb, in, max, NULL, 5000), (ssize_t)max);
	CHECK(check_pattern(in, max, 7));
	free(big);
	free(in);
}

/* A forked child sends through the sender it inherited: its own pid shows. */
static int send_inherited(void *s)
{
	return ipck_send(s, "k", 1, 5000) == 1 ? 0 : 1;
}

static void inherited(ipck_chan *mb, ipck_chan *s)
{
	char b[4];
	pid_t from = -1;
	CHECK_EQ(ipck_send(s, "p", 1, 1000), 1);
	pid_t pid = spawn(send_inherited, s);
	CHECK_EQ(reap(pid), 0);
	CHECK_EQ(ipck_recv_from(mb, b, sizeof(b), &from, 5000), 1);
	CHECK(b[0] == 'p' && from == getpid());
	CHECK_EQ(ipck_recv_from(mb, b, sizeof(b), &from, 5000), 1);
	CHECK(b[0] == 'k');
	CHECK_EQ(from, pid);
}

static void api(const char *scheme)
{
	char url[512], b[8];
	ipck_chan *mb = NULL, *s = NULL, *x = (ipck_chan *)1;
	mb_url(url, sizeof(url), scheme, "");
	CHECK_EQ(ipck_open(&s, url, 0), -ECONNREFUSED);   /* nobody there yet */
	CHECK_OK(ipck_open(&mb, url, IPCK_LISTEN));
	if (!mb)
		return;
	check_mode_0600(scheme, url);
	CHECK_EQ(ipck_open(&x, url, IPCK_LISTEN), -EADDRINUSE);
	CHECK_OK(ipck_open(&s, url, 0));
	REQUIRE(s);
	CHECK_EQ(ipck_send(mb, "x", 1, 0), -ENOTCONN);
	CHECK_OK(ipck_accept(mb, &x, 0));   /* s's handle (t_mailbox_accept.c) */
	CHECK_EQ(ipck_peer_pid(x), getpid());
	CHECK_OK(ipck_close(x));
	CHECK_EQ(ipck_accept(mb, &x, 0), -ETIMEDOUT);
	CHECK(x == NULL);
	CHECK_EQ(ipck_recv(s, b, sizeof(b), 0), -ENOTSUP);
	CHECK_EQ(ipck_pollfd(s), -ENOTSUP);
	poll_and_time(mb, s);
	sizes(mb, s);
	inherited(mb, s);
	CHECK_OK(ipck_close(s));
	CHECK_OK(ipck_close(mb));
	CHECK_EQ(ipck_unlink(url), -ENOENT);   /* the close removed it */
}

/* ---- other users (root only) ------------------------------------------------------ */

/* As nobody: open a sender at url and send one; the open's or send's result. */
static int send_as_nobody(void *url)
{
	ipck_chan *s;
	if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
		return 100;
	int r = ipck_open(&s, url, 0);
	if (r == 0 && (r = (int)ipck_send(s, "n", 1, 1000)) == 1)
		r = 0;
	ipck_close(s);
	return r == 0 ? 0 : r == -EACCES ? 13 : 99;
}

static void other_users(void)
{
	char url[512], b[8];
	ipck_chan *mb;
	pid_t from = -1;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		CHECK_OK(ipck_open(&mb, mb_url(url, sizeof(url), schemes[i], ""), IPCK_LISTEN));
		CHECK_EQ(reap(spawn(send_as_nobody, url)), 13);   /* a 0600 mailbox */
		CHECK_OK(ipck_close(mb));
	}
	/* unix-dgram knows each datagram's real uid: the mailbox decides. */
	char base[256], snd[512];
	snprintf(base, sizeof(base), "%s?mailbox=1", test_url("unix-dgram"));
	snprintf(snd, sizeof(snd), "%s&peer_uid=0", base);   /* the sender lets root's mailbox in */
	CHECK_SYS(chmod(test_dir(), 0755));
	snprintf(url, sizeof(url), "%s&mode=0666", base);
	CHECK_OK(ipck_open(&mb, url, IPCK_LISTEN));
	CHECK_EQ(reap(spawn(send_as_nobody, snd)), 0);
	CHECK_EQ(ipck_recv(mb, b, sizeof(b), 300), -ETIMEDOUT);   /* dropped */
	CHECK_OK(ipck_close(mb));
	snprintf(url, sizeof(url), "%s&mode=0666&peer_uid=65534", base);
	CHECK_OK(ipck_open(&mb, url, IPCK_LISTEN));
	pid_t pid = spawn(send_as_nobody, snd);
	CHECK_EQ(ipck_recv_from(mb, b, sizeof(b), &from, 5000), 1);
	CHECK_EQ(from, pid);
	CHECK_EQ(reap(pid), 0);
	CHECK_OK(ipck_close(mb));
	CHECK_SYS(chmod(test_dir(), 0700));
}

/* ---- the option elsewhere ------------------------------------------------------- */

static void refused(void)
{
	static const char *const others[] = {"fifo", "unix", "unix-seqpacket", "abstract",
					     "tcp", "udp", "signal"};
	char url[512];
	ipck_chan *c = (ipck_chan *)1, *d = (ipck_chan *)1;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		snprintf(url, sizeof(url), "%s?mailbox=1", test_url(others[i]));
		CHECK_EQ(ipck_open(&c, url, IPCK_LISTEN), -EINVAL);
		CHECK_EQ(ipck_open(&c, url, 0), -EINVAL);
	}
	CHECK_EQ(ipck_pair("socketpair:?mailbox=1", &c, &d), -EINVAL);
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		CHECK_EQ(ipck_open(&c, mb_url(url, sizeof(url), schemes[i], "&raw=1"), IPCK_LISTEN),
			 -EINVAL);
		CHECK_EQ(ipck_open(&c, mb_url(url, sizeof(url), schemes[i], "&mailbox=1"), 0),
			 -EINVAL);   /* given twice */
	}
	snprintf(url, sizeof(url), "%s?mailbox=1&msgsize=4", test_url("pmsg"));
	CHECK_EQ(ipck_open(&c, url, IPCK_LISTEN), -EINVAL);   /* no room for the header */
	CHECK(c == NULL);
}

/* ipck_recv_from on a connection: the peer's pid. */
static void from_on_connection(void)
{
	const char *url = test_url("unix");
	ipck_chan *l, *c, *s = NULL;
	char b[4];
	pid_t from = -1;
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	CHECK_OK(ipck_open(&c, url, 0));
	CHECK_OK(ipck_accept(l, &s, 5000));
	REQUIRE(s);
	CHECK_EQ(ipck_send(c, "hi", 2, 1000), 2);
	CHECK_EQ(ipck_recv_from(s, b, sizeof(b), &from, 5000), 2);
	CHECK_EQ(from, getpid());
	CHECK_EQ(ipck_recv_from(NULL, b, sizeof(b), &from, 0), -EINVAL);
	CHECK_EQ(from, 0);
	ipck_close(c);
	ipck_close(s);
	ipck_close(l);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		api(schemes[i]);
		many_senders(schemes[i]);
		ends_on_close(schemes[i]);
		ends_on_death(schemes[i]);
	}
	refused();
	from_on_connection();
	if (geteuid() == 0)
		other_users();
	else
		fprintf(stderr, "not root: the other-user cases are skipped\n");
	check_exit();
}
