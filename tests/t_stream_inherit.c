/*
 * t_stream_inherit.c - on the schemes whose end is the kernel's (pipe, fifo,
 * unix, abstract, unix-seqpacket, tcp, socketpair), a connector C that forks
 * a child G and exits leaves the channel to G: G's message, sent after C is
 * dead and reaped, still arrives, and only G's exit ends the channel
 * (-EPIPE or -ECONNRESET).  Three processes: this one (listener, and G's
 * subreaper), C, G.
 *   t_stream_inherit [SCHEME...]
 */
#include "check.h"
#include "ipckit.h"
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

struct job {
	const char *url;   /* NULL: a pair, pc is C's end and ps ours */
	ipck_chan *pc, *ps;
	int go[2];         /* us -> G: C is dead, send now */
	int gpid[2];       /* C -> us: G's pid */
};

/* G: wait for the word, send "second", exit (closing its copy). */
static void grandchild(struct job *j, ipck_chan *c)
{
	char b;
	close(j->go[1]);
	if (read(j->go[0], &b, 1) != 1 || ipck_send(c, "second", 6, 5000) != 6)
		_exit(1);
	_exit(0);
}

static int connector(void *arg)
{
	struct job *j = arg;
	ipck_chan *c = j->pc;
	if (j->ps && ipck_close(j->ps) < 0)
		return 1;
	if (j->url && ipck_open(&c, j->url, 0) < 0)
		return 1;
	if (ipck_send(c, "first", 5, 5000) != 5)
		return 2;
	pid_t g = fork();
	if (g == 0)
		grandchild(j, c);
	if (g < 0 || write(j->gpid[1], &g, sizeof(g)) != sizeof(g))
		return 3;
	return 0;   /* exits with its copy open: G holds the channel now */
}

static void run(const char *scheme, struct job *j, ipck_chan *s, pid_t cpid)
{
	char buf[16];
	pid_t g = 0;
	CHECK_EQ(ipck_recv(s, buf, sizeof(buf), 5000), 5);
	CHECK_EQ(read(j->gpid[0], &g, sizeof(g)), sizeof(g));
	CHECK_EQ(reap(cpid), 0);
	CHECK_EQ(write(j->go[1], "g", 1), 1);
	ssize_t n = ipck_recv(s, buf, sizeof(buf), 5000);
	CHECK_EQ(n, 6);
	CHECK(n == 6 && !memcmp(buf, "second", 6));
	int st = -1;
	CHECK_EQ(g > 0 ? waitpid(g, &st, 0) : -1, g);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	n = ipck_recv(s, buf, sizeof(buf), 5000);
	CHECK(n == -EPIPE || n == -ECONNRESET);
	printf("%-16s C exited, G sent after it: delivered; G exited: %s\n", scheme,
	       ipck_errname((int)n));
}

static void scheme_case(const char *scheme)
{
	struct job j = {0};
	ipck_chan *l = NULL, *s = NULL;
	CHECK_SYS(pipe(j.go));
	CHECK_SYS(pipe(j.gpid));
	bool pair = !strcmp(scheme, "pipe") || !strcmp(scheme, "socketpair");
	if (pair) {
		CHECK_OK(ipck_pair(fmt("%s:", scheme), &s, &j.pc));
		j.ps = s;
	} else {
		j.url = test_url(scheme);
		CHECK_OK(ipck_open(&l, j.url, IPCK_LISTEN));
	}
	pid_t cpid = spawn(connector, &j);
	if (pair)
		CHECK_OK(ipck_close(j.pc));
	else
		CHECK_OK(ipck_accept(l, &s, 10000));
	close(j.go[0]);
	close(j.gpid[1]);
	if (s)
		run(scheme, &j, s, cpid);
	CHECK_OK(ipck_close(s));
	if (l)
		CHECK_OK(ipck_close(l));
	close(j.go[1]);
	close(j.gpid[0]);
}

int main(int argc, char **argv)
{
	static const char *const schemes[] = {"pipe", "socketpair", "fifo", "unix", "abstract",
					      "unix-seqpacket", "tcp"};
	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK_SYS(prctl(PR_SET_CHILD_SUBREAPER, 1));   /* G is reaped here */
	for (size_t i = 0; i < sizeof(schemes) / sizeof(*schemes); i++)
		if (scheme_wanted(schemes[i], argc, argv))
			scheme_case(schemes[i]);
	check_exit();
}
