/*
 * t_inet.c - addressing of tcp: and udp:, between two processes: IPv4,
 * IPv6 in brackets (skipped where the machine has no ::1), host names,
 * -ECONNREFUSED when nobody listens, -EADDRINUSE for a port in use, the
 * peer's pid (0 over tcp, the client's over loopback udp), nothing to unlink,
 * and a tcp connect that gets no answer ends at timeout=.
 */
#include "check.h"
#include "echo.h"
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* The client learns the server's pid over udp (loopback), never over tcp. */
static int inet_client(void *url)
{
	return echo_client_as(url, strncmp(url, "udp", 3) ? 0 : getppid());
}

/* A listener at url serves one inet_client process. */
static void echo(const char *url)
{
	ipck_chan *l, *s;
	fprintf(stderr, "  %s\n", url);
	int r = ipck_open(&l, url, IPCK_LISTEN);
	CHECK_OK(r);
	if (r < 0)
		return;
	pid_t pid = spawn(inet_client, (void *)url);
	CHECK_OK(ipck_accept(l, &s, 5000));
	if (s) {
		CHECK_EQ(ipck_peer_pid(s), strncmp(url, "udp", 3) ? 0 : pid);
		echo_answer(s);
	}
	CHECK_EQ(reap(pid), 0);
	CHECK_OK(ipck_close(l));
}

/* The port of a test URL, for the same port at another address. */
static int port_of(const char *url)
{
	return atoi(strrchr(url, ':') + 1);
}

static bool have_ipv6_loopback(void)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void refused_and_in_use(const char *scheme)
{
	ipck_chan *l, *l2 = NULL, *c = NULL;
	const char *url = test_url(scheme);
	CHECK_EQ(ipck_open(&c, url, 0), -ECONNREFUSED);
	CHECK(c == NULL);
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	CHECK_EQ(ipck_open(&l2, url, IPCK_LISTEN), -EADDRINUSE);
	CHECK(l2 == NULL);
	CHECK_EQ(ipck_unlink(url), -ENOENT);   /* nothing named to remove */
	CHECK_OK(ipck_close(l));
}

/* A listener whose accept queue is full drops the SYN: open ends at timeout=. */
static void connect_timeout(void)
{
	const char *url = test_url("tcp");
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port_of(url)),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), fds[3];
	REQUIRE(lfd >= 0);
	CHECK_SYS(bind(lfd, (struct sockaddr *)&a, sizeof(a)));
	CHECK_SYS(listen(lfd, 0));
	for (int i = 0; i < 3; i++) {   /* fill the queue; the later ones wait */
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		CHECK(connect(fds[i], (struct sockaddr *)&a, sizeof(a)) == 0 || errno == EINPROGRESS);
	}
	usleep(50000);
	ipck_chan *c = NULL;
	long long t0 = now_ms();
	CHECK_EQ(ipck_open(&c, fmt("%s?timeout=300", url), 0), -ETIMEDOUT);
	long long dt = now_ms() - t0;
	CHECK(dt >= 290 && dt < 3000);
	CHECK(c == NULL);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	close(lfd);
}

int main(void)
{
	const char *schemes[] = {"tcp", "udp"};
	bool v6 = have_ipv6_loopback();
	if (!v6)
		fprintf(stderr, "no IPv6 loopback here: [::1] is not tried\n");
	for (int i = 0; i < 2; i++) {
		const char *s = schemes[i];
		fprintf(stderr, "== %s\n", s);
		echo(test_url(s));
		echo(fmt("%s://localhost:%d", s, port_of(test_url(s))));
		if (v6)
			echo(fmt("%s://[::1]:%d", s, port_of(test_url(s))));
		refused_and_in_use(s);
	}
	connect_timeout();
	check_exit();
}
