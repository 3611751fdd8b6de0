/*
 * t_ls_sock.c - ipck_list sees what only processes know of: a FIFO held
 * open, a Unix socket (path and abstract) with its server and its client as
 * a peer, a socket pair and a pipe with the process at each end, paired by
 * inode; ipck_remove takes the paths away, and refuses what it must.
 */
#include "check.h"
#include "lsfind.h"
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int ready[2], go[2];
static int keep_fd = -1;      /* what the child keeps */
static int drop_fd = -1;      /* what it closes: fork copied the parent's */
static const char *connect_to;

/* A child that holds keep_fd (or a client of connect_to) until go closes. */
static int holder(void *arg)
{
	(void)arg;
	close(go[1]);
	if (drop_fd >= 0)
		close(drop_fd);
	int fd = keep_fd;
	if (connect_to) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		socklen_t len = offsetof(struct sockaddr_un, sun_path) + strlen(connect_to);
		memcpy(a.sun_path, connect_to, strlen(connect_to));
		if (a.sun_path[0] == '@')
			a.sun_path[0] = '\0';
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, len) < 0)
			return 1;
	}
	if (write(ready[1], "x", 1) != 1)
		return 1;
	char c;
	while (read(go[0], &c, 1) > 0)
		;
	return fd >= 0 ? 0 : 1;
}

static pid_t start_holder(int fd, int drop, const char *to)
{
	keep_fd = fd;
	drop_fd = drop;
	connect_to = to;
	CHECK_SYS(pipe(ready));
	CHECK_SYS(pipe(go));
	pid_t p = spawn(holder, NULL);
	char c;
	CHECK_EQ(read(ready[0], &c, 1), 1);
	return p;
}

static void stop_holder(pid_t p)
{
	close(go[1]);
	CHECK_EQ(reap(p), 0);
	close(go[0]);
	close(ready[0]);
	close(ready[1]);
}

static void check_fifo(void)
{
	const char *path = fmt("%s/fifo", test_dir());
	CHECK_SYS(mkfifo(path, 0600));
	int fd = open(path, O_RDWR | O_CLOEXEC);
	REQUIRE(fd >= 0);
	pid_t p = start_holder(fd, -1, NULL);
	close(fd);
	struct lsobj o[2];
	REQUIRE(ls_find(IPCK_KIND_FIFO, path, 0, o, 2, NULL) == 1);
	CHECK(!strcmp(o[0].url, fmt("fifo:%s", path)));
	CHECK_EQ(o[0].o.mode, 0600);
	CHECK_EQ(o[0].o.uid, geteuid());
	const struct ipck_holder *h = ls_holder(&o[0], p);
	CHECK(h && h->how == (IPCK_HOLD_READ | IPCK_HOLD_WRITE));
	CHECK(ls_holder(&o[0], getpid()) == NULL);
	CHECK_EQ(ipck_remove(fmt("unix:%s", path), 0), -ENOTSOCK);
	CHECK_OK(ipck_remove(o[0].url, IPCK_RM_DRY_RUN));
	CHECK_SYS(access(path, F_OK));
	CHECK_OK(ipck_remove(o[0].url, 0));
	CHECK_EQ(access(path, F_OK), -1);
	REQUIRE(ls_find(IPCK_KIND_FIFO, path, 0, o, 2, NULL) == 1);
	CHECK(o[0].o.deleted && o[0].o.url == NULL);   /* unlinked, still open */
	stop_holder(p);
	CHECK_EQ(ls_find(IPCK_KIND_FIFO, path, 0, o, 2, NULL), 0);
}

static int listen_at(const char *name)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t n = strlen(name);
	memcpy(a.sun_path, name, n);
	if (a.sun_path[0] == '@')
		a.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(fd >= 0);
	CHECK_SYS(bind(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)));
	CHECK_SYS(listen(fd, 4));
	return fd;
}

static void check_unix(const char *name)
{
	int l = listen_at(name);
	pid_t p = start_holder(-1, l, name);
	int c = accept(l, NULL, NULL);
	CHECK(c >= 0);
	struct lsobj o[2];
	REQUIRE(ls_find(IPCK_KIND_UNIX, name, 0, o, 2, NULL) == 1);
	CHECK(!strcmp(o[0].type, "stream"));
	CHECK(!strcmp(o[0].state, "listen"));
	struct stat st;
	CHECK_SYS(fstat(l, &st));
	CHECK_EQ(o[0].o.id, st.st_ino);
	const struct ipck_holder *me = ls_holder(&o[0], getpid()), *peer = ls_holder(&o[0], p);
	CHECK(me && (me->fd == l || me->fd == c) && !(me->how & IPCK_HOLD_PEER));
	CHECK(peer && peer->how == IPCK_HOLD_PEER);
	if (name[0] == '/') {
		CHECK(!strcmp(o[0].url, fmt("unix:%s", name)));
		CHECK_EQ(ipck_remove(o[0].url, 0), -EBUSY);   /* someone listens */
		CHECK_EQ(ipck_remove(fmt("fifo:%s", name), 0), -EINVAL);
	} else {
		CHECK(o[0].o.url == NULL);
		CHECK_EQ(ipck_remove(fmt("unix:%s", name), 0), -ENOTSUP);
	}
	stop_holder(p);
	close(c);
	close(l);
	if (name[0] == '/')
		CHECK_OK(ipck_remove(fmt("unix:%s", name), 0));   /* nobody listens now */
	CHECK_EQ(ls_find(IPCK_KIND_UNIX, name, 0, o, 2, NULL), 0);
}

static void check_pair(void)
{
	int sv[2];
	struct stat a, b;
	CHECK_SYS(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
	CHECK_SYS(fstat(sv[0], &a));
	CHECK_SYS(fstat(sv[1], &b));
	pid_t p = start_holder(sv[1], sv[0], NULL);
	close(sv[1]);
	static struct lsobj o[512];
	int n = ls_find(IPCK_KIND_SOCKETPAIR, NULL, 0, o, 512, NULL);
	REQUIRE(n >= 1 && n <= 512);
	int found = 0;
	for (int i = 0; i < n; i++) {
		if (o[i].o.id != (long long)(a.st_ino < b.st_ino ? a.st_ino : b.st_ino))
			continue;
		found++;
		CHECK(!strcmp(o[i].type, "seqpacket"));
		const struct ipck_holder *me = ls_holder(&o[i], getpid()), *kid = ls_holder(&o[i], p);
		CHECK(me && me->fd == sv[0]);
		CHECK(kid && kid->fd == sv[1]);
	}
	CHECK_EQ(found, 1);
	CHECK_EQ(ipck_remove("socketpair:", 0), -ENOTSUP);
	stop_holder(p);
	close(sv[0]);
}

static void check_pipe(void)
{
	int pfd[2];
	struct stat st;
	CHECK_SYS(pipe2(pfd, O_CLOEXEC));
	CHECK_SYS(fstat(pfd[0], &st));
	pid_t p = start_holder(pfd[1], pfd[0], NULL);
	close(pfd[1]);
	static struct lsobj o[1024];
	int n = ls_find(IPCK_KIND_PIPE, NULL, 0, o, 1024, NULL);
	REQUIRE(n >= 1 && n <= 1024);
	int found = 0;
	for (int i = 0; i < n; i++) {
		if (o[i].o.id != (long long)st.st_ino)
			continue;
		found++;
		const struct ipck_holder *me = ls_holder(&o[i], getpid()), *kid = ls_holder(&o[i], p);
		CHECK(me && me->fd == pfd[0] && me->how == IPCK_HOLD_READ);
		CHECK(kid && kid->fd == pfd[1] && kid->how == IPCK_HOLD_WRITE);
		CHECK_EQ(o[i].nh, 2);
	}
	CHECK_EQ(found, 1);
	stop_holder(p);
	close(pfd[0]);
}

int main(void)
{
	umask(077);
	check_fifo();
	check_unix(fmt("%s/sock", test_dir()));
	check_unix(fmt("@%s-abs", test_tag()));
	check_pair();
	check_pipe();
	check_exit();
}
