/*
 * t_send_many.c - ipck_send_many: on a framed stream (pipe:, one write for
 * all) and elsewhere (socketpair:, pshm:, one by one), between two
 * processes: the count stops before a message too large, caps at 64, every
 * message arrives whole and in order, the counters count each, and bad
 * arguments or a first message too large send nothing.
 */
#include "lib/check.h"
#include <unistd.h>

#define N 100
#define SENT N   /* the sender's calls below send them all */

static size_t len_of(unsigned i)
{
	return 8 + (i * 37) % 300;
}

static ipck_chan *a, *b;   /* the sender's end, the receiver's */

static int receiver(void *arg)
{
	ipck_chan *c = b;
	(void)arg;
	ipck_close(a);   /* the sender's end is the parent's */
	static unsigned char buf[1 << 16];
	for (unsigned i = 0; i < SENT; i++) {
		ssize_t n = ipck_recv(c, buf, sizeof(buf), 10000);
		CHECK_EQ(n, len_of(i));
		if (n != (ssize_t)len_of(i) || !check_pattern(buf, (size_t)n, i)) {
			check_fail(__FILE__, __LINE__, "message %u wrong", i);
			break;
		}
	}
	CHECK_EQ(ipck_recv(c, buf, sizeof(buf), 10000), -EPIPE);   /* nothing more */
	ipck_close(c);
	return check_failures ? 1 : 0;
}

static void run(const char *url)
{
	static unsigned char data[N][512], big[1];
	struct iovec v[N];
	REQUIRE(ipck_pair(url, &a, &b) == 0);
	pid_t pid = spawn(receiver, NULL);
	ipck_close(b);
	for (unsigned i = 0; i < N; i++) {
		fill_pattern(data[i], len_of(i), i);
		v[i] = (struct iovec){data[i], len_of(i)};
	}
	CHECK_EQ(ipck_send_many(a, v, 0, 1000), -EINVAL);
	CHECK_EQ(ipck_send_many(a, NULL, 1, 1000), -EINVAL);
	struct iovec huge[2] = {{big, ipck_max_msg(a) + 1}, v[0]};
	CHECK_EQ(ipck_send_many(a, huge, 2, 1000), -EMSGSIZE);
	/* 0..3, then a message too large: the count stops before it */
	struct iovec stop[6] = {v[0], v[1], v[2], v[3], huge[0], v[4]};
	CHECK_EQ(ipck_send_many(a, stop, 6, 1000), 4);
	/* 4..99 in calls of at most 64 */
	ssize_t k = ipck_send_many(a, v + 4, N - 4, 10000);
	CHECK_EQ(k, 64);
	for (size_t done = 4 + (k > 0 ? (size_t)k : 0); k > 0 && done < N; done += (size_t)k)
		CHECK((k = ipck_send_many(a, v + done, N - done, 10000)) > 0);
	struct ipck_stats st;
	CHECK_OK(ipck_stats(a, &st));
	CHECK_EQ(st.sent_msgs, SENT);
	uint64_t bytes = 0;
	for (unsigned i = 0; i < SENT; i++)
		bytes += len_of(i);
	CHECK_EQ(st.sent_bytes, bytes);
	ipck_close(a);
	CHECK_EQ(reap(pid), 0);
	printf("%-12s %d messages whole and in order, counted\n", url, SENT);
}

int main(int argc, char **argv)
{
	static const char *schemes[] = {"pipe", "socketpair", "pshm"};
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (scheme_wanted(schemes[i], argc, argv))
			run(fmt("%s:", schemes[i]));
	check_exit();
}
