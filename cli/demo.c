/*
 * demo.c - `ipckit demo [--lib] [--arg ARG] [NAME]`: the classic programs of
 * examples/ run live.  With no NAME, list the demos.  With one, start its
 * server (reader, receiver), wait until it sits in its first wait, start
 * the client, and print what both say, line by line and labelled:
 * "[server] step: shmget(...)".  The "step:" lines are the examples' own:
 * each prints one before every system call that matters.
 *
 * The programs are found in $IPCKIT_EXAMPLES, else next to this binary
 * (build/ipckit -> build/examples), else in ../libexec/ipckit/examples
 * beside it (make install puts them there).  --lib runs the versions
 * written with libipckit (examples/with-ipckit/).
 *
 * Each run gets its own names (a key, a temporary directory, a queue name
 * from the pid) so two demos never meet; --arg passes your own.  Ctrl-C or
 * SIGTERM is passed on to the programs, which remove their objects.
 */
#include "cli.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum demo_arg { ARG_SAME, ARG_NONE, ARG_KEY, ARG_PATH, ARG_MQ };

struct demo {
	const char *name;
	const char *prog[2];    /* started in this order; prog[1] NULL: one program */
	const char *role[2];    /* the labels of their lines */
	enum demo_arg arg;      /* what names their object */
	const char *summary;
	enum demo_arg lib_arg;  /* that of the libipckit version, if not the same */
};

static const struct demo demos[] = {
	{.name = "sm", .prog = {"sm_server", "sm_client"}, .role = {"server", "client"}, .arg = ARG_KEY,
	 .summary = "System V shared memory, the notes' first program (polled)"},
	{.name = "shm", .prog = {"shmserver", "shmclient"}, .role = {"server", "client"}, .arg = ARG_KEY,
	 .summary = "System V shared memory guarded by a System V semaphore set"},
	{.name = "semdemo", .prog = {"semdemo"}, .role = {"semdemo"}, .arg = ARG_KEY,
	 .summary = "a System V semaphore as a lock between two processes, SEM_UNDO"},
	{.name = "msg", .prog = {"msgrecv", "msgsend"}, .role = {"receiver", "sender"}, .arg = ARG_KEY,
	 .summary = "System V message queue with message types"},
	{.name = "bounded_buffer", .prog = {"bounded_buffer"}, .role = {"bounded_buffer"}, .arg = ARG_KEY,
	 .summary = "producers and consumers over a bounded buffer, three semaphores"},
	{.name = "pipe", .prog = {"pipe_fork"}, .role = {"pipe_fork"}, .arg = ARG_NONE,
	 .summary = "an anonymous pipe between a parent and its child"},
	{.name = "fifo", .prog = {"fifo_reader", "fifo_writer"}, .role = {"reader", "writer"}, .arg = ARG_PATH,
	 .summary = "a named pipe between unrelated processes"},
	{.name = "pmsg", .prog = {"pmsg_recv", "pmsg_send"}, .role = {"receiver", "sender"}, .arg = ARG_MQ,
	 .summary = "POSIX message queue: priorities and mq_notify"},
	{.name = "unix", .prog = {"unix_server", "unix_client"}, .role = {"server", "client"}, .arg = ARG_PATH,
	 .summary = "Unix domain stream socket"},
	{.name = "mmap", .prog = {"mmap_share"}, .role = {"mmap_share"}, .arg = ARG_PATH,
	 .summary = "a file mapped shared by two processes"},
	{.name = "signal", .prog = {"sig_demo"}, .role = {"sig_demo"}, .arg = ARG_NONE,
	 .summary = "sigaction and sigqueue with a value", .lib_arg = ARG_PATH},
};
#define NDEMOS (sizeof(demos) / sizeof(demos[0]))

#define QUIET_MS 300        /* the server is waiting once it is this quiet */
#define RUN_MS   (60 * 1000) /* then the programs are told to stop */
#define KILL_MS  5000        /* and killed if they have not stopped by then */

/*
 * Both programs write into one SOCK_SEQPACKET socket: each line (their
 * stdout is line-buffered) is one record, the kernel keeps the records in
 * the order they were written, and SO_PASSCRED names the writer's pid.
 * So the lines come out in the order the two processes printed them,
 * which two pipes read in turn could not promise.
 */
struct proc {
	const char *label;
	pid_t pid;
	int status;             /* its wait status, once reaped */
	bool reaped;
	size_t len;
	char part[1024];        /* the start of a line not yet printed */
};

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

static const struct demo *demo_find(const char *name)
{
	for (size_t i = 0; i < NDEMOS; i++) {
		const struct demo *d = &demos[i];
		if (!strcmp(d->name, name) || !strcmp(d->prog[0], name) ||
		    (d->prog[1] && !strcmp(d->prog[1], name)))
			return d;
	}
	return NULL;
}

/* out = a b c, or false when it does not fit. */
static bool join(char *out, size_t cap, const char *a, const char *b, const char *c)
{
	int n = snprintf(out, cap, "%s%s%s", a, b, c);
	return n >= 0 && (size_t)n < cap;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The directory of the example programs (see the top of the file). */
static int examples_dir(char *out, size_t cap)
{
	const char *env = getenv("IPCKIT_EXAMPLES");
	if (env && *env)
		return join(out, cap, env, "", "") && is_dir(out) ? 0 : -ENOENT;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	if (join(out, cap, exe, "/examples", "") && is_dir(out))
		return 0;
	return join(out, cap, exe, "/../libexec/ipckit/examples", "") && is_dir(out) ? 0 : -ENOENT;
}

static bool have(const char *dir, const char *sub, const char *prog)
{
	char path[PATH_MAX];
	return join(path, sizeof(path), dir, sub, prog) && access(path, X_OK) == 0;
}

static int demo_list(void)
{
	char dir[PATH_MAX];
	bool found = examples_dir(dir, sizeof(dir)) == 0;
	printf("%-15s %-28s %-4s %s\n", "NAME", "PROGRAMS", "LIB", "WHAT");
	for (size_t i = 0; i < NDEMOS; i++) {
		const struct demo *d = &demos[i];
		char progs[64];
		snprintf(progs, sizeof(progs), "%s%s%s", d->prog[0], d->prog[1] ? " + " : "",
			 d->prog[1] ? d->prog[1] : "");
		bool lib = found && have(dir, "/with-ipckit/", d->prog[0]) &&
			   (!d->prog[1] || have(dir, "/with-ipckit/", d->prog[1]));
		printf("%-15s %-28s %-4s %s\n", d->name, progs, lib ? "yes" : "-", d->summary);
	}
	if (found)
		printf("\nprograms in %s; 'ipckit demo NAME' runs one, --lib its libipckit version\n", dir);
	else
		printf("\nprograms not found: build them with 'make examples' or set IPCKIT_EXAMPLES\n");
	return 0;
}

/* Names for this run: a key, a queue name or a path in a new directory. */
static int demo_arg(const struct demo *d, bool lib, char *arg, size_t cap, char *tmp, size_t tcap)
{
	const char *t = getenv("TMPDIR");
	switch (lib && d->lib_arg != ARG_SAME ? d->lib_arg : d->arg) {
	case ARG_SAME:
	case ARG_NONE:
		return 0;
	case ARG_KEY:
		snprintf(arg, cap, "0x%x", 0x49500000u | ((unsigned)getpid() & 0xfffffu));
		return 0;
	case ARG_MQ:
		snprintf(arg, cap, "/ipckit-demo-%d", (int)getpid());
		return 0;
	case ARG_PATH:
		if (!join(tmp, tcap, t && *t ? t : "/tmp", "/ipckit-demo.XXXXXX", ""))
			return -ENAMETOOLONG;
		if (!mkdtemp(tmp))
			return -errno;
		return join(arg, cap, tmp, "/", d->name) ? 0 : -ENAMETOOLONG;
	}
	return -EINVAL;
}

/* Start path [arg] with stdout and stderr into the socket out. */
static int proc_start(struct proc *p, const char *path, const char *arg, int out)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t dfl, none;
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGPIPE);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out, STDERR_FILENO);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	char *argv[] = {(char *)path, (char *)arg, NULL};
	int r = posix_spawn(&p->pid, path, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return -r;
}

/* Who wrote a record: a forked helper of a one-program demo speaks for it. */
static struct proc *writer_of(struct proc *ps, int n, pid_t pid)
{
	for (int i = 0; i < n; i++)
		if (ps[i].pid == pid)
			return &ps[i];
	return n == 1 ? &ps[0] : NULL;
}

/* Add bytes to p's partial line and print the lines it completes; a
 * line longer than the buffer comes out in parts. */
static void proc_add(struct proc *p, const char *s, size_t n)
{
	while (n > 0) {
		size_t k = sizeof(p->part) - p->len < n ? sizeof(p->part) - p->len : n;
		memcpy(p->part + p->len, s, k);
		p->len += k;
		s += k;
		n -= k;
		char *start = p->part, *nl;
		while ((nl = memchr(start, '\n', p->len - (size_t)(start - p->part)))) {
			printf("[%s] %.*s\n", p->label, (int)(nl - start), start);
			start = nl + 1;
		}
		p->len -= (size_t)(start - p->part);
		memmove(p->part, start, p->len);
		if (p->len == sizeof(p->part))
			proc_add(p, "\n", 1);
	}
}

/* Receive one record and print the lines it ends.  0 at the end (every
 * writer closed), 1 otherwise. */
static int relay_record(int sock, struct proc *ps, int n)
{
	char buf[8192];
	union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(struct ucred))]; } cm;
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &cm, .msg_controllen = sizeof(cm)};
	ssize_t len = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (len <= 0)
		return len < 0 && errno == EINTR;
	pid_t pid = 0;
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
		pid = ((struct ucred *)(void *)CMSG_DATA(c))->pid;
	struct proc *p = writer_of(ps, n, pid);
	if (p)
		proc_add(p, buf, (size_t)len);
	else
		printf("[pid %d] %.*s", (int)pid, (int)len, buf);
	fflush(stdout);
	return 1;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static bool proc_gone(struct proc *p)
{
	if (!p->reaped && waitpid(p->pid, &p->status, WNOHANG) == p->pid)
		p->reaped = true;
	return p->reaped;
}

/*
 * Relay until the first program, after its first line, has been quiet for
 * QUIET_MS (it sits in a blocking call) or has exited.  At most max_ms.
 */
static void relay_until_quiet(int sock, struct proc *ps, int max_ms)
{
	long long until = now_ms() + max_ms;
	bool heard = false;
	while (!stop_sig && !proc_gone(&ps[0]) && now_ms() < until) {
		struct pollfd pf = {.fd = sock, .events = POLLIN};
		long long left = until - now_ms();
		int r = poll(&pf, 1, heard ? QUIET_MS : (int)(left > 0 ? left : 0));
		if (r == 0 && heard)
			return;
		if (r > 0)
			heard = relay_record(sock, ps, 1) || heard;
	}
	while (poll(&(struct pollfd){.fd = sock, .events = POLLIN}, 1, 0) > 0 && relay_record(sock, ps, 1))
		;   /* what it said before it exited */
}

/* Send sig to the programs not reaped yet. */
static void signal_all(struct proc *ps, int n, int sig)
{
	for (int i = 0; i < n; i++)
		if (!proc_gone(&ps[i]))
			kill(ps[i].pid, sig);
}

/*
 * Relay until every writer has closed the socket.  On Ctrl-C, SIGTERM or
 * at `until`, tell the programs to stop (SIGTERM: they clean up); KILL_MS
 * later, kill those still there.
 */
static void relay(int sock, struct proc *ps, int n, long long until)
{
	int sig = SIGTERM;
	for (;;) {
		if (sig && (stop_sig || now_ms() >= until)) {
			signal_all(ps, n, sig);
			until = now_ms() + KILL_MS;
			stop_sig = 0;
			sig = sig == SIGTERM ? SIGKILL : 0;
		}
		struct pollfd pf = {.fd = sock, .events = POLLIN};
		long long left = until - now_ms();
		int r = poll(&pf, 1, sig ? (int)(left > 0 ? left : 0) : 1000);
		if (r > 0 && !relay_record(sock, ps, n))
			break;
	}
	for (int i = 0; i < n; i++)
		if (ps[i].len)
			proc_add(&ps[i], "\n", 1);   /* a last line without its newline */
}

/* Wait for p; print how it ended; true if it exited 0. */
static bool proc_wait(struct proc *p)
{
	while (!p->reaped && waitpid(p->pid, &p->status, 0) < 0)
		if (errno != EINTR)
			return cli_err(-errno, "waitpid %s", p->label), false;
	p->reaped = true;
	if (WIFEXITED(p->status))
		printf("[%s] exited %d\n", p->label, WEXITSTATUS(p->status));
	else
		printf("[%s] killed by signal %d\n", p->label, WTERMSIG(p->status));
	return WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0;
}

static void catch_stops(void)
{
	struct sigaction sa = {.sa_handler = on_stop};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);   /* a closed stdout must not kill us before them */
}

/* The socket the programs write into: [0] ours, [1] theirs. */
static int output_socket(int sv[2])
{
	int one = 1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		int e = -errno;
		close(sv[0]);
		close(sv[1]);
		return e;
	}
	return 0;
}

/* Start the programs of d from dir with arg, relay, wait; 0 if all exited 0. */
static int demo_run(const struct demo *d, const char *dir, const char *arg)
{
	struct proc ps[2] = {{.label = d->role[0]}, {.label = d->role[1]}};
	int n = d->prog[1] ? 2 : 1, started = 0, rc = 0, sv[2];
	int r = output_socket(sv);
	if (r < 0)
		return cli_err(r, "socketpair");
	catch_stops();
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		if (!join(path, sizeof(path), dir, "/", d->prog[i])) {
			rc = cli_err(-ENAMETOOLONG, "%s", dir);
			break;
		}
		printf("[%s] $ %s%s%s\n", d->role[i], path, arg ? " " : "", arg ? arg : "");
		fflush(stdout);
		if ((r = proc_start(&ps[i], path, arg, sv[1])) < 0) {
			rc = cli_err(r, "cannot start %s", path);
			break;
		}
		started++;
		if (i + 1 < n)   /* let the server reach its first wait */
			relay_until_quiet(sv[0], ps, 5000);
		if (stop_sig || proc_gone(&ps[0]))
			break;   /* stopped, or the server is gone already */
	}
	close(sv[1]);
	relay(sv[0], ps, started, rc ? now_ms() : now_ms() + RUN_MS);
	close(sv[0]);
	for (int i = 0; i < started; i++)
		if (!proc_wait(&ps[i]))
			rc = 1;
	return rc;
}

static int usage(FILE *f, int rc)
{
	fprintf(f, "usage: ipckit demo [--lib] [--arg ARG] [NAME]\n\n"
		   "Without NAME, list the demos.  With one, run its programs from examples/\n"
		   "(server first, then client) and print their output labelled, with a\n"
		   "'step:' line before each system call.\n\n"
		   "  --lib      run the version written with libipckit (examples/with-ipckit/)\n"
		   "  --arg ARG  the key, path or queue name to use (default: new ones for this run)\n\n"
		   "The programs are looked for in $IPCKIT_EXAMPLES, then DIR/examples and\n"
		   "DIR/../libexec/ipckit/examples where DIR holds the ipckit binary.\n");
	return rc;
}

int cmd_demo(int argc, char **argv)
{
	bool lib = false;
	const char *name = NULL, *user_arg = NULL;
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i]))
			return usage(stdout, 0);
		else if (!strcmp(argv[i], "--lib"))
			lib = true;
		else if (!strcmp(argv[i], "--arg") && i + 1 < argc)
			user_arg = argv[++i];
		else if (argv[i][0] == '-' || name)
			return cli_usage("unexpected argument '%s'", argv[i]);
		else
			name = argv[i];
	}
	if (!name)
		return demo_list();
	const struct demo *d = demo_find(name);
	if (!d)
		return cli_usage("no demo '%s' ('ipckit demo' lists them)", name);

	char base[PATH_MAX], dir[PATH_MAX], arg[PATH_MAX] = "", tmp[PATH_MAX] = "";
	int r = examples_dir(base, sizeof(base));
	if (r < 0)
		return cli_err(r, "example programs not found (make examples, or set IPCKIT_EXAMPLES)");
	if (!join(dir, sizeof(dir), base, lib ? "/with-ipckit" : "", ""))
		return cli_err(-ENAMETOOLONG, "%s", base);
	for (int i = 0; i < 2 && d->prog[i]; i++)
		if (!have(dir, "/", d->prog[i]))
			return lib ? cli_err(0, "demo %s has no libipckit version in %s yet", d->name, dir)
				   : cli_err(-ENOENT, "%s/%s", dir, d->prog[i]);
	if (user_arg && !join(arg, sizeof(arg), user_arg, "", ""))
		return cli_usage("--arg: too long");
	if (!user_arg && (r = demo_arg(d, lib, arg, sizeof(arg), tmp, sizeof(tmp))) < 0)
		return cli_err(r, "cannot make a temporary directory");

	printf("demo %s: %s\n", d->name, d->summary);
	int rc = demo_run(d, dir, arg[0] ? arg : NULL);
	if (tmp[0]) {
		unlink(arg);   /* only there if a program failed before removing it */
		rmdir(tmp);
	}
	return rc;
}
