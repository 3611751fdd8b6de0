/*
 * t_removed.c - the objects of a live channel removed under it, as an
 * administrator (ipcrm, rm) or systemd's RemoveIPC=yes at logout would: every
 * object a listener and its connection made (found by snapshot: unlink of a
 * socket, FIFO or file, shm_unlink, mq_unlink, IPC_RMID), for every named
 * scheme.  Then each side sends one message and receives the other's:
 * either both arrive (the kernel objects live on while open: "works"), or
 * the side gets an error (not -ETIMEDOUT) within one operation, and closes,
 * so that its peer learns it too.  Nobody hangs, nothing crashes.  A new
 * connection to the removed name is refused.  The outcome is printed per
 * scheme.
 */
#include "check.h"
#include "internal.h"
#include "objsnap.h"
#include <unistd.h>

#define OP_MS 1000

/* What one side saw after the removal. */
struct outcome {
	int err;             /* 0: its send and receive both went */
	long long ms;        /* how long the failing call took */
	const char *op;      /* "send" or "recv" */
};

static void exchange(ipck_chan *c, const char *mine, const char *theirs, struct outcome *o)
{
	char b[16];
	long long t0 = now_ms();
	ssize_t r = ipck_send(c, mine, strlen(mine), OP_MS);
	o->op = "send";
	if (r == (ssize_t)strlen(mine)) {
		t0 = now_ms();
		r = ipck_recv(c, b, sizeof(b), OP_MS);
		o->op = "recv";
		if (r == (ssize_t)strlen(theirs) && !memcmp(b, theirs, (size_t)r))
			r = 0;
		else if (r >= 0)
			r = -EPROTO;   /* something else arrived */
	}
	o->err = (int)r;
	o->ms = now_ms() - t0;
}

static int fds[2][2];   /* server -> client: "removed"; client -> server: its outcome */

static int client(void *url)
{
	ipck_chan *c;
	struct outcome o = {0};
	char b[8];
	if (ipck_open(&c, url, 0) < 0 || ipck_send(c, "hi", 2, 5000) != 2 ||
	    ipck_recv(c, b, sizeof(b), 5000) != 2)
		return 1;
	if (read(fds[0][0], b, 1) != 1)   /* the objects are gone now */
		return 1;
	exchange(c, "c1", "s1", &o);
	ipck_close(c);
	return write(fds[1][1], &o, sizeof(o)) == sizeof(o) ? 0 : 1;
}

static void judge(const char *scheme, const char *side, const struct outcome *o)
{
	if (!o->err) {
		printf("%-14s %-6s works on (the objects live while open)\n", scheme, side);
		return;
	}
	printf("%-14s %-6s %s: %s after %lld ms\n", scheme, side, o->op, ipck_errname(o->err), o->ms);
	CHECK(o->err != -ETIMEDOUT);   /* an error, not a hang */
	CHECK(o->ms < OP_MS);
}

static int remove_all(const struct snap *made)
{
	for (int i = 0; i < made->n; i++)
		snap_remove(made->o[i].kind, &made->o[i]);
	return made->n;
}

static void removed_scheme(const struct ipck_scheme *sc)
{
	char url[PATH_MAX];
	const char *name = sc->info.name;
	struct snap before, mid, made;
	ipck_chan *l, *s = NULL, *x = NULL;
	struct outcome so = {0}, co = {0};
	char b[8];
	snprintf(url, sizeof(url), "%s", test_url(name));
	CHECK_OK(snap_take(&before));
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	if (!l)
		return;
	for (int i = 0; i < 2; i++)
		CHECK_SYS(pipe(fds[i]));
	pid_t pid = spawn(client, url);
	CHECK_OK(ipck_accept(l, &s, 5000));
	if (s) {
		CHECK_EQ(ipck_recv(s, b, sizeof(b), 5000), 2);
		CHECK_EQ(ipck_send(s, "ok", 2, 5000), 2);
	}
	CHECK_OK(snap_take(&mid));
	snap_new(&before, &mid, &made);
	printf("%-14s removed %d object(s):", name, remove_all(&made));
	for (int i = 0; i < made.n; i++)
		printf(" %s", made.o[i].name[0] ? made.o[i].name : fmt("key 0x%llx", made.o[i].key));
	printf("\n");
	CHECK_EQ(write(fds[0][1], "r", 1), 1);
	if (s)
		exchange(s, "s1", "c1", &so);
	if (so.err)
		ipck_close(s), s = NULL;
	CHECK_EQ(read(fds[1][0], &co, sizeof(co)), sizeof(co));
	CHECK_EQ(reap(pid), 0);
	judge(name, "server", &so);
	judge(name, "client", &co);
	int r = ipck_open(&x, sc->opts & OPT_TIMEOUT ? fmt("%s?timeout=300", url) : url, 0);
	printf("%-14s a new connection to the removed name: %s\n", name,
	       r < 0 ? ipck_errname(r) : "CONNECTED");
	if (made.n)   /* abstract, tcp, udp: no object to remove; the name goes with the socket */
		CHECK(r < 0);
	ipck_close(x);
	ipck_close(s);
	ipck_close(l);
	for (int i = 0; i < 4; i++)
		close(fds[i / 2][i % 2]);
	ipck_unlink(url);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; ipck__schemes[i]; i++)
		if (!(ipck__schemes[i]->info.caps & IPCK_CAP_PAIR_ONLY) &&
		    scheme_wanted(ipck__schemes[i]->info.name, argc, argv))
			removed_scheme(ipck__schemes[i]);
	check_exit();
}
