/*
 * t_url.c - bad URLs fail with -EINVAL before anything is touched, and good
 * ones parse into the right fields.
 */
#include "check.h"
#include "internal.h"

static void bad(const char *url)
{
	struct ipck_url u;
	ipck_chan *c = (ipck_chan *)1;
	int r = ipck__url_parse(url, &u);
	if (r != -EINVAL)
		fprintf(stderr, "accepted bad URL: %s\n", url ? url : "(null)");
	CHECK_EQ(r, -EINVAL);
	CHECK_EQ(ipck_open(&c, url, 0), -EINVAL);
	CHECK(c == NULL);
	CHECK_EQ(ipck_open(&c, url, IPCK_LISTEN), -EINVAL);
}

int main(void)
{
	const char *bads[] = {
		NULL, "", ":", "nosuch:/x", "pipe", "pipe:x", "pipe:?raw=2", "pipe:?",
		"pipe:?raw=1&", "pipe:?raw=1&raw=1", "pipe:?bogus=1", "pipe:?=1",
		"pipe:?raw", "socketpair:?raw=1", "socketpair:x", "PIPE:",
	};
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		bad(bads[i]);

	/* pair-only schemes cannot be opened, and flags are checked. */
	ipck_chan *c = NULL, *d = NULL;
	CHECK_EQ(ipck_open(&c, "pipe:", 0), -EINVAL);
	CHECK_EQ(ipck_open(&c, "pipe:", 0x100), -EINVAL);
	CHECK_EQ(ipck_open(NULL, "pipe:", 0), -EINVAL);
	CHECK_EQ(ipck_pair("pipe:", NULL, &d), -EINVAL);
	CHECK_EQ(ipck_accept(NULL, &c, 0), -EINVAL);

	struct ipck_url u;
	CHECK_EQ(ipck__url_parse("pipe:?raw=1", &u), 0);
	CHECK(u.raw);
	CHECK_EQ(u.mode, 0600);
	CHECK_EQ(u.peer_uid, -1);

	/* Calls on a pair: NULL and bad arguments. */
	ipck_chan *a, *b;
	CHECK_OK(ipck_pair("socketpair:", &a, &b));
	CHECK_EQ(ipck_send(a, NULL, 1, 0), -EINVAL);
	CHECK_EQ(ipck_send(a, "x", 1, -2), -EINVAL);
	CHECK_EQ(ipck_recv(a, NULL, 1, 0), -EINVAL);
	CHECK_EQ(ipck_send(NULL, "x", 1, 0), -EINVAL);
	CHECK_EQ(ipck_accept(a, &c, 0), -EINVAL);   /* not a listener */
	CHECK_EQ(ipck_send(a, NULL, 0, 0), 0);      /* empty message: fine */
	CHECK_EQ(ipck_recv(b, NULL, 0, 0), 0);
	CHECK_OK(ipck_close(a));
	CHECK_OK(ipck_close(b));
	CHECK_EQ(ipck_close(NULL), 0);

	CHECK(!strcmp(ipck_errname(-EPIPE), "EPIPE"));
	CHECK(!strcmp(ipck_errname(EPIPE), "EPIPE"));
	CHECK(!strcmp(ipck_strerror(-EPIPE), "Broken pipe"));
	CHECK(ipck_errname(-99999) != NULL);
	CHECK(ipck_strerror(-99999) != NULL);
	check_exit();
}
