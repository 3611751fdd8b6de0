/*
 * t_udp.c - what udp: adds to the contract, between two processes:
 *  - loss is counted: a receiver that does not read while the sender
 *    overflows its socket buffer sees dropped > 0 and delivered + dropped
 *    == sent, and what it gets is in order;
 *  - stray duplicate HELLOs never make a second channel, and the greeting
 *    on the wire is the documented one (dgram header + struct hello); an
 *    unacknowledged WELCOME is sent again; a HELLO whose sender is gone
 *    makes no channel;
 *  - nobody listening: open fails with -ECONNREFUSED at once, not a timeout;
 *  - the peer's pid is known over loopback; a vanished peer makes a send
 *    -ECONNRESET (ICMP port unreachable).
 */
#include "check.h"
#include "echo.h"
#include "internal.h"
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#define N_BURST 5000
#define MSG 1000

static const char *url;
static int to_child[2], to_parent[2];

static void sync_send(int fd)
{
	CHECK(write(fd, "s", 1) == 1);
}

static void sync_wait(int fd)
{
	char b;
	CHECK(read(fd, &b, 1) == 1);
}

/* Sender: a burst the receiver does not read, then one last message. */
static int burst_sender(void *arg)
{
	(void)arg;
	ipck_chan *c;
	unsigned char buf[MSG] = {0};
	int before = check_failures;
	int r = ipck_open(&c, url, 0);
	CHECK_OK(r);
	if (r < 0)
		return 1;
	for (uint32_t i = 0; i < N_BURST; i++) {
		memcpy(buf, &i, sizeof(i));
		CHECK_EQ(ipck_send(c, buf, MSG, 5000), MSG);
	}
	sync_send(to_parent[1]);
	sync_wait(to_child[0]);   /* the receiver has emptied its buffer */
	CHECK_EQ(ipck_send(c, "e", 1, 5000), 1);
	struct ipck_stats st;
	CHECK_OK(ipck_stats(c, &st));
	CHECK_EQ(st.sent_msgs, N_BURST + 1);
	sync_wait(to_child[0]);
	CHECK_OK(ipck_close(c));
	return check_failures > before;
}

/* Receive one message of the burst: its index, or -1 for the last one. */
static long next_index(ipck_chan *s, int timeout_ms, uint32_t *prev, bool *first)
{
	unsigned char buf[MSG];
	uint32_t i;
	ssize_t n = ipck_recv(s, buf, sizeof(buf), timeout_ms);
	if (n == 1)
		return -1;
	if (n == -ETIMEDOUT)
		return -2;
	CHECK_EQ(n, MSG);
	if (n != MSG)
		return -3;
	memcpy(&i, buf, sizeof(i));
	CHECK(*first || i > *prev);   /* in order, no duplicate */
	*prev = i;
	*first = false;
	return i;
}

static void loss_counted(void)
{
	ipck_chan *l, *s;
	uint32_t prev = 0;
	bool first = true;
	long got = 0, r;
	url = test_url("udp");
	REQUIRE(pipe(to_child) == 0 && pipe(to_parent) == 0);
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	pid_t pid = spawn(burst_sender, NULL);
	CHECK_OK(ipck_accept(l, &s, 5000));
	REQUIRE(s);
	sync_wait(to_parent[0]);
	while ((r = next_index(s, 0, &prev, &first)) >= 0)
		got++;
	CHECK_EQ(r, -2);   /* drained: nothing more now */
	sync_send(to_child[1]);
	while ((r = next_index(s, 5000, &prev, &first)) >= 0)
		got++;   /* a few may still have been on their way */
	CHECK_EQ(r, -1);
	struct ipck_stats st;
	CHECK_OK(ipck_stats(s, &st));
	fprintf(stderr, "sent %d, delivered %llu, dropped %llu\n", N_BURST + 1,
		(unsigned long long)st.recv_msgs, (unsigned long long)st.dropped);
	CHECK(st.dropped > 0);
	CHECK_EQ(st.recv_msgs, got + 1);
	CHECK_EQ(st.recv_msgs + st.dropped, N_BURST + 1);
	sync_send(to_child[1]);
	CHECK_EQ(reap(pid), 0);
	CHECK_OK(ipck_close(s));
	CHECK_OK(ipck_close(l));
}

/* ---- duplicate HELLOs ------------------------------------------------------ */

struct greeting {
	struct dgram_hdr h;
	struct hello m;
};

static struct sockaddr_in addr_of(const char *u)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	a.sin_port = htons((uint16_t)atoi(strrchr(u, ':') + 1));
	return a;
}

static struct greeting hello_of(uint64_t nonce)
{
	return (struct greeting){.h = {.tag = TAG_HELLO},
				 .m = {.magic = htole32(IPCK_MAGIC), .tag = htole32(TAG_HELLO),
				       .pid = (int32_t)htole32((uint32_t)getpid()), .nonce = nonce}};
}

/* The WELCOMEs waiting on fd: how many, all for nonce, all from one
 * address (*from), not the listener's. */
static int welcomes(int fd, uint64_t nonce, in_port_t listener_port, struct sockaddr_in *sender)
{
	struct greeting w;
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	in_port_t port = 0;
	int n = 0;
	while (recvfrom(fd, &w, sizeof(w), MSG_DONTWAIT, (struct sockaddr *)&from, &flen) ==
	       sizeof(w)) {
		CHECK_EQ(w.h.tag, TAG_WELCOME);
		CHECK_EQ(le32toh(w.m.tag), TAG_WELCOME);
		CHECK_EQ(w.m.nonce, nonce);
		CHECK(from.sin_port != listener_port);   /* from the channel's own socket */
		CHECK(n == 0 || from.sin_port == port);
		port = from.sin_port;
		*sender = from;
		n++;
	}
	return n;
}

/* A new listener at a new url, and `copies` HELLOs to it from a plain socket. */
static int greet(ipck_chan **l, struct sockaddr_in *a, struct greeting *g, int copies)
{
	url = test_url("udp");
	*a = addr_of(url);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	REQUIRE(fd >= 0);
	CHECK_OK(ipck_open(l, url, IPCK_LISTEN));
	for (int i = 0; i < copies; i++)
		CHECK_EQ(sendto(fd, g, sizeof(*g), 0, (struct sockaddr *)a, sizeof(*a)), sizeof(*g));
	return fd;
}

/*
 * Three copies of one HELLO from a plain socket that never acknowledges:
 * one channel, its WELCOME resent; no ghost channel from the copies; then
 * a real client is served.
 */
static void duplicate_hellos(void)
{
	ipck_chan *l, *s1, *x = NULL, *s2;
	struct greeting g = hello_of(12345);
	struct sockaddr_in a;
	int fd = greet(&l, &a, &g, 3);
	CHECK_OK(ipck_accept(l, &s1, 5000));
	CHECK_EQ(ipck_peer_pid(s1), getpid());
	struct sockaddr_in s1_addr;
	int n = welcomes(fd, 12345, a.sin_port, &s1_addr);
	CHECK(n >= 2);   /* no ACK came: the WELCOME was sent again */
	fprintf(stderr, "  %d WELCOMEs without an ACK\n", n);

	/* A late greeting larger than the buffer is skipped, data is not. */
	struct { struct dgram_hdr h; char x; } d = {.h = {.seq = 0, .tag = TAG_DATA}, .x = 'x'};
	char buf[4];
	g.h.tag = TAG_WELCOME;
	CHECK_EQ(sendto(fd, &g, sizeof(g), 0, (struct sockaddr *)&s1_addr, sizeof(s1_addr)), sizeof(g));
	CHECK_EQ(sendto(fd, &d, sizeof(d.h) + 1, 0, (struct sockaddr *)&s1_addr, sizeof(s1_addr)),
		 sizeof(d.h) + 1);
	CHECK_EQ(ipck_recv(s1, buf, sizeof(buf), 5000), 1);
	CHECK_EQ(buf[0], 'x');
	CHECK_EQ(ipck_accept(l, &x, 300), -ETIMEDOUT);   /* no ghost from the copies */

	pid_t pid = spawn(echo_client, (void *)url);
	CHECK_OK(ipck_accept(l, &s2, 5000));
	if (s2) {
		CHECK_EQ(ipck_peer_pid(s2), pid);
		echo_answer(s2);
	}
	CHECK_EQ(reap(pid), 0);
	CHECK_OK(ipck_close(s1));
	close(fd);
	CHECK_OK(ipck_close(l));
}

/* A HELLO whose sender is gone before the accept makes no channel. */
static void gone_before_accept(void)
{
	ipck_chan *l, *x = NULL;
	struct greeting g = hello_of(777);
	struct sockaddr_in a;
	close(greet(&l, &a, &g, 1));
	long long t0 = now_ms();
	CHECK_EQ(ipck_accept(l, &x, 1500), -ETIMEDOUT);
	CHECK(now_ms() - t0 >= 1400);
	CHECK(x == NULL);
	CHECK_OK(ipck_close(l));
}

/* ---- refused, vanished ------------------------------------------------------ */

static void nobody_listens(void)
{
	ipck_chan *c = NULL;
	long long t0 = now_ms();
	CHECK_EQ(ipck_open(&c, fmt("%s?timeout=3000", test_url("udp")), 0), -ECONNREFUSED);
	CHECK(now_ms() - t0 < 2000);
	CHECK(c == NULL);
}

static int sleeper(void *arg)
{
	ipck_chan *c;
	if (ipck_open(&c, arg, 0) < 0)
		return 1;
	pause();
	return 0;
}

static void peer_vanishes(void)
{
	ipck_chan *l, *s;
	url = test_url("udp");
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	pid_t pid = spawn(sleeper, (void *)url);
	CHECK_OK(ipck_accept(l, &s, 5000));
	REQUIRE(s);
	kill(pid, SIGKILL);
	CHECK_EQ(reap(pid), 128 + SIGKILL);
	ssize_t r = 0;
	for (int i = 0; i < 50 && r >= 0; i++) {   /* the ICMP answer comes back later */
		r = ipck_send(s, "x", 1, 1000);
		usleep(10000);
	}
	CHECK_EQ(r, -ECONNRESET);
	char b;
	r = ipck_recv(s, &b, 1, 1000);
	CHECK(r == -ECONNRESET || r == -EPIPE);
	CHECK_OK(ipck_close(s));
	CHECK_OK(ipck_close(l));
}

int main(void)
{
	fprintf(stderr, "== loss\n");
	loss_counted();
	fprintf(stderr, "== duplicate hellos\n");
	duplicate_hellos();
	gone_before_accept();
	fprintf(stderr, "== refused, vanished\n");
	nobody_listens();
	peer_vanishes();
	check_exit();
}
