/*
 * t_mailbox_accept.c - ipck_accept on a mailbox (?mailbox=1 on svmsg:, pmsg:,
 * unix-dgram:): one handle per sender, in join order, exactly once.
 *  - 4 sender processes join one after the other, then send N numbered
 *    messages each: 4 accepts give handles with their pids in join order
 *    (two before any message is received, two after), every message still
 *    arrives exactly once, in order per sender, with its pid; one more
 *    accept is -ETIMEDOUT; each handle says -EPIPE (recv and pollfd) once
 *    its sender closed, while the sender process still lives;
 *  - a sender that joins behind queued messages: accept receives them
 *    ahead (the mailbox's pollfd says so) and recv still gets them in order;
 *  - more than 1 MiB received ahead: accept says -ENOBUFS, nothing is lost;
 *  - a handle's sender killed: -EPIPE by its pid; the mailbox closed first:
 *    its handles say -EPIPE, but not when a forked child closes its copy;
 *    send on a handle -ENOTSUP, accept on it -EINVAL;
 *  - a handle waiting in another thread hears the BYE the mailbox takes;
 *  - a receiver that never accepts gets every message, and keeps at most
 *    1024 announcements: 1030 senders that open and close make 6 dropped,
 *    and the 1024 left are accepted, each already ended.
 */
#include "check.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define SENDERS 4
#define N 300
#define PENDING_MAX 1024
#define MANY (PENDING_MAX + 6)

static const char *const schemes[] = {"svmsg", "pmsg", "unix-dgram"};

static const char *mb_url(char *out, size_t cap, const char *scheme)
{
	const char *q = !strcmp(scheme, "pmsg") ? "&maxmsg=10&msgsize=128" : "";
	snprintf(out, cap, "%s?mailbox=1%s", test_url(scheme), q);
	return out;
}

/* Is fd readable within ms? */
static int readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms);
}

/* ---- senders that join in order ------------------------------------------------ */

struct job {
	const char *url;
	uint32_t who, count;
	int ready[2];   /* child -> parent: 'o' opened, 'c' closed */
	int go[2];      /* parent -> child: 's' send, 'x' exit */
};

static size_t msg_len(uint32_t seq) { return 8 + seq % 23; }

static int wait_byte(int fd, char want)
{
	char c;
	ssize_t n;
	while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
		;
	return n == 1 && c == want ? 0 : -1;
}

static int sender(void *arg)
{
	const struct job *j = arg;
	unsigned char m[64];
	ipck_chan *s;
	if (ipck_open(&s, j->url, 0) || write(j->ready[1], "o", 1) != 1 || wait_byte(j->go[0], 's'))
		return 2;
	for (uint32_t i = 0; i < j->count; i++) {
		size_t len = msg_len(i);
		memcpy(m, &j->who, 4);
		memcpy(m + 4, &i, 4);
		fill_pattern(m + 8, len - 8, j->who * 100000 + i);
		if (ipck_send(s, m, len, 10000) != (ssize_t)len)
			return 3;
	}
	if (ipck_close(s) || write(j->ready[1], "c", 1) != 1)
		return 4;
	return wait_byte(j->go[0], 'x') ? 5 : 0;   /* alive: its handle ends by the BYE */
}

/* One message, checked against who sent what. */
static void take_one(ipck_chan *mb, const pid_t *pids, uint32_t *next)
{
	unsigned char b[64];
	uint32_t who = 0, seq = 0;
	pid_t from = -1;
	ssize_t n = ipck_recv_from(mb, b, sizeof(b), &from, 10000);
	REQUIRE(n >= 8);
	memcpy(&who, b, 4);
	memcpy(&seq, b + 4, 4);
	REQUIRE(who < SENDERS);
	CHECK_EQ(from, pids[who]);
	CHECK_EQ(seq, next[who]);
	CHECK_EQ(n, msg_len(seq));
	CHECK(check_pattern(b + 8, (size_t)n - 8, who * 100000 + seq));
	next[who] = seq + 1;
}

static void accept_one(ipck_chan *mb, ipck_chan **h, pid_t want)
{
	CHECK_OK(ipck_accept(mb, h, 10000));
	REQUIRE(*h);
	CHECK_EQ(ipck_peer_pid(*h), want);
	CHECK_EQ(ipck_max_msg(*h), ipck_max_msg(mb));
}

/* Each handle: ended (recv -EPIPE, pollfd readable); the senders still live. */
static void handles_end(ipck_chan *mb, ipck_chan **h, struct job *jobs)
{
	unsigned char b[8];
	for (int i = 0; i < SENDERS; i++)
		CHECK_EQ(wait_byte(jobs[i].ready[0], 'c'), 0);
	CHECK_EQ(ipck_recv(mb, b, sizeof(b), 500), -ETIMEDOUT);   /* takes the BYEs */
	for (int i = 0; i < SENDERS; i++) {
		int fd = ipck_pollfd(h[i]);
		CHECK_OK(fd);
		CHECK_EQ(readable(fd, 5000), 1);
		CHECK_EQ(ipck_recv(h[i], b, sizeof(b), 5000), -EPIPE);
		CHECK_EQ(ipck_recv(h[i], b, sizeof(b), 0), -EPIPE);
		CHECK_OK(ipck_close(h[i]));
	}
}

static void in_order(const char *scheme)
{
	char url[512];
	struct job jobs[SENDERS];
	pid_t pids[SENDERS];
	uint32_t next[SENDERS] = {0};
	ipck_chan *mb, *h[SENDERS] = {NULL}, *x = (ipck_chan *)1;
	unsigned char b[8];
	CHECK_OK(ipck_open(&mb, mb_url(url, sizeof(url), scheme), IPCK_LISTEN));
	REQUIRE(mb);
	CHECK_EQ(ipck_accept(mb, &x, 0), -ETIMEDOUT);   /* nobody yet */
	CHECK(x == NULL);
	for (uint32_t i = 0; i < SENDERS; i++) {   /* joined one after the other */
		jobs[i] = (struct job){.url = url, .who = i, .count = N};
		REQUIRE(pipe(jobs[i].ready) == 0 && pipe(jobs[i].go) == 0);
		pids[i] = spawn(sender, &jobs[i]);
		CHECK_EQ(wait_byte(jobs[i].ready[0], 'o'), 0);
	}
	for (int i = 0; i < SENDERS; i++)
		CHECK_EQ(write(jobs[i].go[1], "s", 1), 1);
	accept_one(mb, &h[0], pids[0]);
	accept_one(mb, &h[1], pids[1]);
	CHECK_EQ(ipck_recv(h[0], b, sizeof(b), 0), -ETIMEDOUT);   /* still open */
	CHECK_EQ(readable(ipck_pollfd(h[1]), 0), 0);
	CHECK_EQ(ipck_send(h[0], "x", 1, 0), -ENOTSUP);
	CHECK_EQ(ipck_accept(h[0], &x, 0), -EINVAL);
	int fd;
	size_t nfd = 1;   /* data comes out of a mailbox through recv only, in order */
	CHECK_EQ(ipck_recv_fds(mb, b, sizeof(b), &fd, &nfd, 0), -ENOTSUP);
	CHECK_EQ(ipck_recv_fds(h[0], b, sizeof(b), &fd, &nfd, 0), -ENOTSUP);
	long total = SENDERS * N, got = 0;
	for (; got < total / 2; got++)
		take_one(mb, pids, next);
	accept_one(mb, &h[2], pids[2]);   /* announced while receiving */
	accept_one(mb, &h[3], pids[3]);
	for (; got < total; got++)
		take_one(mb, pids, next);
	for (int i = 0; i < SENDERS; i++)
		CHECK_EQ(next[i], N);
	CHECK_EQ(ipck_accept(mb, &x, 0), -ETIMEDOUT);   /* each exactly once */
	handles_end(mb, h, jobs);
	for (int i = 0; i < SENDERS; i++) {
		CHECK_EQ(write(jobs[i].go[1], "x", 1), 1);
		CHECK_EQ(reap(pids[i]), 0);
		for (int k = 0; k < 2; k++) {
			close(jobs[i].ready[k]);
			close(jobs[i].go[k]);
		}
	}
	CHECK_EQ(ipck_accept(mb, &x, 0), -ETIMEDOUT);
	CHECK_OK(ipck_close(mb));
	fprintf(stderr, "%s: %d handles in join order, %ld messages ok\n", scheme, SENDERS, got);
}

/* ---- a sender that joins behind queued messages ------------------------------------ */

/* Opens (announced), says so, waits to be let go; then gets killed. */
static int late(void *arg)
{
	struct job *j = arg;
	ipck_chan *s;
	if (ipck_open(&s, j->url, 0) || write(j->ready[1], "o", 1) != 1)
		return 2;
	wait_byte(j->go[0], 'x');
	return 3;
}

/* A forked child closes the mailbox it inherited: nothing of ours ends. */
static int close_copy(void *mb)
{
	return ipck_close(mb) ? 2 : 0;
}

static void behind(const char *scheme)
{
	char url[512], b[8];
	struct job j = {.url = mb_url(url, sizeof(url), scheme)};
	ipck_chan *mb, *s, *me = NULL, *h = NULL, *x = NULL;
	pid_t from = 0;
	REQUIRE(pipe(j.ready) == 0 && pipe(j.go) == 0);
	CHECK_OK(ipck_open(&mb, url, IPCK_LISTEN));
	CHECK_OK(ipck_open(&s, url, 0));
	for (char c = '0'; c < '5'; c++)
		CHECK_EQ(ipck_send(s, &c, 1, 1000), 1);
	pid_t pid = spawn(late, &j);
	CHECK_EQ(wait_byte(j.ready[0], 'o'), 0);
	accept_one(mb, &me, getpid());
	accept_one(mb, &h, pid);   /* behind our five */
	CHECK_EQ(reap(spawn(close_copy, mb)), 0);
	CHECK_EQ(ipck_recv(me, b, sizeof(b), 0), -ETIMEDOUT);
	CHECK_EQ(readable(ipck_pollfd(mb), 0), 1);   /* they wait in the mailbox */
	CHECK_EQ(ipck_recv_from(mb, b, 0, &from, 0), -EMSGSIZE);
	CHECK_EQ(ipck_next_size(mb), 1);
	for (char c = '0'; c < '5'; c++) {
		CHECK_EQ(ipck_recv_from(mb, b, sizeof(b), &from, 0), 1);
		CHECK(b[0] == c);
		CHECK_EQ(from, getpid());
	}
	CHECK_EQ(readable(ipck_pollfd(mb), 0), 0);
	CHECK_EQ(ipck_recv(mb, b, sizeof(b), 0), -ETIMEDOUT);
	CHECK_EQ(ipck_recv(h, b, sizeof(b), 0), -ETIMEDOUT);
	kill(pid, SIGKILL);   /* no BYE: its pid tells */
	CHECK_EQ(reap(pid), 128 + SIGKILL);
	CHECK_EQ(readable(ipck_pollfd(h), 5000), 1);
	CHECK_EQ(ipck_recv(h, b, sizeof(b), 5000), -EPIPE);
	CHECK_OK(ipck_close(h));
	CHECK_OK(ipck_close(s));   /* its BYE, our own handle's end */
	CHECK_EQ(ipck_recv(me, b, sizeof(b), 0), -ETIMEDOUT);   /* not received yet */
	CHECK_EQ(ipck_recv(mb, b, sizeof(b), 500), -ETIMEDOUT);   /* takes the BYE */
	CHECK_EQ(ipck_recv(me, b, sizeof(b), 0), -EPIPE);
	CHECK_OK(ipck_open(&s, url, 0));
	accept_one(mb, &x, getpid());
	CHECK_OK(ipck_close(mb));   /* before its handles: they end with it */
	CHECK_EQ(ipck_recv(x, b, sizeof(b), 0), -EPIPE);
	CHECK_OK(ipck_close(x));
	CHECK_OK(ipck_close(me));
	CHECK_OK(ipck_close(s));
	for (int k = 0; k < 2; k++) {
		close(j.ready[k]);
		close(j.go[k]);
	}
}

/* ---- a handle in another thread ------------------------------------------------------ */

/* Opens, says so, closes when told (its BYE), stays until killed. */
static int bye_when_told(void *arg)
{
	struct job *j = arg;
	ipck_chan *s;
	if (ipck_open(&s, j->url, 0) || write(j->ready[1], "o", 1) != 1 || wait_byte(j->go[0], 'c'))
		return 2;
	if (ipck_close(s) || write(j->ready[1], "c", 1) != 1)
		return 3;
	wait_byte(j->go[0], 'x');
	return 4;
}

static void *wait_end(void *h)
{
	char b[4];
	return (void *)(intptr_t)ipck_recv(h, b, sizeof(b), 20000);
}

/* The listener takes the BYE in one thread; the handle waits in another. */
static void other_thread(const char *scheme)
{
	char url[512], b[4];
	struct job j = {.url = mb_url(url, sizeof(url), scheme)};
	ipck_chan *mb, *h = NULL;
	pthread_t th;
	void *res = NULL;
	REQUIRE(pipe(j.ready) == 0 && pipe(j.go) == 0);
	CHECK_OK(ipck_open(&mb, url, IPCK_LISTEN));
	pid_t pid = spawn(bye_when_told, &j);
	CHECK_EQ(wait_byte(j.ready[0], 'o'), 0);
	accept_one(mb, &h, pid);
	REQUIRE(pthread_create(&th, NULL, wait_end, h) == 0);
	CHECK_EQ(write(j.go[1], "c", 1), 1);
	CHECK_EQ(wait_byte(j.ready[0], 'c'), 0);
	CHECK_EQ(ipck_recv(mb, b, sizeof(b), 500), -ETIMEDOUT);   /* takes the BYE */
	CHECK_EQ(pthread_join(th, &res), 0);
	CHECK_EQ((intptr_t)res, -EPIPE);   /* its sender lives: the BYE told */
	kill(pid, SIGKILL);
	CHECK_EQ(reap(pid), 128 + SIGKILL);
	CHECK_OK(ipck_close(mb));
	CHECK_OK(ipck_close(h));
	for (int k = 0; k < 2; k++) {
		close(j.ready[k]);
		close(j.go[k]);
	}
}

/* ---- more than accept may keep ------------------------------------------------------ */

#define BIG_TOTAL (3u << 19)   /* 1.5 MiB */

static int flood(void *url)
{
	ipck_chan *s;
	if (ipck_open(&s, url, 0))
		return 2;
	size_t max = ipck_max_msg(s);
	unsigned char *m = malloc(max);
	if (!m)
		return 3;
	for (uint32_t i = 0; i * max < BIG_TOTAL; i++) {
		fill_pattern(m, max, i);
		if (ipck_send(s, m, max, 20000) != (ssize_t)max)
			return 4;
	}
	free(m);
	return ipck_close(s) ? 5 : 0;
}

static void too_much_ahead(const char *scheme)
{
	char url[512];
	ipck_chan *mb, *h = NULL, *x = NULL;
	CHECK_OK(ipck_open(&mb, mb_url(url, sizeof(url), scheme), IPCK_LISTEN));
	size_t max = ipck_max_msg(mb);
	unsigned char *m = malloc(max);
	REQUIRE(m);
	pid_t pid = spawn(flood, url);
	accept_one(mb, &h, pid);
	CHECK_EQ(ipck_accept(mb, &x, 20000), -ENOBUFS);
	uint32_t i = 0;
	for (; i * max < BIG_TOTAL; i++) {
		ssize_t n = ipck_recv(mb, m, max, 10000);
		CHECK_EQ(n, (ssize_t)max);
		if (n != (ssize_t)max)
			break;
		CHECK(check_pattern(m, max, i));
	}
	CHECK_EQ(reap(pid), 0);
	CHECK_EQ(ipck_recv(mb, m, max, 0), -ETIMEDOUT);
	CHECK_EQ(ipck_recv(h, m, max, 5000), -EPIPE);
	CHECK_EQ(ipck_accept(mb, &x, 0), -ETIMEDOUT);
	CHECK_OK(ipck_close(h));
	CHECK_OK(ipck_close(mb));
	free(m);
	fprintf(stderr, "%s: -ENOBUFS, then %u messages of %zu bytes ok\n", scheme, i, max);
}

/* ---- a receiver that never accepts -------------------------------------------------- */

static int open_close_many(void *url)
{
	for (int i = 0; i < MANY; i++) {
		ipck_chan *s;
		if (ipck_open(&s, url, 0) || ipck_close(s))
			return 2;
	}
	return 0;
}

static void never_accepts(const char *scheme)
{
	char url[512], b[8];
	struct ipck_stats st;
	ipck_chan *mb, *h = NULL;
	int status = -1;
	CHECK_OK(ipck_open(&mb, mb_url(url, sizeof(url), scheme), IPCK_LISTEN));
	pid_t pid = spawn(open_close_many, url);
	for (;;) {   /* receive while they come: pmsg holds 10 */
		ssize_t n = ipck_recv(mb, b, sizeof(b), 20);
		CHECK_EQ(n, -ETIMEDOUT);   /* no data: HELLOs and BYEs never show */
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid || n != -ETIMEDOUT)
			break;
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ(ipck_recv(mb, b, sizeof(b), 0), -ETIMEDOUT);
	CHECK_OK(ipck_stats(mb, &st));
	CHECK_EQ(st.dropped, MANY - PENDING_MAX);
	CHECK_EQ(st.recv_msgs, 0);
	int n = 0;
	while (ipck_accept(mb, &h, 0) == 0) {   /* the newest 1024, each ended already */
		n++;
		CHECK_EQ(ipck_peer_pid(h), pid);
		CHECK_EQ(ipck_recv(h, b, sizeof(b), 0), -EPIPE);
		CHECK_EQ(readable(ipck_pollfd(h), 0), 1);
		CHECK_OK(ipck_close(h));
	}
	CHECK_EQ(n, PENDING_MAX);
	CHECK_OK(ipck_close(mb));
}

int main(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (!scheme_wanted(schemes[i], argc, argv))
			continue;
		in_order(schemes[i]);
		behind(schemes[i]);
		other_thread(schemes[i]);
		too_much_ahead(schemes[i]);
		never_accepts(schemes[i]);
	}
	check_exit();
}
