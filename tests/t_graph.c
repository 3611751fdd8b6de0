/*
 * t_graph.c - ipckit ls --graph draws who talks to whom.  A known topology
 * made with raw system calls, each end in its own process: a pipe from this
 * process to a child, a socket pair between two children, a System V queue
 * one child sent into and another received from, a System V semaphore set a
 * child operated on, a Unix socket server with
 * a connected client, the two FIFOs of an ipckit fifo: channel between two
 * children, a FIFO whose name needs escaping in DOT and two FIFOs of one
 * name (the first unlinked while open).  The exact nodes
 * and edges must be in the DOT (the machine's other processes are there
 * too), the KIND and --user filters must leave out what they filter, the
 * same state must give the same lines, and --graph=svg must give SVG when
 * dot(1) is installed and say how to get it when it is not.
 */
#include "check.h"
#include "lsfind.h"
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int ready[2];
static int keep[2] = {-1, -1};   /* what the next child keeps */
static pid_t chan_client;        /* the channel's connecting side */
static int queue_id, sem_id;

static char *xprintf(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *f, ...)
{
	va_list ap;
	char *s;
	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

/* In a child: drop every descriptor fork copied but the kept ones. */
static void close_others(void)
{
	for (int fd = 3; fd < 1024; fd++)
		if (fd != keep[0] && fd != keep[1] && fd != ready[1])
			close(fd);
}

/* Tell the parent the child is set up, then wait for SIGTERM. */
static int hold(void)
{
	if (write(ready[1], "x", 1) != 1)
		return 1;
	close(ready[1]);
	for (;;)
		pause();
}

static pid_t start(int (*fn)(void *), void *arg, int k0, int k1)
{
	keep[0] = k0;
	keep[1] = k1;
	pid_t p = spawn(fn, arg);
	REQUIRE(p > 0);
	char c;
	REQUIRE(read(ready[0], &c, 1) == 1);
	return p;
}

static void stop(pid_t p)
{
	CHECK_SYS(kill(p, SIGTERM));
	CHECK_EQ(reap(p), 128 + SIGTERM);
}

/* ---- the processes ------------------------------------------------------ */

static int pipe_reader(void *arg)
{
	(void)arg;
	close_others();
	if (write(ready[1], "x", 1) != 1)
		return 1;
	close(ready[1]);
	char c;
	while (read(keep[0], &c, 1) > 0)   /* until the writer closes */
		;
	return 0;
}

static int holder(void *arg)
{
	(void)arg;
	close_others();
	return hold();
}

static int q_sender(void *arg)
{
	(void)arg;
	close_others();
	struct { long type; char text[8]; } m = {.type = 1, .text = "hi"};
	if (msgsnd(queue_id, &m, sizeof(m.text), 0) < 0)
		return 1;
	return hold();
}

static int q_receiver(void *arg)
{
	(void)arg;
	close_others();
	struct { long type; char text[8]; } m;
	if (msgrcv(queue_id, &m, sizeof(m.text), 0, 0) < 0)
		return 1;
	return hold();
}

static int sem_user(void *arg)
{
	(void)arg;
	close_others();
	struct sembuf op = {.sem_num = 1, .sem_op = 1};
	return semop(sem_id, &op, 1) < 0 ? 1 : hold();
}

static int unix_sock(const char *path, bool server)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (server)
		return bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4) ? -1 : fd;
	return connect(fd, (struct sockaddr *)&a, sizeof(a)) ? -1 : fd;
}

static int unix_server(void *arg)
{
	close_others();
	int l = unix_sock(arg, true);
	if (l < 0 || write(ready[1], "l", 1) != 1 || accept(l, NULL, NULL) < 0)
		return 1;
	return hold();
}

static int unix_client(void *arg)
{
	close_others();
	return unix_sock(arg, false) < 0 ? 1 : hold();
}

/* fifo.c's names: the connecting side makes "<base>.<pid>.<n>.c2s/.s2c". */
static const char *chan_fifo(const char *base, pid_t pid, int dir)
{
	return fmt("%s.%d.5.%s", base, (int)pid, dir ? "s2c" : "c2s");
}

static int chan_connect(void *arg)
{
	close_others();
	for (int i = 0; i < 2; i++)
		if (mkfifo(chan_fifo(arg, getpid(), i), 0600) < 0 ||
		    open(chan_fifo(arg, getpid(), i), O_RDWR) < 0)
			return 1;
	return hold();
}

static int chan_listen(void *arg)
{
	close_others();
	for (int i = 0; i < 2; i++)   /* the rendezvous: open both, unlink them */
		if (open(chan_fifo(arg, chan_client, i), O_RDWR) < 0 ||
		    unlink(chan_fifo(arg, chan_client, i)) < 0)
			return 1;
	return hold();
}

/* ---- the checks --------------------------------------------------------- */

static unsigned long long ino_of(int fd)
{
	struct stat st;
	CHECK_SYS(fstat(fd, &st));
	return (unsigned long long)st.st_ino;
}

/* The lines of dot that contain one of want[] (what this test made). */
static char *ours(const char *dot, char *const *want, int n)
{
	char *out = xprintf("%s", "");
	for (const char *l = dot; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l + 1) : strlen(l);
		char *line = strndup(l, len);
		for (int i = 0; i < n; i++)
			if (strstr(line, want[i])) {
				char *o = xprintf("%s%s", out, line);
				free(out);
				out = o;
				break;
			}
		free(line);
		l += len;
	}
	return out;
}

/* What the graph's System V edges come from: ipck_list's IPCK_HOLD_LAST. */
static void check_last_users(pid_t sender, pid_t receiver, pid_t semop_pid)
{
	struct lsobj o[2];
	REQUIRE(ls_find(IPCK_KIND_SVMSG, fmt("0x%08lx", test_key(0)), 0, o, 2, NULL) == 1);
	CHECK_EQ(o[0].nh, 2);
	const struct ipck_holder *s = ls_holder(&o[0], sender), *r = ls_holder(&o[0], receiver);
	REQUIRE(s && r);
	CHECK_EQ(s->how, IPCK_HOLD_LAST | IPCK_HOLD_WRITE);
	CHECK_EQ(r->how, IPCK_HOLD_LAST | IPCK_HOLD_READ);
	CHECK_EQ(s->fd, -1);
	CHECK(!strcmp(s->comm, "t_graph"));
	CHECK(o[0].h[0].pid < o[0].h[1].pid);   /* sorted by pid */
	REQUIRE(ls_find(IPCK_KIND_SVSEM, fmt("0x%08lx", test_key(1)), 0, o, 2, NULL) == 1);
	CHECK_EQ(o[0].nh, 1);   /* semaphore 0 was never operated on */
	CHECK_EQ(o[0].h[0].pid, semop_pid);
	CHECK_EQ(o[0].h[0].how, IPCK_HOLD_LAST);
}

static bool dot_installed(void)
{
	return system("command -v dot >/dev/null 2>&1") == 0;
}

static void check_svg(void)
{
	int st;
	char *svg = run_cli("ls --graph=svg 2>&1", &st);
	if (dot_installed()) {
		CHECK_EQ(st, 0);
		CHECK(strstr(svg, "<svg") != NULL);
		CHECK(strstr(svg, "</svg>") != NULL);
	}
	free(svg);
	/* Without dot on PATH: a clear error, exit 1. */
	const char *path = getenv("PATH");
	char *saved = strdup(path ? path : "");
	CHECK_SYS(setenv("PATH", test_dir(), 1));
	char *err = run_cli("ls --graph=svg 2>&1", &st);
	CHECK_SYS(setenv("PATH", saved, 1));
	CHECK_EQ(st, 1);
	CHECK(strstr(err, "dot not found: install Debian's graphviz, or use --graph for DOT"));
	free(err);
	free(saved);
	char *bad = run_cli("ls --graph=png 2>/dev/null", &st);
	CHECK_EQ(st, 2);
	free(bad);
	bad = run_cli("ls --graph --json 2>/dev/null", &st);
	CHECK_EQ(st, 2);
	free(bad);
}

int main(void)
{
	int p[2], s[2], st;
	CHECK_SYS(pipe2(ready, O_CLOEXEC));
	CHECK_SYS(pipe2(p, O_CLOEXEC));
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) == 0);
	queue_id = msgget((key_t)test_key(0), IPC_CREAT | IPC_EXCL | 0600);
	REQUIRE(queue_id >= 0);
	sem_id = semget((key_t)test_key(1), 2, IPC_CREAT | IPC_EXCL | 0600);
	REQUIRE(sem_id >= 0);
	char *sock = xprintf("%s/srv", test_dir());
	char *base = xprintf("%s/chan", test_dir());
	char *odd = xprintf("%s/q\"b\\s", test_dir());
	CHECK_SYS(mkfifo(odd, 0600));
	int oddfd = open(odd, O_RDWR | O_CLOEXEC);
	REQUIRE(oddfd >= 0);
	/* A name made again while its first FIFO is still open: two nodes. */
	char *dup = xprintf("%s/dup", test_dir());
	int dupfd[2];
	for (int i = 0; i < 2; i++) {
		CHECK_SYS(mkfifo(dup, 0600));
		dupfd[i] = open(dup, O_RDWR | O_CLOEXEC);
		REQUIRE(dupfd[i] >= 0);
		if (!i)
			CHECK_SYS(unlink(dup));
	}

	pid_t me = getpid();
	pid_t reader = start(pipe_reader, NULL, p[0], -1);
	pid_t end0 = start(holder, NULL, s[0], -1), end1 = start(holder, NULL, s[1], -1);
	pid_t sender = start(q_sender, NULL, -1, -1), receiver = start(q_receiver, NULL, -1, -1);
	pid_t semop_pid = start(sem_user, NULL, -1, -1);
	pid_t server = start(unix_server, (void *)sock, -1, -1);
	pid_t client = start(unix_client, (void *)sock, -1, -1);
	char c;
	REQUIRE(read(ready[0], &c, 1) == 1);   /* the server accepted */
	chan_client = start(chan_connect, (void *)base, -1, -1);
	pid_t chan_server = start(chan_listen, (void *)base, -1, -1);
	unsigned long long pino = ino_of(p[1]), sino = ino_of(s[0]) < ino_of(s[1]) ?
		ino_of(s[0]) : ino_of(s[1]);
	close(p[0]);
	close(s[0]);
	close(s[1]);
	pid_t lo = end0 < end1 ? end0 : end1, hi = end0 < end1 ? end1 : end0;
	char *want[] = {
		xprintf("\t\"p%d\" [shape=box, label=\"%d\\nt_graph\"];\n", (int)me, (int)me),
		xprintf("\t\"p%d\" -> \"p%d\" [label=\"pipe %llu\"];\n", (int)me, (int)reader, pino),
		xprintf("\t\"p%d\" -> \"p%d\" [label=\"socketpair %llu\", dir=both];\n", (int)lo, (int)hi, sino),
		xprintf("\t\"svmsg:id=%d\" [label=\"svmsg\\nkey 0x%08lx\"];\n", queue_id, test_key(0)),
		xprintf("\t\"p%d\" -> \"svmsg:id=%d\" [label=\"last send\"];\n", (int)sender, queue_id),
		xprintf("\t\"svmsg:id=%d\" -> \"p%d\" [label=\"last recv\"];\n", queue_id, (int)receiver),
		xprintf("\t\"svsem:id=%d\" [label=\"svsem\\nkey 0x%08lx\"];\n", sem_id, test_key(1)),
		xprintf("\t\"p%d\" -> \"svsem:id=%d\" [label=\"last op\", dir=both];\n", (int)semop_pid, sem_id),
		xprintf("\t\"unix:%s\" [label=\"unix\\n%s\"];\n", sock, sock),
		xprintf("\t\"p%d\" -> \"unix:%s\" [label=\"server\", dir=both];\n", (int)server, sock),
		xprintf("\t\"p%d\" -> \"unix:%s\" [label=\"client\", dir=both];\n", (int)client, sock),
		xprintf("\t\"channel:fifo:%s\" [shape=hexagon, label=\"channel\\nfifo:%s\"];\n", base, base),
		xprintf("\t\"p%d\" -> \"channel:fifo:%s\" [label=\"listen\", dir=both];\n", (int)chan_server, base),
		xprintf("\t\"p%d\" -> \"channel:fifo:%s\" [label=\"connect\", dir=both];\n", (int)chan_client, base),
		xprintf("\t\"fifo:%s/q\\\"b\\\\s\" [label=\"fifo\\n%s/q\\\"b\\\\s\"];\n", test_dir(), test_dir()),
		xprintf("\t\"p%d\" -> \"fifo:%s/q\\\"b\\\\s\" [label=\"rw\", dir=both];\n", (int)me, test_dir()),
		xprintf("\t\"fifo:%s\" [label=\"fifo\\n%s\\n(deleted)\"];\n", dup, dup),
		xprintf("\t\"fifo:%s#2\" [label=\"fifo\\n%s\"];\n", dup, dup),
	};
	const int nwant = (int)(sizeof(want) / sizeof(want[0]));

	check_last_users(sender, receiver, semop_pid);
	char *dot = run_cli("ls --graph 2>/dev/null", &st);
	CHECK_EQ(st, 0);
	CHECK(!strncmp(dot, "digraph ipckit {\n", 17));
	CHECK(strlen(dot) > 2 && !strcmp(dot + strlen(dot) - 2, "}\n"));
	for (int i = 0; i < nwant; i++)
		if (!strstr(dot, want[i]))
			check_fail(__FILE__, __LINE__, "missing from --graph: %s", want[i]);

	/* Deterministic: the same state gives the same lines (not this
	 * process's: each run_cli is a new pipe from it). */
	char *needles[] = {
		xprintf("\"p%d\"", (int)reader),
		xprintf("\"p%d\"", (int)end0), xprintf("\"p%d\"", (int)end1),
		xprintf("\"p%d\"", (int)sender), xprintf("\"p%d\"", (int)receiver),
		xprintf("\"p%d\"", (int)server), xprintf("\"p%d\"", (int)client),
		xprintf("\"p%d\"", (int)chan_server), xprintf("\"p%d\"", (int)chan_client),
		xprintf("\"p%d\"", (int)semop_pid), xprintf("svsem:id=%d\"", sem_id),
		xprintf("%s", test_dir()), xprintf("svmsg:id=%d\"", queue_id),
	};
	const int nneedles = (int)(sizeof(needles) / sizeof(needles[0]));
	char *again = run_cli("ls --graph 2>/dev/null", &st);
	char *a = ours(dot, needles, nneedles), *b = ours(again, needles, nneedles);
	CHECK(!strcmp(a, b));
	if (check_failures)
		fprintf(stderr, "our lines:\n%s\nthe second time:\n%s", a, b);

	/* KIND filters: only queues and Unix sockets, and only their processes. */
	char *some = run_cli("ls --graph svmsg unix 2>/dev/null", &st);
	CHECK_EQ(st, 0);
	static const int in[] = {3, 4, 5, 8, 9, 10}, out[] = {1, 2, 6, 7, 11, 14};
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		CHECK(strstr(some, want[in[i]]) != NULL);
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		CHECK(strstr(some, want[out[i]]) == NULL);
	CHECK(!strstr(some, needles[0]) && !strstr(some, needles[1]));
	char *none = run_cli("ls --graph --user 54321 2>/dev/null", &st);
	CHECK_EQ(st, 0);
	char *mine = ours(none, needles, nneedles);
	CHECK(!strcmp(mine, ""));
	check_svg();

	close(p[1]);   /* the reader sees EOF and exits 0 */
	CHECK_EQ(reap(reader), 0);
	pid_t held[] = {end0, end1, sender, receiver, semop_pid, server, client, chan_client, chan_server};
	for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		stop(held[i]);
	close(oddfd);
	close(dupfd[0]);
	close(dupfd[1]);
	CHECK_SYS(unlink(odd));
	CHECK_SYS(unlink(dup));
	CHECK_SYS(unlink(sock));
	CHECK_SYS(msgctl(queue_id, IPC_RMID, NULL));
	CHECK_SYS(semctl(sem_id, 0, IPC_RMID));
	for (int i = 0; i < nwant; i++)
		free(want[i]);
	for (int i = 0; i < nneedles; i++)
		free(needles[i]);
	free(dot);
	free(again);
	free(a);
	free(b);
	free(some);
	free(none);
	free(mine);
	free(sock);
	free(base);
	free(odd);
	free(dup);
	check_exit();
}
