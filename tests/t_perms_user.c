/*
 * t_perms_user.c - another user (nobody, 65534) against every named scheme
 * (root only: exit 77 otherwise).  For each name a listener makes:
 *   - the other user pre-creates it world-writable (0666), or as a symlink
 *     to a file of ours, or as an object of another type: our listen fails,
 *     and nothing moves (the squatter's object keeps its inode, mode and
 *     owner, even a dead socket, which ours would have been replaced);
 * and for every scheme that checks its peer:
 *   - the other user listens at our address: our connect is refused
 *     (-EACCES);
 *   - we listen, the other user connects: refused on both sides;
 *   - both work once each side names the other (?peer_uid=) and the
 *     listener lets the other user open its objects (?mode=0666).
 * The test's directory is opened to the other user (0777) meanwhile.
 */
#include "check.h"
#include "internal.h"
#include "objsnap.h"
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOBODY 65534

static const char *cur;
static int refused, attacks;
static const char *precious;   /* a file of ours that symlinks point to */

static void become_nobody(void)
{
	if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) < 0) {
		perror("become nobody");
		_exit(3);
	}
}

struct squat {
	const struct snapobj *o;
	int variant;
};

/* As nobody: plant one squatter; exit 0 when planted, 2 when not applicable. */
static int squatter(void *arg)
{
	const struct squat *q = arg;
	const struct snapobj *o = q->o;
	static const int other[] = {[0] = SNAP_FILE, [1] = SNAP_FIFO, [2] = SNAP_FIFO};
	const char *path = snap_is_path(o) ? o->name : snap_posix_path(o);
	become_nobody();
	umask(0);
	switch (q->variant) {
	case 0:
		return snap_make(o->kind, o, 0666) ? 1 : 0;
	case 1:
		return !path ? 2 : symlink(precious, path) ? 1 : 0;
	default:
		if (!snap_is_path(o) || o->kind > SNAP_FILE)
			return 2;
		return snap_make(other[o->kind - SNAP_FIFO], o, 0666) ? 1 : 0;
	}
}

static const char *const variants[] = {"same kind, 0666", "symlink to our file", "another type"};

static void squat_one(const char *url, const struct snapobj *o, int v)
{
	struct squat q = {o, v};
	struct snap s1, s2;
	ipck_chan *l = NULL;
	int st = reap(spawn(squatter, &q));
	if (st == 2)
		return;
	CHECK_EQ(st, 0);
	CHECK_OK(snap_take(&s1));
	int r = ipck_open(&l, url, IPCK_LISTEN);
	CHECK_OK(snap_take(&s2));
	bool intact = snap_precious_intact(), same = snap_equal(&s1, &s2);
	attacks++;
	refused += r < 0 && same && intact;
	printf("%-14s nobody's %-44s %-20s listen %-11s %s\n", cur, snap_str(o), variants[v],
	       r < 0 ? ipck_errname(r) : "SUCCEEDED", same && intact ? "nothing moved" : "SOMETHING MOVED");
	CHECK(r < 0);
	CHECK(same);
	CHECK(intact);
	ipck_close(l);
	if (v == 1 && !snap_is_path(o))
		unlink(snap_posix_path(o));
	else
		snap_remove(v == 0 || !snap_is_path(o) ? o->kind : SNAP_FILE, o);
}

/* ---- peers of another user --------------------------------------------------- */

struct peer {
	const char *url;             /* as nobody uses it */
	int ready[2], done[2];
};

static int nobody_listens(void *arg)
{
	struct peer *p = arg;
	ipck_chan *l, *c = NULL;
	char b;
	become_nobody();
	if (ipck_open(&l, p->url, IPCK_LISTEN) < 0)
		return 1;
	if (write(p->ready[1], "r", 1) != 1)
		return 1;
	ipck_accept(l, &c, 3000);
	struct pollfd pf = {.fd = p->done[0], .events = POLLIN};
	if (poll(&pf, 1, 5000) == 1 && read(p->done[0], &b, 1) < 0)
		return 1;
	ipck_close(c);
	ipck_close(l);
	return 0;
}

static int nobody_connects(void *arg)
{
	struct peer *p = arg;
	ipck_chan *c = NULL;
	become_nobody();
	int r = ipck_open(&c, p->url, 0);
	if (r == 0 && ipck_send(c, "hi", 2, 1000) != 2)
		r = -EPIPE;
	ipck_close(c);
	return r == 0 ? 0 : 10;   /* 10: refused */
}

static const char *with(const char *url, const char *opts)
{
	return fmt("%s%s%s", url, strchr(url, '?') ? "&" : "?", opts);
}

/*
 * The URL one side uses: naming the other user (peer_uid=) and making its
 * objects openable by that user (mode=0666), when it says so.
 */
static const char *url_for(const struct ipck_scheme *sc, const char *url, bool listener,
			   bool name_it, uid_t peer)
{
	if (name_it)
		url = with(url, fmt("peer_uid=%u", (unsigned)peer));
	if (name_it && (sc->opts & OPT_MODE))   /* a client's own objects too (fifo, pmsg) */
		url = with(url, "mode=0666");
	if (!listener && (sc->opts & OPT_TIMEOUT))
		url = with(url, "timeout=1000");
	return url;
}

/* Nobody listens at url; we connect: refused, or accepted when each names the other. */
static void connect_to_nobody(const struct ipck_scheme *sc, const char *url, bool name_it)
{
	char nu[PATH_MAX + 64];
	snprintf(nu, sizeof(nu), "%s", url_for(sc, url, true, name_it, 0));
	struct peer p = {.url = nu};
	ipck_chan *c = NULL;
	char b;
	CHECK_SYS(pipe(p.ready));
	CHECK_SYS(pipe(p.done));
	pid_t pid = spawn(nobody_listens, &p);
	struct pollfd pf = {.fd = p.ready[0], .events = POLLIN};
	REQUIRE(poll(&pf, 1, 5000) == 1 && read(p.ready[0], &b, 1) == 1);
	int r = ipck_open(&c, url_for(sc, url, false, name_it, NOBODY), 0);
	attacks += !name_it;
	refused += !name_it && r < 0;
	printf("%-14s connect to nobody's listener%-16s %s\n", cur, name_it ? " (named)" : "",
	       r < 0 ? ipck_errname(r) : "connected");
	if (name_it)
		CHECK_OK(r);
	else
		CHECK_EQ(r, -EACCES);
	ipck_close(c);
	CHECK_EQ(write(p.done[1], "d", 1), 1);
	CHECK_EQ(reap(pid), 0);
	for (int i = 0; i < 2; i++) {
		close(p.ready[i]);
		close(p.done[i]);
	}
}

/* We listen at url; nobody connects: refused both ways, or served when named. */
static void nobody_connects_to_us(const struct ipck_scheme *sc, const char *url, bool name_it)
{
	char nu[PATH_MAX + 64];
	snprintf(nu, sizeof(nu), "%s", url_for(sc, url, false, name_it, 0));
	struct peer p = {.url = nu};
	ipck_chan *l, *s = NULL;
	CHECK_OK(ipck_open(&l, url_for(sc, url, true, name_it, NOBODY), IPCK_LISTEN));
	if (!l)
		return;
	pid_t pid = spawn(nobody_connects, &p);
	int a = ipck_accept(l, &s, name_it ? 5000 : 500);
	int st = reap(pid);
	attacks += !name_it;
	refused += !name_it && a < 0 && st == 10;
	printf("%-14s nobody connects to us%-23s its open %s, our accept %s\n", cur,
	       name_it ? " (named)" : "", st == 0 ? "ok" : st == 10 ? "refused" : "?",
	       a < 0 ? ipck_errname(a) : "ok");
	CHECK_EQ(st, name_it ? 0 : 10);
	if (name_it)
		CHECK_OK(a);
	else
		CHECK(a < 0);
	ipck_close(s);
	ipck_close(l);
}

static void user_scheme(const struct ipck_scheme *sc)
{
	char url[PATH_MAX];
	struct snap names;
	cur = sc->info.name;
	snprintf(url, sizeof(url), "%s", test_url(cur));
	CHECK_OK(snap_listener_names(url, &names));
	for (int i = 0; i < names.n; i++)
		for (int v = 0; v < 3; v++)
			squat_one(url, &names.o[i], v);
	if (!(sc->opts & OPT_PEER_UID))
		return;   /* tcp, udp: a network peer has no uid to check */
	/* A process may signal another user's only with CAP_KILL (kill(2)): a
	 * signal: channel between two users cannot exist, only the refusals do. */
	bool cross = strcmp(cur, "signal") != 0;
	connect_to_nobody(sc, url, false);
	if (cross)
		connect_to_nobody(sc, url, true);
	nobody_connects_to_us(sc, url, false);
	if (cross)
		nobody_connects_to_us(sc, url, true);
	ipck_unlink(url);
}

int main(int argc, char **argv)
{
	if (geteuid() != 0)
		check_skip("becoming another user needs root");
	setvbuf(stdout, NULL, _IOLBF, 0);
	umask(0);
	precious = snap_precious();
	REQUIRE(precious);
	CHECK_SYS(chmod(test_dir(), 0777));
	for (size_t i = 0; ipck__schemes[i]; i++)
		if (!(ipck__schemes[i]->info.caps & IPCK_CAP_PAIR_ONLY) &&
		    scheme_wanted(ipck__schemes[i]->info.name, argc, argv))
			user_scheme(ipck__schemes[i]);
	CHECK_SYS(chmod(test_dir(), 0700));
	unlink(precious);
	printf("%d attacks by another user, %d refused with nothing moved\n", attacks, refused);
	CHECK_EQ(refused, attacks);
	check_exit();
}
