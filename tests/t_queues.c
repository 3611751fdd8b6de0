/*
 * t_queues.c - the FIFO and message-queue schemes (fifo, svmsg, pmsg) beyond
 * the common contract of t_conform: two clients on one listener at once,
 * squatted names (another user's objects, symlinks), the raw modes against
 * plain system calls, the kernel's limits, unlink, options.
 */
#include "check.h"
#include "ipckit.h"
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOBODY 65534

static const char *const schemes[] = {"fifo", "svmsg", "pmsg"};
static const char *url;   /* what the children connect to */

/* fmt() names live in a ring of 16: keep the long-lived ones here. */
static const char *keep(const char *s)
{
	static char kept[64][512];
	static unsigned n;
	REQUIRE(n < 64 && strlen(s) < sizeof(kept[0]));
	return strcpy(kept[n++], s);
}

static long long sysctl_ll(const char *path)
{
	FILE *f = fopen(path, "r");
	long long v = -1;
	if (!f || fscanf(f, "%lld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

/* ---- a client that echoes through the listener, and its server ----------------- */

static int ping_client(void *arg)
{
	(void)arg;
	ipck_chan *c;
	char back[16];
	int r = ipck_open(&c, url, 0);
	CHECK_OK(r);
	if (r < 0)
		return 1;
	CHECK_EQ(ipck_send(c, "ping", 4, 5000), 4);
	CHECK_EQ(ipck_recv(c, back, sizeof(back), 5000), 4);
	CHECK(!memcmp(back, "ping", 4));
	CHECK_OK(ipck_close(c));
	return check_failures ? 1 : 0;
}

/* ping_client once a byte came through the pipe arg. */
static int gated_ping_client(void *arg)
{
	int *go = arg;
	char b;
	close(go[1]);
	return read(go[0], &b, 1) == 1 ? ping_client(NULL) : 2;
}

/* Accept one ping_client, echo once, see it leave. */
static void serve_ping(ipck_chan *l, pid_t pid)
{
	ipck_chan *s;
	char buf[16];
	CHECK_OK(ipck_accept(l, &s, 5000));
	if (!s)
		kill(pid, SIGKILL);
	if (s) {
		CHECK_EQ(ipck_peer_pid(s), pid);
		ssize_t n = ipck_recv(s, buf, sizeof(buf), 5000);
		CHECK_EQ(n, 4);
		CHECK_EQ(ipck_send(s, buf, n > 0 ? (size_t)n : 0, 5000), 4);
		n = ipck_recv(s, buf, sizeof(buf), 5000);
		CHECK(n == -EPIPE || n == -ECONNRESET);
		CHECK_OK(ipck_close(s));
	}
	CHECK_EQ(reap(pid), 0);
}

static void ping_through(const char *listen_url, const char *client_url)
{
	ipck_chan *l;
	CHECK_OK(ipck_open(&l, listen_url, IPCK_LISTEN));
	if (!l)
		return;
	url = client_url;
	serve_ping(l, spawn(ping_client, NULL));
	CHECK_OK(ipck_close(l));
}

/* ---- two clients on one listener at the same time --------------------------------- */

static int echo_client(void *arg)
{
	int id = (int)(intptr_t)arg;
	ipck_chan *c;
	char msg[64], back[64];
	int r = ipck_open(&c, url, 0);
	CHECK_OK(r);
	if (r < 0)
		return 1;
	for (int i = 0; i < 50 && !check_failures; i++) {
		int n = snprintf(msg, sizeof(msg), "%d %d client %d msg %d", (int)getpid(), id, id, i);
		CHECK_EQ(ipck_send(c, msg, (size_t)n, 5000), n);
		CHECK_EQ(ipck_recv(c, back, sizeof(back), 5000), n);
		CHECK(!memcmp(msg, back, (size_t)n));
	}
	CHECK_OK(ipck_close(c));
	return check_failures ? 1 : 0;
}

/* Echo on both channels through their pollfds until both clients are gone. */
static void serve_two(ipck_chan *s[2])
{
	struct pollfd pf[2] = {{ipck_pollfd(s[0]), POLLIN, 0}, {ipck_pollfd(s[1]), POLLIN, 0}};
	int live = 2, echoed[2] = {0, 0};
	char buf[64];
	CHECK(pf[0].fd >= 0 && pf[1].fd >= 0 && pf[0].fd != pf[1].fd);
	while (live > 0) {
		int r = poll(pf, 2, 5000);
		CHECK(r > 0);
		if (r <= 0)
			break;
		for (int k = 0; k < 2; k++) {
			if (pf[k].fd < 0 || !pf[k].revents)
				continue;
			ssize_t n = ipck_recv(s[k], buf, sizeof(buf) - 1, 0);
			if (n == -EPIPE || n == -ECONNRESET) {
				pf[k].fd = -1;
				live--;
				continue;
			}
			if (n == -ETIMEDOUT)
				continue;   /* the peer's exit polls before its last word is through */
			CHECK_OK(n);
			if (n < 0)
				return;
			buf[n] = '\0';
			CHECK_EQ(atoi(buf), ipck_peer_pid(s[k]));   /* no crossed wires */
			CHECK_EQ(ipck_send(s[k], buf, (size_t)n, 5000), n);
			echoed[k]++;
		}
	}
	CHECK_EQ(echoed[0], 50);
	CHECK_EQ(echoed[1], 50);
}

static void two_clients(const char *scheme)
{
	ipck_chan *l, *s[2] = {NULL, NULL};
	url = keep(test_url(scheme));
	if (!strcmp(scheme, "pmsg"))   /* RLIMIT_MSGQUEUE is shared by all of root's tests */
		url = keep(fmt("%s?maxmsg=8&msgsize=256", url));
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	if (!l)
		return;
	pid_t pid[2] = {spawn(echo_client, (void *)1), spawn(echo_client, (void *)2)};
	CHECK_OK(ipck_accept(l, &s[0], 5000));
	CHECK_OK(ipck_accept(l, &s[1], 5000));
	if (s[0] && s[1]) {
		pid_t a = ipck_peer_pid(s[0]), b = ipck_peer_pid(s[1]);
		CHECK((a == pid[0] && b == pid[1]) || (a == pid[1] && b == pid[0]));
		serve_two(s);
	} else {
		kill(pid[0], SIGKILL);   /* do not wait for them to give up */
		kill(pid[1], SIGKILL);
	}
	CHECK_EQ(reap(pid[0]), 0);
	CHECK_EQ(reap(pid[1]), 0);
	CHECK_OK(ipck_close(s[0]));
	CHECK_OK(ipck_close(s[1]));
	CHECK_OK(ipck_close(l));
	fprintf(stderr, "two clients at once: %s ok\n", scheme);
}

/* ---- squatters -------------------------------------------------------------------- */

/* Run fn(arg) in a child as user nobody with umask 0; its exit status. */
static int as_nobody(int (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t p = fork();
	if (p == 0) {
		umask(0);
		if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
			_exit(2);
		_exit(fn(arg));
	}
	return reap(p);
}

static int squat_fifo(void *path) { return mkfifo(path, 0666) ? 1 : 0; }
static int squat_mq(void *name)
{
	mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0666, NULL);
	return q < 0 ? 1 : mq_close(q) ? 1 : 0;
}
static int squat_msg(void *key) { return msgget((key_t)(intptr_t)key, IPC_CREAT | IPC_EXCL | 0666) < 0; }

/* The squatted object is still there, still another user's, still 0666. */
static void check_squat_fifo(const char *path)
{
	struct stat st;
	CHECK_SYS(lstat(path, &st));
	CHECK(S_ISFIFO(st.st_mode));
	CHECK_EQ(st.st_uid, NOBODY);
	CHECK_EQ(st.st_mode & 07777, 0666);
}

static void check_squat_mq(const char *name)
{
	struct stat st;
	mqd_t q = mq_open(name, O_RDONLY);
	CHECK_SYS(q);
	CHECK_SYS(fstat(q, &st));
	CHECK_EQ(st.st_uid, NOBODY);
	CHECK_EQ(st.st_mode & 07777, 0666);
	struct mq_attr a;
	CHECK_SYS(mq_getattr(q, &a));
	CHECK_EQ(a.mq_curmsgs, 0);   /* nothing was sent into it */
	mq_close(q);
}

/* Another user owns the well-known object: listen and connect fail, it stays as it was. */
static void squat_well_known(void)
{
	const char *dir = fmt("%s/sq", test_dir());
	const char *fpath = fmt("%s/wk", dir), *mname = fmt("/%s-sq", test_tag());
	long key = test_key(200);
	ipck_chan *c = NULL;

	REQUIRE(as_nobody(squat_fifo, (void *)fpath) == 0);
	REQUIRE(as_nobody(squat_mq, (void *)mname) == 0);
	REQUIRE(as_nobody(squat_msg, (void *)(intptr_t)key) == 0);
	const char *u[3] = {fmt("fifo:%s", fpath), fmt("svmsg:0x%lx", key), fmt("pmsg:%s", mname)};
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(ipck_open(&c, u[i], IPCK_LISTEN), -EADDRINUSE);
		CHECK_EQ(ipck_open(&c, u[i], 0), -EACCES);
		CHECK(c == NULL);
	}
	/* peer_uid= lets the other user in: nobody listens there, though. */
	CHECK_EQ(ipck_open(&c, fmt("%s?peer_uid=%d", u[0], NOBODY), 0), -ECONNREFUSED);
	CHECK_EQ(ipck_open(&c, fmt("%s?peer_uid=%d&timeout=100", u[1], NOBODY), 0), -ETIMEDOUT);
	CHECK_EQ(ipck_open(&c, fmt("%s?peer_uid=%d&timeout=100", u[2], NOBODY), 0), -ETIMEDOUT);
	check_squat_fifo(fpath);
	struct msqid_ds ds;
	int qid = msgget((key_t)key, 0);
	CHECK_SYS(qid);
	CHECK_SYS(msgctl(qid, IPC_STAT, &ds));
	CHECK_EQ(ds.msg_perm.uid, NOBODY);
	CHECK_EQ(ds.msg_perm.mode & 0777, 0666);
	CHECK_EQ(ds.msg_qnum, 1);   /* the hello of the peer_uid= attempt, nothing else */
	/* pmsg: the peer_uid= attempt left its hello, the squat is intact otherwise */
	mqd_t q = mq_open(mname, O_RDONLY | O_NONBLOCK);
	char hello[8192];
	CHECK(mq_receive(q, hello, sizeof(hello), NULL) > 0);
	mq_close(q);
	check_squat_mq(mname);
	CHECK_SYS(unlink(fpath));
	CHECK_SYS(mq_unlink(mname));
	CHECK_SYS(msgctl(qid, IPC_RMID, NULL));
}

/* A symlink at the path is never followed: not by listen, not by connect. */
static void symlink_well_known(void)
{
	const char *path = fmt("%s/link", test_dir()), *target = fmt("%s/target", test_dir());
	const char *real = fmt("fifo:%s/real", test_dir());
	ipck_chan *c = NULL, *l;
	struct stat st;
	CHECK_SYS(symlink(target, path));
	CHECK_EQ(ipck_open(&c, fmt("fifo:%s", path), IPCK_LISTEN), -EADDRINUSE);
	CHECK_EQ(lstat(target, &st), -1);   /* not made through the link */
	CHECK_EQ(ipck_open(&c, fmt("fifo:%s", path), 0), -ELOOP);
	CHECK_EQ(ipck_open(&c, fmt("fifo:%s?raw=1", path), 0), -ELOOP);
	/* a link to a live listener's FIFO is refused too */
	CHECK_OK(ipck_open(&l, real, IPCK_LISTEN));
	CHECK_SYS(unlink(path));
	CHECK_SYS(symlink(real + 5, path));
	CHECK_EQ(ipck_open(&c, fmt("fifo:%s?timeout=100", path), 0), -ELOOP);
	CHECK_OK(ipck_close(l));
	CHECK_EQ(lstat(real + 5, &st), -1);   /* the listener removed its FIFO */
	CHECK_SYS(unlink(path));
	/* ipck_unlink leaves anything but a FIFO alone */
	int fd = open(target, O_CREAT | O_WRONLY, 0600);
	CHECK_SYS(fd);
	close(fd);
	CHECK_EQ(ipck_unlink(fmt("fifo:%s", target)), -EEXIST);
	CHECK_SYS(unlink(target));
}

struct conn_squat {
	const char *base;     /* fifo path or pmsg name */
	bool mq, link;
	int go[2];            /* the client waits for a byte here */
};

static int squat_client(void *arg)
{
	struct conn_squat *q = arg;
	char b;
	ipck_chan *c = NULL;
	close(q->go[1]);
	if (read(q->go[0], &b, 1) != 1)
		return 2;
	CHECK_EQ(ipck_open(&c, url, 0), -EADDRINUSE);
	return check_failures ? 1 : 0;
}

/* Squat (as nobody, or with a symlink) the names the client's connections 0..3 get. */
static void squat_names(struct conn_squat *q, pid_t pid, bool undo)
{
	for (int n = 0; n < 4; n++) {
		const char *name = fmt("%s.%d.%d.%s", q->base, (int)pid, n, q->link ? "s2c" : "c2s");
		if (undo && q->mq) {
			check_squat_mq(name);
			CHECK_SYS(mq_unlink(name));
		} else if (undo) {
			if (!q->link)
				check_squat_fifo(name);
			CHECK_SYS(unlink(name));
		} else if (q->link) {
			CHECK_SYS(symlink(fmt("%s/target", test_dir()), name));
		} else {
			CHECK_EQ(as_nobody(q->mq ? squat_mq : squat_fifo, (void *)name), 0);
		}
	}
}

/* Another user (or a symlink) holds a connection's name: connect fails, nothing is touched. */
static void squat_connection(const char *scheme, const char *base, bool link)
{
	struct conn_squat q = {.base = base, .mq = !strcmp(scheme, "pmsg"), .link = link};
	ipck_chan *l;
	struct stat st;
	url = keep(fmt("%s:%s", scheme, base));
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	CHECK_SYS(pipe(q.go));
	pid_t pid = spawn(squat_client, &q);
	close(q.go[0]);
	squat_names(&q, pid, false);
	CHECK_EQ(write(q.go[1], "g", 1), 1);
	close(q.go[1]);
	CHECK_EQ(reap(pid), 0);
	const char *other = fmt("%s.%d.0.%s", base, (int)pid, link ? "c2s" : "s2c");
	if (q.mq)
		CHECK(mq_open(other, O_RDONLY) == -1 && errno == ENOENT);
	else
		CHECK(lstat(other, &st) == -1 && errno == ENOENT);
	CHECK(lstat(fmt("%s/target", test_dir()), &st) == -1);
	squat_names(&q, pid, true);
	CHECK_OK(ipck_close(l));
}

static void squatters(void)
{
	const char *dir = keep(fmt("%s/sq", test_dir()));
	CHECK_SYS(chmod(test_dir(), 0711));
	CHECK_SYS(mkdir(dir, 0777));
	CHECK_SYS(chmod(dir, 01777));
	symlink_well_known();
	squat_connection("fifo", keep(fmt("%s/link", dir)), true);
	if (geteuid() != 0) {
		fprintf(stderr, "not root: the other-user squats are skipped\n");
		return;
	}
	squat_well_known();
	squat_connection("fifo", keep(fmt("%s/conn", dir)), false);
	squat_connection("pmsg", keep(fmt("/%s-sqc", test_tag())), false);
}

/* ---- raw modes against plain system calls ----------------------------------------- */

static int raw_fifo_writer(void *path)
{
	int fd = open(path, O_WRONLY);
	return fd < 0 || write(fd, "hi\n", 3) != 3 || close(fd) ? 1 : 0;
}

static void raw_fifo(void)
{
	const char *path = fmt("%s/rawfifo", test_dir());
	ipck_chan *l, *s, *c;
	char buf[16];
	CHECK_OK(ipck_open(&l, fmt("fifo:%s?raw=1", path), IPCK_LISTEN));
	if (!l)
		return;
	int pfd = ipck_pollfd(l);
	for (int i = 0; i < 2; i++) {   /* one writer after the other */
		pid_t pid = spawn(raw_fifo_writer, (void *)path);   /* echo hi > path */
		CHECK_OK(ipck_accept(l, &s, 5000));
		if (s) {
			CHECK_EQ(ipck_recv(s, buf, sizeof(buf), 5000), 3);
			CHECK(!memcmp(buf, "hi\n", 3));
			CHECK_EQ(ipck_recv(s, buf, sizeof(buf), 5000), -EPIPE);   /* the writer closed */
			CHECK_EQ(ipck_send(s, "x", 1, 0), -ENOTSUP);               /* a read end */
			CHECK_OK(ipck_close(s));
		}
		CHECK_EQ(reap(pid), 0);
		CHECK_EQ(ipck_pollfd(l), pfd);
	}
	CHECK_EQ(ipck_accept(l, &s, 50), -ETIMEDOUT);   /* no writer now */
	CHECK_OK(ipck_close(l));

	/* The library's raw writer into a FIFO made and read with plain calls. */
	CHECK_SYS(mkfifo(path, 0600));
	int rfd = open(path, O_RDONLY | O_NONBLOCK);
	CHECK_SYS(rfd);
	CHECK_OK(ipck_open(&c, fmt("fifo:%s?raw=1", path), 0));
	CHECK_EQ(ipck_send(c, "xyz", 3, 1000), 3);
	CHECK_EQ(ipck_recv(c, buf, sizeof(buf), 0), -ENOTSUP);   /* a write end */
	CHECK_EQ(read(rfd, buf, sizeof(buf)), 3);
	CHECK(!memcmp(buf, "xyz", 3));
	CHECK_OK(ipck_close(c));
	close(rfd);
	CHECK_SYS(unlink(path));
}

static int raw_mq_sender(void *name)
{
	mqd_t q = mq_open(name, O_WRONLY);
	return q < 0 || mq_send(q, "hello", 5, 3) || mq_close(q) ? 1 : 0;
}

static void raw_pmsg(void)
{
	const char *name = fmt("/%s-raw", test_tag());
	ipck_chan *l, *s;
	char buf[8192];
	unsigned prio;
	CHECK_OK(ipck_open(&l, fmt("pmsg:%s?raw=1&msgsize=100&maxmsg=5&priority=7", name),
			   IPCK_LISTEN));
	if (!l)
		return;
	CHECK_EQ(ipck_max_msg(l), 100);
	pid_t pid = spawn(raw_mq_sender, (void *)name);
	CHECK_OK(ipck_accept(l, &s, 5000));
	if (s) {
		CHECK_EQ(ipck_recv(s, buf, sizeof(buf), 5000), 5);
		CHECK(!memcmp(buf, "hello", 5));
		CHECK_EQ(ipck_send(s, "back", 4, 1000), 4);
		mqd_t q = mq_open(name, O_RDONLY | O_NONBLOCK);
		CHECK_SYS(q);
		CHECK_EQ(mq_receive(q, buf, sizeof(buf), &prio), 4);
		CHECK(!memcmp(buf, "back", 4));
		CHECK_EQ(prio, 7);
		mq_close(q);
		CHECK_OK(ipck_close(s));
	}
	CHECK_EQ(reap(pid), 0);
	CHECK_OK(ipck_close(l));
	CHECK(mq_open(name, O_RDONLY) == -1 && errno == ENOENT);
}

struct rawmsg { long mtype; char text[64]; };

static int raw_msg_sender(void *key)
{
	struct rawmsg m = {1, "hey"};
	int q = msgget((key_t)(intptr_t)key, 0);
	return q < 0 || msgsnd(q, &m, 3, 0) ? 1 : 0;
}

static void raw_svmsg(void)
{
	long key = test_key(201);
	ipck_chan *l, *s;
	char buf[64];
	struct rawmsg m;
	CHECK_OK(ipck_open(&l, fmt("svmsg:0x%lx?raw=1", key), IPCK_LISTEN));
	if (!l)
		return;
	pid_t pid = spawn(raw_msg_sender, (void *)(intptr_t)key);
	CHECK_OK(ipck_accept(l, &s, 5000));
	if (s) {
		CHECK_EQ(ipck_recv(s, buf, sizeof(buf), 5000), 3);
		CHECK(!memcmp(buf, "hey", 3));
		CHECK_EQ(ipck_send(s, "back", 4, 1000), 4);
		CHECK_EQ(msgrcv(msgget((key_t)key, 0), &m, sizeof(m.text), 1, IPC_NOWAIT), 4);
		CHECK(!memcmp(m.text, "back", 4));
		CHECK_EQ(ipck_recv(s, buf, sizeof(buf), 50), -ETIMEDOUT);
		CHECK_OK(ipck_close(s));
	}
	CHECK_EQ(reap(pid), 0);
	CHECK_OK(ipck_close(l));
	CHECK(msgget((key_t)key, 0) == -1 && errno == ENOENT);
}

/* ---- limits ------------------------------------------------------------------------- */

struct big { size_t max; };

static int big_client(void *arg)
{
	struct big *b = arg;
	ipck_chan *c;
	int r = ipck_open(&c, url, 0);
	CHECK_OK(r);
	if (r < 0)
		return 1;
	unsigned char *buf = calloc(1, b->max + 1);
	CHECK_EQ(ipck_max_msg(c), b->max);
	CHECK_EQ(ipck_send(c, buf, b->max + 1, 1000), -EMSGSIZE);   /* up front */
	fill_pattern(buf, b->max, 3);
	CHECK_EQ(ipck_send(c, buf, b->max, 5000), b->max);
	fill_pattern(buf, 100, 4);
	CHECK_EQ(ipck_send(c, buf, 100, 5000), 100);
	CHECK_EQ(ipck_recv(c, buf, 1, 5000), -EPIPE);
	CHECK_OK(ipck_close(c));
	free(buf);
	return check_failures ? 1 : 0;
}

/* The largest message goes through; a too-small buffer keeps the next one, and polls so. */
static void biggest(const char *lurl, size_t max)
{
	struct big b = {max};
	ipck_chan *l, *s;
	unsigned char *buf = malloc(max);
	url = keep(lurl);
	CHECK_OK(ipck_open(&l, lurl, IPCK_LISTEN));
	if (!l)
		return;
	CHECK_EQ(ipck_max_msg(l), max);
	pid_t pid = spawn(big_client, &b);
	CHECK_OK(ipck_accept(l, &s, 5000));
	if (s) {
		CHECK_EQ(ipck_recv(s, buf, max, 5000), max);
		CHECK(check_pattern(buf, max, 3));
		CHECK_EQ(ipck_recv(s, buf, 10, 5000), -EMSGSIZE);
		CHECK_EQ(ipck_next_size(s), 100);
		struct pollfd p = {ipck_pollfd(s), POLLIN, 0};
		CHECK_EQ(poll(&p, 1, 0), 1);   /* held in the channel: readable */
		CHECK_EQ(ipck_recv(s, buf, 100, 0), 100);
		CHECK(check_pattern(buf, 100, 4));
		CHECK_OK(ipck_close(s));
	}
	CHECK_EQ(reap(pid), 0);
	CHECK_OK(ipck_close(l));
	free(buf);
}

/* Under a small RLIMIT_MSGQUEUE, the second queue does not fit: -EDQUOT, not EMFILE. */
static int quota_child(void *arg)
{
	struct rlimit rl = {100000, 100000};
	ipck_chan *a = NULL, *b = NULL;
	(void)arg;
	CHECK_SYS(setrlimit(RLIMIT_MSGQUEUE, &rl));
	int ra = ipck_open(&a, fmt("pmsg:/%s-qa?raw=1", test_tag()), IPCK_LISTEN);
	int rb = ra ? ra : ipck_open(&b, fmt("pmsg:/%s-qb?raw=1", test_tag()), IPCK_LISTEN);
	CHECK_EQ(ra ? ra : rb, -EDQUOT);   /* other users of root's queues may take the first */
	CHECK_OK(ipck_close(a));
	CHECK_OK(ipck_close(b));
	return check_failures ? 1 : 0;
}

static void limits(void)
{
	long long szmax = sysctl_ll("/proc/sys/fs/mqueue/msgsize_max");
	long long nmax = sysctl_ll("/proc/sys/fs/mqueue/msg_max");
	long long msgmax = sysctl_ll("/proc/sys/kernel/msgmax");
	long long msgmnb = sysctl_ll("/proc/sys/kernel/msgmnb");
	const char *name = fmt("/%s-lim", test_tag());
	ipck_chan *c = NULL;
	REQUIRE(szmax > 0 && nmax > 0 && msgmax > 0 && msgmnb > 0);

	CHECK_EQ(ipck_open(&c, fmt("pmsg:%s?msgsize=%lld", name, szmax + 1), IPCK_LISTEN), -EINVAL);
	CHECK_EQ(ipck_open(&c, fmt("pmsg:%s?msgsize=%lld", name, szmax + 1), 0), -EINVAL);
	CHECK_EQ(ipck_open(&c, fmt("pmsg:%s?maxmsg=%lld", name, nmax + 1), IPCK_LISTEN), -EINVAL);
	CHECK_EQ(ipck_open(&c, fmt("pmsg:%s?msgsize=24", name), IPCK_LISTEN), -EINVAL);
	CHECK(mq_open(name, O_RDONLY) == -1 && errno == ENOENT);   /* nothing made */
	CHECK_EQ(reap(spawn(quota_child, NULL)), 0);

	biggest(fmt("pmsg:%s?msgsize=1024&maxmsg=4", name), 1023);
	biggest(test_url("svmsg"), (size_t)(msgmax < msgmnb ? msgmax : msgmnb) - 1);
	biggest(test_url("fifo"), 16u << 20);
}

/* ---- unlink, timeouts, options, addresses ----------------------------------------------- */

static int crash_listener(void *u)
{
	ipck_chan *l;
	return ipck_open(&l, u, IPCK_LISTEN) ? 1 : 0;   /* exits without ipck_close */
}

static void unlink_and_timeouts(const char *scheme)
{
	const char *u = keep(test_url(scheme));
	ipck_chan *l, *c = NULL;
	CHECK_EQ(ipck_unlink(u), -ENOENT);
	CHECK_EQ(ipck_open(&c, u, 0), -ECONNREFUSED);
	CHECK_EQ(reap(spawn(crash_listener, (void *)u)), 0);
	CHECK_EQ(ipck_open(&l, u, IPCK_LISTEN), -EADDRINUSE);   /* left behind */
	CHECK_OK(ipck_unlink(u));
	CHECK_OK(ipck_open(&l, u, IPCK_LISTEN));
	if (!l)
		return;
	int go[2];
	CHECK_SYS(pipe(go));
	url = u;
	pid_t pid = spawn(gated_ping_client, go);   /* before any thread of ours exists */
	close(go[0]);
	long long t0 = now_ms();
	CHECK_EQ(ipck_accept(l, &c, 0), -ETIMEDOUT);
	CHECK(now_ms() - t0 < 100);
	t0 = now_ms();
	CHECK_EQ(ipck_accept(l, &c, 50), -ETIMEDOUT);
	long long dt = now_ms() - t0;
	CHECK(dt >= 45 && dt < 1000);
	struct pollfd p = {ipck_pollfd(l), POLLIN, 0};
	CHECK(p.fd >= 0);
	CHECK_EQ(poll(&p, 1, 0), 0);   /* nobody knocks yet */
	CHECK_EQ(write(go[1], "g", 1), 1);
	close(go[1]);
	CHECK_EQ(poll(&p, 1, 5000), 1);   /* a hello waits: accept will not block */
	serve_ping(l, pid);
	CHECK_OK(ipck_close(l));
	CHECK_EQ(ipck_unlink(u), -ENOENT);   /* close removed it */
}

static void modes(void)
{
	ipck_chan *l;
	struct stat st;
	struct msqid_ds ds;
	const char *f = fmt("%s/mode", test_dir()), *m = fmt("/%s-mode", test_tag());
	long key = test_key(202);
	CHECK_OK(ipck_open(&l, fmt("fifo:%s?mode=0640", f), IPCK_LISTEN));
	CHECK_SYS(lstat(f, &st));
	CHECK_EQ(st.st_mode & 07777, 0640);
	CHECK_OK(ipck_close(l));
	CHECK_OK(ipck_open(&l, fmt("pmsg:%s?mode=0640", m), IPCK_LISTEN));
	mqd_t q = mq_open(m, O_RDONLY);
	CHECK_SYS(fstat(q, &st));
	CHECK_EQ(st.st_mode & 07777, 0640);
	mq_close(q);
	CHECK_OK(ipck_close(l));
	CHECK_OK(ipck_open(&l, fmt("svmsg:0x%lx?mode=0640", key), IPCK_LISTEN));
	CHECK_SYS(msgctl(msgget((key_t)key, 0), IPC_STAT, &ds));
	CHECK_EQ(ds.msg_perm.mode & 0777, 0640);
	CHECK_OK(ipck_close(l));
}

/* svmsg:id=N reaches a listener's queue by id, svmsg:/path by ftok. */
static void svmsg_addresses(void)
{
	long key = test_key(203);
	const char *lu = fmt("svmsg:0x%lx", key), *file = fmt("%s/ftok", test_dir());
	ipck_chan *l, *c = NULL;
	CHECK_OK(ipck_open(&l, lu, IPCK_LISTEN));
	int id = msgget((key_t)key, 0);
	CHECK_SYS(id);
	url = keep(fmt("svmsg:id=%d", id));
	serve_ping(l, spawn(ping_client, NULL));
	CHECK_EQ(ipck_open(&c, url, IPCK_LISTEN), -EINVAL);   /* an id is for connecting */
	CHECK_OK(ipck_close(l));
	CHECK_EQ(ipck_open(&c, url, 0), -ECONNREFUSED);        /* the id is gone */

	int fd = open(file, O_CREAT | O_WRONLY, 0600);
	CHECK_SYS(fd);
	close(fd);
	ping_through(fmt("svmsg:%s", file), fmt("svmsg:%s", file));
	CHECK(msgget(ftok(file, 'i'), 0) == -1 && errno == ENOENT);
	CHECK_EQ(ipck_open(&c, fmt("svmsg:%s/none", test_dir()), 0), -ENOENT);
}

int main(void)
{
	squatters();
	for (size_t i = 0; i < 3; i++)
		two_clients(schemes[i]);
	raw_fifo();
	raw_pmsg();
	raw_svmsg();
	limits();
	for (size_t i = 0; i < 3; i++)
		unlink_and_timeouts(schemes[i]);
	modes();
	svmsg_addresses();
	check_exit();
}
