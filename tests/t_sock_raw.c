/*
 * t_sock_raw.c - ?raw=1 on the socket schemes: no framing and no greeting,
 * so a plain socket (another program, socat) talks to an ipckit channel
 * byte for byte, as a client and as a server:
 *   unix, abstract, tcp: a byte stream;  unix-seqpacket: one record each;
 *   unix-dgram, udp: one datagram each, the listener's one peer is the
 *   sender of the first datagram (a second accept: -EISCONN).
 */
#include "check.h"
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The plain address of a test URL: a path, an abstract name or 127.0.0.1:port. */
static socklen_t plain_addr(const char *url, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (!strncmp(url, "tcp:", 4) || !strncmp(url, "udp:", 4)) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons((uint16_t)atoi(strrchr(url, ':') + 1));
		return sizeof(*a);
	}
	struct sockaddr_un *u = (struct sockaddr_un *)ss;
	const char *name = strchr(url, ':') + 1;
	bool abs = !strncmp(url, "abstract:", 9);
	u->sun_family = AF_UNIX;
	memcpy(u->sun_path + abs, name, strlen(name));
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abs + strlen(name) + !abs);
}

static int plain_socket(const char *url, int type)
{
	int fam = !strncmp(url, "tcp:", 4) || !strncmp(url, "udp:", 4) ? AF_INET : AF_UNIX;
	int fd = socket(fam, type | SOCK_CLOEXEC, 0);
	REQUIRE(fd >= 0);
	if (fam == AF_UNIX && type == SOCK_DGRAM) {   /* an address to answer to */
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		CHECK_SYS(bind(fd, (struct sockaddr *)&a, sizeof(sa_family_t)));
	}
	return fd;
}

/* Bytes written plainly arrive as they are, and back. */
static void exchange(ipck_chan *ch, int fd, bool stream)
{
	char buf[64];
	CHECK_EQ(write(fd, "hello", 5), 5);
	CHECK_EQ(ipck_recv(ch, buf, sizeof(buf), 5000), 5);
	CHECK(!memcmp(buf, "hello", 5));
	CHECK_EQ(ipck_send(ch, "abc", 3, 5000), 3);
	CHECK_EQ(read(fd, buf, sizeof(buf)), 3);
	CHECK(!memcmp(buf, "abc", 3));
	if (stream) {   /* no boundaries: two writes may come as one */
		CHECK_EQ(ipck_max_msg(ch), 16u << 20);
	}
}

/* ipckit listens, a plain socket connects. */
static void plain_client(const char *scheme, int type)
{
	ipck_chan *l, *s, *x = NULL;
	struct sockaddr_storage ss;
	const char *url = test_url(scheme);
	socklen_t len = plain_addr(url, &ss);
	bool conn = type == SOCK_STREAM || type == SOCK_SEQPACKET;
	CHECK_OK(ipck_open(&l, fmt("%s?raw=1", url), IPCK_LISTEN));
	if (!l)
		return;
	int fd = plain_socket(url, type);
	CHECK_SYS(connect(fd, (struct sockaddr *)&ss, len));
	if (!conn)   /* a datagram listener meets its peer by its first datagram */
		CHECK_EQ(write(fd, "", 0), 0);
	CHECK_OK(ipck_accept(l, &s, 5000));
	if (s) {
		char b;
		if (!conn)
			CHECK_EQ(ipck_recv(s, &b, 1, 1000), 0);
		exchange(s, fd, type == SOCK_STREAM);
		if (!conn)
			CHECK_EQ(ipck_accept(l, &x, 0), -EISCONN);
		if (conn) {
			close(fd);
			fd = -1;
			CHECK_EQ(ipck_recv(s, &b, 1, 1000), -EPIPE);
		}
		CHECK_OK(ipck_close(s));
	}
	if (fd >= 0)
		close(fd);
	CHECK_OK(ipck_close(l));
}

/* A plain socket listens, ipckit connects. */
static void plain_server(const char *scheme, int type)
{
	ipck_chan *c;
	struct sockaddr_storage ss;
	const char *url = test_url(scheme);
	socklen_t len = plain_addr(url, &ss);
	bool conn = type == SOCK_STREAM || type == SOCK_SEQPACKET;
	int lfd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0), fd = -1;
	REQUIRE(lfd >= 0);
	CHECK_SYS(bind(lfd, (struct sockaddr *)&ss, len));
	if (conn)
		CHECK_SYS(listen(lfd, 4));
	CHECK_OK(ipck_open(&c, fmt("%s?raw=1", url), 0));
	if (!c)
		goto out;
	if (conn) {
		fd = accept(lfd, NULL, NULL);
		CHECK(fd >= 0);
		exchange(c, fd, type == SOCK_STREAM);
	} else {   /* answer to where the first datagram came from */
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		char buf[8];
		CHECK_EQ(ipck_send(c, "ping", 4, 1000), 4);
		CHECK_EQ(recvfrom(lfd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen), 4);
		CHECK_EQ(sendto(lfd, "pong", 4, 0, (struct sockaddr *)&from, flen), 4);
		CHECK_EQ(ipck_recv(c, buf, sizeof(buf), 5000), 4);
		CHECK(!memcmp(buf, "pong", 4));
	}
	CHECK_OK(ipck_close(c));
out:
	if (fd >= 0)
		close(fd);
	close(lfd);
	if (ss.ss_family == AF_UNIX && ((struct sockaddr_un *)&ss)->sun_path[0])
		unlink(((struct sockaddr_un *)&ss)->sun_path);
}

int main(void)
{
	static const struct { const char *scheme; int type; } t[] = {
		{"unix", SOCK_STREAM}, {"abstract", SOCK_STREAM}, {"tcp", SOCK_STREAM},
		{"unix-seqpacket", SOCK_SEQPACKET}, {"unix-dgram", SOCK_DGRAM}, {"udp", SOCK_DGRAM},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fprintf(stderr, "== %s\n", t[i].scheme);
		plain_client(t[i].scheme, t[i].type);
		plain_server(t[i].scheme, t[i].type);
	}
	check_exit();
}
