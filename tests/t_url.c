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
	char why[128] = "unset";
	CHECK_EQ(ipck_url_check(url, why, sizeof(why)), -EINVAL);
	CHECK(why[0] && strcmp(why, "unset"));   /* every refusal says why */
}

/* ipck_url_check: the reason names what is wrong. */
static void reasons(void)
{
	static const char *const rows[][2] = {
		{"bogus:/x", "unknown scheme 'bogus'"},
		{"nocolon", "no scheme"},
		{"pmsg:/q?maxmg=3", "unknown option 'maxmg'"},
		{"pmsg:/q?maxmsg=abc", "option 'maxmsg': bad value 'abc'"},
		{"unix:/x?capacity=4096", "option 'capacity' does not apply to scheme unix"},
		{"unix:/x?mode=0600&mode=0600", "option 'mode' given twice"},
		{"pmsg:/q?", "a '?' with no option after it"},
		{"pmsg:/q?raw=1&", "a '&' ends the query"},
		{"pmsg:/q?raw", "option 'raw' has no name=value form"},
		{"pmsg:q", "a queue name is '/'"},
		{"pshm:/r?capacity=5000", "capacity: a power of two"},
		{"unix:", "no socket path"},
		{"fifo:", "bad address or options for fifo: (see 'man 7 ipckit-queues')"},
		{NULL, "no URL"},
	};
	char why[128], tiny[8];
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CHECK_EQ(ipck_url_check(rows[i][0], why, sizeof(why)), -EINVAL);
		if (!strstr(why, rows[i][1]))
			fprintf(stderr, "%s: got \"%s\", want \"%s\"\n", rows[i][0], why, rows[i][1]);
		CHECK(strstr(why, rows[i][1]) != NULL);
	}
	CHECK_EQ(ipck_url_check("bogus:/x", tiny, sizeof(tiny)), -EINVAL);
	CHECK_EQ(strlen(tiny), sizeof(tiny) - 1);   /* cut, NUL-terminated */
	CHECK_EQ(ipck_url_check("bogus:/x", NULL, 0), -EINVAL);
	CHECK_EQ(ipck_url_check("pmsg:/q?maxmsg=4&msgsize=64", why, sizeof(why)), 0);
	CHECK_EQ(why[0], '\0');
	CHECK_EQ(ipck_url_check("pipe:", why, sizeof(why)), 0);
}

/* fifo, pmsg, svmsg: bad addresses and options, and what good ones parse to. */
static void queue_urls(void)
{
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	longname[235] = '\0';   /* fits NAME_MAX, not with ".<pid>.<n>.c2s" after it */
	const char *bads[] = {
		"fifo:", "fifo:/tmp/", "fifo:/tmp/..", "fifo:/x?maxmsg=1", "fifo:/x?mode=660",
		"pmsg:", "pmsg:q", "pmsg:/", "pmsg:/a/b", "pmsg:/..", "pmsg:/q?msgsize=0",
		"pmsg:/q?maxmsg=0", "pmsg:/q?msgsize=24", "pmsg:/q?priority=32768",
		"pmsg:/q?maxmsg=70000", "pmsg:/q?msgsize=16777217", "pmsg:/q?bogus=1",
		"svmsg:", "svmsg:0", "svmsg:00", "svmsg:0x0", "svmsg:abc", "svmsg:0x1g", "svmsg:-1",
		"svmsg:+5", "svmsg: 5", "svmsg:08", "svmsg:0x100000000", "svmsg:id=", "svmsg:id=x",
		"svmsg:id=-1", "svmsg:id=2147483648", "svmsg:1?maxmsg=5", "svmsg:1?raw=2",
	};
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		bad(bads[i]);
	bad(fmt("fifo:/tmp/%s", longname));
	bad(fmt("pmsg:/%s", longname));

	struct ipck_url u;
	CHECK_EQ(ipck__url_parse(fmt("fifo:/tmp/%s?raw=1", longname), &u), 0);  /* raw: no suffix */
	CHECK_EQ(ipck__url_parse(fmt("pmsg:/%s?raw=1", longname), &u), 0);
	CHECK_EQ(ipck__url_parse("pmsg:/q?maxmsg=5&msgsize=100&priority=3&mode=0640", &u), 0);
	CHECK_EQ(u.maxmsg, 5);
	CHECK_EQ(u.msgsize, 100);
	CHECK_EQ(u.priority, 3);
	CHECK_EQ(u.mode, 0640);
	CHECK_EQ(ipck__url_parse("fifo:/tmp/x?timeout=100&peer_uid=1000", &u), 0);
	CHECK_EQ(u.timeout_ms, 100);
	CHECK_EQ(u.peer_uid, 1000);
	CHECK(!strcmp(u.addr, "/tmp/x"));
	CHECK_EQ(ipck__url_parse("svmsg:0xdeadbeef", &u), 0);
	CHECK_EQ(ipck__url_parse("svmsg:id=0", &u), 0);
	CHECK_EQ(ipck__url_parse("svmsg:/no/such/file", &u), 0);   /* ftok runs at open */
	ipck_chan *c = NULL;
	CHECK_EQ(ipck_open(&c, "svmsg:id=5", IPCK_LISTEN), -EINVAL);
}

int main(void)
{
	ipck_chan *c0 = NULL;
	const char *bads[] = {
		NULL, "", ":", "nosuch:/x", "pipe", "pipe:x", "pipe:?raw=2", "pipe:?",
		"pipe:?raw=1&", "pipe:?raw=1&raw=1", "pipe:?bogus=1", "pipe:?=1",
		"pipe:?raw", "socketpair:?raw=1", "socketpair:x", "PIPE:",
		/* sockets */
		"unix:", "unix:?mode=0600", "unix-seqpacket:", "unix-dgram:", "abstract:",
		"unix:/x?mode=600", "unix:/x?mode=0600&mode=0600", "unix:/x?bogus=1",
		"unix:/x?peer_uid=-1", "unix:/x?peer_uid=abc", "unix:/x?raw=yes",
		"abstract:x?mode=0600", "unix-dgram:/x?maxmsg=1",
		"tcp:", "tcp:127.0.0.1:80", "tcp:/127.0.0.1:80", "tcp://", "tcp://127.0.0.1",
		"tcp://127.0.0.1:", "tcp://127.0.0.1:65536", "tcp://127.0.0.1:99999",
		"tcp://127.0.0.1:8x", "tcp://127.0.0.1:+80", "tcp://127.0.0.1: 80",
		"tcp://127.0.0.1:123456", "tcp://:80", "tcp://::1:80", "tcp://[::1]80",
		"tcp://[::1:80", "tcp://[]:80", "tcp://h:80/x", "tcp://h:80?mode=0600",
		"udp://h:80?peer_uid=1", "udp://", "udp://h", "udp:h:80", "udp://h:-1",
	};
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		bad(bads[i]);
	queue_urls();
	reasons();

	/* sun_path holds 107 bytes and a NUL; an abstract name 107 bytes. */
	char path[160] = "unix:/", name[160] = "abstract:";
	memset(path + 6, 'p', 106);
	memset(name + 9, 'n', 107);
	CHECK_EQ(ipck__url_parse(path, &(struct ipck_url){0}), 0);
	CHECK_EQ(ipck__url_parse(name, &(struct ipck_url){0}), 0);
	strcat(path, "p");
	strcat(name, "n");
	bad(path);
	bad(name);

	/* Port 0: a listener may ask for any port, a client must name one. */
	struct ipck_url uu;
	CHECK_EQ(ipck__url_parse("tcp://127.0.0.1:0", &uu), 0);
	CHECK_EQ(ipck_open(&c0, "tcp://127.0.0.1:0", 0), -EINVAL);
	CHECK_EQ(ipck_open(&c0, "udp://127.0.0.1:0", 0), -EINVAL);
	CHECK_EQ(ipck__url_parse("tcp://[::1]:65535?timeout=10&raw=1", &uu), 0);
	CHECK(uu.raw);
	CHECK_EQ(uu.timeout_ms, 10);
	CHECK_EQ(ipck__url_parse("unix:/x?mode=0660&peer_uid=65534", &uu), 0);
	CHECK_EQ(uu.mode, 0660);
	CHECK_EQ(uu.peer_uid, 65534);

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
