/*
 * t_unix_security.c - the safety rules of the Unix socket schemes, for
 * unix:, unix-seqpacket: and unix-dgram: (and abstract: for the uid rules):
 *  - a stale socket file is replaced; a live one is not stolen (-EADDRINUSE)
 *    and its listener still serves; a regular file or a symlink at the path
 *    is never removed nor followed (-EADDRINUSE, -ENOTSOCK, -ELOOP);
 *  - the file is created 0600 whatever the umask, or exactly mode=;
 *  - close removes only the file it bound, only in the process that bound it;
 *  - as root: a peer of another uid is refused with -EACCES on both sides
 *    unless peer_uid= names it (that part is skipped when not root).
 */
#include "check.h"
#include "echo.h"
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define NOBODY 65534

static const char *path_of(const char *url)
{
	return strchr(url, ':') + 1;
}

static bool is_sock(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Leave a socket file with nobody behind it, as a crashed listener does. */
static void make_stale(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	REQUIRE(fd >= 0 && strlen(path) < sizeof(a.sun_path));
	strcpy(a.sun_path, path);
	CHECK_SYS(bind(fd, (struct sockaddr *)&a, sizeof(a)));
	close(fd);
}

/* An echo_client process at url must be served by l. */
static void serve_one(ipck_chan *l, const char *url)
{
	ipck_chan *s;
	pid_t pid = spawn(echo_client, (void *)url);
	int r = ipck_accept(l, &s, 5000);
	CHECK_OK(r);
	if (r == 0) {
		CHECK_EQ(ipck_peer_pid(s), pid);
		echo_answer(s);
	}
	CHECK_EQ(reap(pid), 0);
}

static void stale_replaced(const char *url)
{
	ipck_chan *l;
	make_stale(path_of(url));
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	if (!l)
		return;
	serve_one(l, url);
	CHECK_OK(ipck_close(l));
	CHECK(!exists(path_of(url)));
}

static void live_not_stolen(const char *url)
{
	ipck_chan *l, *l2 = (ipck_chan *)1;
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	if (!l)
		return;
	CHECK_EQ(ipck_open(&l2, url, IPCK_LISTEN), -EADDRINUSE);
	CHECK(l2 == NULL);
	CHECK(is_sock(path_of(url)));
	serve_one(l, url);   /* the probe's connection is not what it accepts */
	CHECK_OK(ipck_close(l));
	CHECK(!exists(path_of(url)));
}

/* A regular file at the path: never removed, never connected to. */
static void file_kept(const char *url)
{
	ipck_chan *l = NULL;
	const char *p = path_of(url);
	FILE *f = fopen(p, "w");
	REQUIRE(f);
	fputs("keep", f);
	fclose(f);
	CHECK_EQ(ipck_open(&l, url, IPCK_LISTEN), -EADDRINUSE);
	CHECK_EQ(ipck_open(&l, url, 0), -ENOTSOCK);
	CHECK_EQ(ipck_unlink(url), -ENOTSOCK);
	char buf[8] = "";
	f = fopen(p, "r");
	CHECK(f != NULL);
	if (f) {
		CHECK(fgets(buf, sizeof(buf), f) && !strcmp(buf, "keep"));
		fclose(f);
	}
	CHECK_SYS(unlink(p));
}

/* Symlinks are neither followed nor removed, dangling or not. */
static void symlink_refused(const char *url, const char *scheme)
{
	ipck_chan *l, *c = NULL;
	const char *link = fmt("%s/link-%s", test_dir(), scheme);
	const char *lurl = fmt("%s:%s", scheme, link);
	const char *nowhere = fmt("%s/nowhere-%s", test_dir(), scheme);
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	CHECK_SYS(symlink(path_of(url), link));
	CHECK_EQ(ipck_open(&c, lurl, 0), -ELOOP);
	CHECK_EQ(ipck_open(&c, lurl, IPCK_LISTEN), -EADDRINUSE);
	CHECK_EQ(ipck_unlink(lurl), -ENOTSOCK);
	CHECK_SYS(unlink(link));
	CHECK_SYS(symlink(nowhere, link));
	CHECK_EQ(ipck_open(&c, lurl, IPCK_LISTEN), -EADDRINUSE);
	CHECK(!exists(nowhere));
	CHECK_SYS(unlink(link));
	CHECK_OK(ipck_close(l));
}

static unsigned mode_of(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? st.st_mode & 07777 : 0;
}

static void modes(const char *url)
{
	ipck_chan *l;
	mode_t old = umask(0);
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	CHECK_EQ(mode_of(path_of(url)), 0600);
	CHECK_OK(ipck_close(l));
	umask(0777);
	CHECK_OK(ipck_open(&l, fmt("%s?mode=0660", url), IPCK_LISTEN));
	CHECK_EQ(mode_of(path_of(url)), 0660);
	CHECK_OK(ipck_close(l));
	umask(old);
}

static int close_in_child(void *arg)
{
	return ipck_close(arg) == 0 ? 0 : 1;
}

/* close removes only its own file, in the process that bound it. */
static void close_rules(const char *url)
{
	ipck_chan *l, *c = NULL;
	CHECK_EQ(ipck_open(&c, url, 0), -ECONNREFUSED);   /* nothing there */
	CHECK_EQ(ipck_unlink(url), -ENOENT);
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	CHECK_EQ(reap(spawn(close_in_child, l)), 0);
	CHECK(is_sock(path_of(url)));
	CHECK_SYS(unlink(path_of(url)));
	make_stale(path_of(url));   /* another file now: not ours to remove */
	CHECK_OK(ipck_close(l));
	CHECK(is_sock(path_of(url)));
	CHECK_EQ(ipck_unlink(url), 0);
	CHECK(!exists(path_of(url)));
}

/* ---- another user (root only) --------------------------------------------- */

struct other {
	const char *url;   /* what the child opens */
	bool listen;       /* child listens (else connects) */
	int ready;         /* pipe: the child's listener is up */
};

static int become_nobody(void)
{
	if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) < 0)
		return -errno;
	return 0;
}

/* As nobody: connect (and be refused), or serve until one echo_client is answered. */
static int other_side(void *arg)
{
	struct other *o = arg;
	ipck_chan *c, *s;
	char buf[8];
	if (become_nobody() < 0)
		return 2;
	if (!o->listen) {   /* the listener refuses us: -EACCES now, or the end */
		int r = ipck_open(&c, o->url, 0);
		if (r < 0)
			return r == -EACCES ? 0 : 3;
		ipck_send(c, "hi", 2, 1000);
		r = (int)ipck_recv(c, buf, sizeof(buf), 5000);
		ipck_close(c);
		return r == -EPIPE || r == -ECONNRESET ? 0 : 4;
	}
	int r = ipck_open(&c, o->url, IPCK_LISTEN);
	if (write(o->ready, r < 0 ? "e" : "y", 1) != 1 || r < 0)
		return 5;
	for (int done = 0; !done && ipck_accept(c, &s, 5000) == 0;) {
		done = ipck_recv(s, buf, sizeof(buf), 5000) == 2;
		if (done)
			ipck_send(s, "ok", 2, 5000);
		ipck_close(s);
	}
	ipck_close(c);
	return 0;
}

static pid_t spawn_other(struct other *o)
{
	int p[2];
	char b = 0;
	REQUIRE(pipe(p) == 0);
	o->ready = p[1];
	pid_t pid = spawn(other_side, o);
	close(p[1]);
	if (o->listen)
		CHECK(read(p[0], &b, 1) == 1 && b == 'y');
	close(p[0]);
	return pid;
}

/* Our listener refuses nobody, unless peer_uid names it. */
static void listener_refuses(const char *url, const char *q)
{
	ipck_chan *l, *s;
	struct other o = {.url = fmt("%s?peer_uid=0", url)};
	CHECK_OK(ipck_open(&l, fmt("%s%s", url, q), IPCK_LISTEN));
	pid_t pid = spawn_other(&o);
	CHECK_EQ(ipck_accept(l, &s, 5000), -EACCES);
	CHECK_EQ(reap(pid), 0);
	CHECK_OK(ipck_close(l));

	CHECK_OK(ipck_open(&l, fmt("%s%s%speer_uid=%d", url, q, *q ? "&" : "?", NOBODY),
			   IPCK_LISTEN));
	o.url = fmt("%s?peer_uid=0", url);
	o.listen = false;
	pid = fork();
	if (pid == 0)
		_exit(become_nobody() < 0 ? 2 : echo_client_as(o.url, getppid()));
	CHECK_OK(ipck_accept(l, &s, 5000));
	if (s) {
		CHECK_EQ(ipck_peer_pid(s), pid);
		echo_answer(s);
	}
	CHECK_EQ(reap(pid), 0);
	CHECK_OK(ipck_close(l));
}

/* We refuse a listener of nobody's, unless peer_uid names it. */
static void client_refuses(const char *url)
{
	ipck_chan *c = NULL;
	struct other o = {.url = fmt("%s?peer_uid=0&mode=0666", url), .listen = true};
	if (!strncmp(url, "abstract:", 9))
		o.url = fmt("%s?peer_uid=0", url);
	pid_t pid = spawn_other(&o);
	CHECK_EQ(ipck_open(&c, url, 0), -EACCES);
	CHECK(c == NULL);
	const char *ok = fmt("%s?peer_uid=%d", url, NOBODY);
	CHECK_EQ(echo_client_as(ok, pid), 0);
	CHECK_EQ(reap(pid), 0);
}

static void other_user(const char *scheme)
{
	bool abs = !strcmp(scheme, "abstract");
	const char *url = test_url(scheme);
	listener_refuses(url, abs ? "" : "?mode=0666");
	const char *dir = fmt("%s/nobody-%s", test_dir(), scheme);
	if (!abs) {   /* a directory where nobody may make its socket */
		CHECK_SYS(mkdir(dir, 0755));
		CHECK_SYS(chown(dir, NOBODY, NOBODY));
		url = fmt("%s:%s/s", scheme, dir);
	}
	client_refuses(abs ? test_url(scheme) : url);
}

int main(void)
{
	const char *paths[] = {"unix", "unix-seqpacket", "unix-dgram"};
	for (size_t i = 0; i < 3; i++) {
		fprintf(stderr, "== %s\n", paths[i]);
		stale_replaced(test_url(paths[i]));
		live_not_stolen(test_url(paths[i]));
		file_kept(test_url(paths[i]));
		symlink_refused(test_url(paths[i]), paths[i]);
		modes(test_url(paths[i]));
		close_rules(test_url(paths[i]));
	}
	if (geteuid() != 0) {
		fprintf(stderr, "not root: the other-user checks are skipped\n");
		if (check_failures)
			check_exit();
		check_skip("peer_uid checks need root (setresuid)");
	}
	CHECK_SYS(chmod(test_dir(), 0711));   /* nobody may reach the sockets */
	const char *all[] = {"unix", "unix-seqpacket", "unix-dgram", "abstract"};
	for (size_t i = 0; i < 4; i++) {
		fprintf(stderr, "== %s, another user\n", all[i]);
		other_user(all[i]);
	}
	check_exit();
}
