/* echo.c - see echo.h. */
#include "echo.h"
#include "check.h"

int echo_client_as(const char *url, pid_t want_pid)
{
	ipck_chan *c;
	char buf[8];
	int before = check_failures;
	int r = ipck_open(&c, url, 0);
	CHECK_OK(r);
	if (r < 0)
		return 1;
	CHECK_EQ(ipck_send(c, "hi", 2, 5000), 2);
	CHECK_EQ(ipck_recv(c, buf, sizeof(buf), 5000), 2);
	CHECK(!memcmp(buf, "ok", 2));
	if (want_pid >= 0)
		CHECK_EQ(ipck_peer_pid(c), want_pid);
	CHECK_OK(ipck_close(c));
	return check_failures > before;
}

int echo_client(void *url)
{
	return echo_client_as(url, -1);
}

void echo_answer(ipck_chan *s)
{
	char buf[8];
	CHECK_EQ(ipck_recv(s, buf, sizeof(buf), 5000), 2);
	CHECK(!memcmp(buf, "hi", 2));
	CHECK_EQ(ipck_send(s, "ok", 2, 5000), 2);
	CHECK_OK(ipck_close(s));
}
