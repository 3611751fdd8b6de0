/*
 * t_ls_chan.c - ipckit's own channels are recognised from their objects'
 * names (the per-connection "<base>.<pid>.<n>.c2s/.s2c" of fifo: and pmsg:,
 * the ring's "<base>.<nonce>" segment of pshm:) and shown as channels with
 * both sides' pids: alive while both live,
 * half-closed when one is gone, and stale - members included, so that
 * ipck_remove can clean them - when both are dead and nobody holds them.
 */
#include "check.h"
#include "lsfind.h"
#include <fcntl.h>
#include <mqueue.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int ready[2], go[2];

/* A connecting side that died after making its two queues. */
static int make_queues(void *arg)
{
	const char *base = arg;
	struct mq_attr a = {.mq_maxmsg = 2, .mq_msgsize = 32};
	for (int i = 0; i < 2; i++) {
		char name[256];
		snprintf(name, sizeof(name), "%s.%d.3.%s", base, (int)getpid(), i ? "s2c" : "c2s");
		mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
		if (q == (mqd_t)-1)
			return 1;
	}
	return 0;
}

static void check_stale_queues(void)
{
	const char *base = fmt("/%s", test_tag());
	pid_t p = spawn(make_queues, (void *)base);
	CHECK_EQ(reap(p), 0);
	struct lsobj o[4];
	REQUIRE(ls_find(IPCK_KIND_CHANNEL, fmt("pmsg:%s", base), 0, o, 4, NULL) == 1);
	CHECK(!strcmp(o[0].scheme, "pmsg"));
	CHECK_EQ(o[0].o.id, 3);
	CHECK_EQ(o[0].o.pids[1], p);
	CHECK(o[0].o.stale && !o[0].o.alive);
	CHECK(!strcmp(o[0].state, "stale"));
	CHECK(o[0].o.url == NULL);

	/* The members are stale too, and only they carry URLs to remove. */
	const char *pat = fmt("%s.%d.3.*", base, (int)p);
	int n = ls_find(IPCK_KIND_PMSG, pat, IPCK_LIST_STALE, o, 4, NULL);
	CHECK_EQ(n, 2);
	for (int i = 0; i < n && i < 4; i++)
		CHECK(o[i].o.stale);

	/* ipckit rm --stale removes exactly what ipckit ls --stale shows. */
	int st;
	char *ls = run_cli(fmt("ls --stale pmsg --name '%s' -o url 2>/dev/null", pat), &st);
	CHECK_EQ(st, 0);
	const char *want = fmt("URL\npmsg:%s.%d.3.c2s\npmsg:%s.%d.3.s2c\n", base, (int)p, base, (int)p);
	CHECK(!strcmp(ls, want));
	char *dry = run_cli(fmt("rm --stale --dry-run pmsg --name '%s'", pat), &st);
	CHECK_EQ(st, 0);
	CHECK(!strcmp(dry, fmt("would remove pmsg:%s.%d.3.c2s\nwould remove pmsg:%s.%d.3.s2c\n",
			       base, (int)p, base, (int)p)));
	CHECK_EQ(ls_find(IPCK_KIND_PMSG, pat, 0, o, 4, NULL), 2);
	char *rm = run_cli(fmt("rm --stale pmsg --name '%s'", pat), &st);
	CHECK_EQ(st, 0);
	CHECK(!strcmp(rm, fmt("removed pmsg:%s.%d.3.c2s\nremoved pmsg:%s.%d.3.s2c\n",
			      base, (int)p, base, (int)p)));
	if (check_failures)
		fprintf(stderr, "ls:\n%s\nrm --dry-run:\n%s\nrm:\n%s\n", ls, dry, rm);
	free(ls);
	free(dry);
	free(rm);
	CHECK_EQ(ls_find(IPCK_KIND_PMSG, pat, 0, o, 4, NULL), 0);
	for (int i = 0; i < 2; i++)   /* clean up even when rm failed */
		mq_unlink(fmt("%s.%d.3.%s", base, (int)p, i ? "s2c" : "c2s"));
	CHECK_EQ(ls_find(IPCK_KIND_CHANNEL, fmt("pmsg:%s", base), 0, o, 4, NULL), 0);
}

/* The connecting side of a FIFO channel: makes both FIFOs and holds them. */
static int fifo_client(void *arg)
{
	const char *base = arg;
	close(go[1]);
	for (int i = 0; i < 2; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s.%d.7.%s", base, (int)getpid(), i ? "s2c" : "c2s");
		if (mkfifo(path, 0600) < 0 || open(path, O_RDWR) < 0)
			return 1;
	}
	if (write(ready[1], "x", 1) != 1)
		return 1;
	char c;
	while (read(go[0], &c, 1) > 0)
		;
	return 0;
}

static void check_fifo_channel(void)
{
	const char *base = fmt("%s/chan", test_dir());
	CHECK_SYS(pipe(ready));
	CHECK_SYS(pipe(go));
	pid_t p = spawn(fifo_client, (void *)base);
	char c;
	REQUIRE(read(ready[0], &c, 1) == 1);
	int fd[2];
	for (int i = 0; i < 2; i++) {   /* the listening side's rendezvous */
		const char *path = fmt("%s.%d.7.%s", base, (int)p, i ? "s2c" : "c2s");
		fd[i] = open(path, O_RDWR | O_CLOEXEC);
		CHECK(fd[i] >= 0);
		CHECK_SYS(unlink(path));
	}
	struct lsobj o[4];
	REQUIRE(ls_find(IPCK_KIND_CHANNEL, fmt("fifo:%s", base), 0, o, 4, NULL) == 1);
	CHECK_EQ(o[0].o.id, 7);
	CHECK_EQ(o[0].o.pids[0], getpid());
	CHECK_EQ(o[0].o.pids[1], p);
	CHECK(o[0].o.alive && !o[0].o.stale);
	CHECK(!strcmp(o[0].state, "connected"));
	CHECK(ls_holder(&o[0], getpid()) && ls_holder(&o[0], p));
	CHECK_EQ(ls_find(IPCK_KIND_FIFO, fmt("%s.*", base), 0, o + 1, 3, NULL), 2);
	CHECK(o[1].o.deleted && o[2].o.deleted);

	close(go[1]);
	CHECK_EQ(reap(p), 0);
	REQUIRE(ls_find(IPCK_KIND_CHANNEL, fmt("fifo:%s", base), 0, o, 4, NULL) == 1);
	CHECK(!o[0].o.alive && !o[0].o.stale);   /* this side still holds it */
	CHECK(!strcmp(o[0].state, "half-closed"));
	close(fd[0]);
	close(fd[1]);
	CHECK_EQ(ls_find(IPCK_KIND_CHANNEL, fmt("fifo:%s", base), 0, o, 4, NULL), 0);
	close(go[0]);
	close(ready[0]);
	close(ready[1]);
}

static const char *ring_seg;

/* The connecting side of a ring: maps the connection's segment. */
static int ring_client(void *arg)
{
	(void)arg;
	close(go[1]);
	int fd = shm_open(ring_seg, O_RDWR, 0);
	if (fd < 0 || mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED)
		return 1;
	close(fd);
	if (write(ready[1], "x", 1) != 1)
		return 1;
	char c;
	while (read(go[0], &c, 1) > 0)
		;
	return 0;
}

static void check_ring_channel(void)
{
	const char *base = fmt("/%s-ring", test_tag());
	ring_seg = fmt("%s.0123456789abcdef", base);
	int lfd = shm_open(base, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);   /* the listener's */
	int sfd = shm_open(ring_seg, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	REQUIRE(lfd >= 0 && sfd >= 0);
	CHECK_SYS(ftruncate(sfd, 4096));
	CHECK_SYS(pipe(ready));
	CHECK_SYS(pipe(go));
	pid_t p = spawn(ring_client, NULL);
	char c;
	REQUIRE(read(ready[0], &c, 1) == 1);
	CHECK_SYS(shm_unlink(ring_seg));
	struct lsobj o[2];
	REQUIRE(ls_find(IPCK_KIND_CHANNEL, fmt("pshm:%s", base), 0, o, 2, NULL) == 1);
	CHECK(!strcmp(o[0].scheme, "pshm"));
	CHECK(!(o[0].o.fields & IPCK_F_ID));
	CHECK_EQ(o[0].o.pids[0], getpid());
	CHECK_EQ(o[0].o.pids[1], p);
	CHECK(o[0].o.alive && !o[0].o.stale);
	close(go[1]);
	CHECK_EQ(reap(p), 0);
	REQUIRE(ls_find(IPCK_KIND_CHANNEL, fmt("pshm:%s", base), 0, o, 2, NULL) == 1);
	CHECK(!o[0].o.alive && !o[0].o.stale);
	close(sfd);
	CHECK_EQ(ls_find(IPCK_KIND_CHANNEL, fmt("pshm:%s", base), 0, o, 2, NULL), 0);
	CHECK_SYS(shm_unlink(base));
	close(lfd);
	close(go[0]);
	close(ready[0]);
	close(ready[1]);
}

int main(void)
{
	check_stale_queues();
	check_fifo_channel();
	check_ring_channel();
	check_exit();
}
