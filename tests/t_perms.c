/*
 * t_perms.c - what every scheme creates, and what it refuses to touch.
 * Under umask 0, for every named scheme:
 *   - every object a listener and one connection make (found by snapshots
 *     of the test's directory, its POSIX names and System V keys) is 0600
 *     and ours, or exactly the mode= given; all are gone after close;
 *   - each name the listener makes, pre-created first as the same kind of
 *     object (0666), as a symlink to a file of ours, or as an object of
 *     another type: the listen fails, and afterwards everything is as it
 *     was (same objects, inodes and ids, modes, the symlink's target and its
 *     contents), nothing else made;
 *   - a symlink to a live listener's path: connecting through it refuses.
 * The same done by another user is t_perms_user (root only).
 */
#include "check.h"
#include "internal.h"
#include "objsnap.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *cur;
static int squats, refused;   /* squatted names; listens refused with nothing moved */

static int client(void *url)
{
	ipck_chan *c;
	char b[4];
	if (ipck_open(&c, url, 0) < 0)
		return 1;
	int ok = ipck_send(c, "hi", 2, 5000) == 2 && ipck_recv(c, b, sizeof(b), 5000) == 2;
	ipck_close(c);
	return !ok;
}

/* The objects of a listener and of one connection: all 0600 (or mode), ours, then gone. */
static void check_made(const char *url, unsigned mode, struct snap *lnames)
{
	struct snap before, lis, mid, made, after, left;
	ipck_chan *l, *s = NULL;
	char b[4];
	CHECK_OK(snap_take(&before));
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	if (!l)
		return;
	CHECK_OK(snap_take(&lis));
	snap_new(&before, &lis, lnames);
	pid_t pid = spawn(client, (void *)url);
	CHECK_OK(ipck_accept(l, &s, 5000));
	if (s) {
		CHECK_EQ(ipck_recv(s, b, sizeof(b), 5000), 2);
		CHECK_OK(snap_take(&mid));
		CHECK_EQ(ipck_send(s, "ok", 2, 5000), 2);
	}
	CHECK_EQ(reap(pid), 0);
	snap_new(&before, s ? &mid : &lis, &made);
	for (int i = 0; i < made.n; i++) {
		const struct snapobj *o = &made.o[i];
		bool ok = o->uid == geteuid() && (o->mode == mode || (o->kind == SNAP_LINK));
		printf("%-14s made  %-60s %s\n", cur, snap_str(o), ok ? "ok" : fmt("WANT %04o", mode));
		if (!ok)
			check_fail(__FILE__, __LINE__, "%s: %s", cur, snap_str(o));
	}
	ipck_close(s);
	CHECK_OK(ipck_close(l));
	CHECK_OK(snap_take(&after));
	if (snap_new(&before, &after, &left))
		check_fail(__FILE__, __LINE__, "%s: %s left after close", cur, snap_str(&left.o[0]));
}

static const char *precious;   /* a file of ours that symlinks point to */

/* Plant one squatter at o; 0 when planted, -1 when this variant does not apply. */
static int plant(const struct snapobj *o, int variant, const char **what)
{
	static const int other[] = {[SNAP_FIFO - SNAP_FIFO] = SNAP_FILE,
				    [SNAP_SOCK - SNAP_FIFO] = SNAP_FIFO,
				    [SNAP_FILE - SNAP_FIFO] = SNAP_FIFO};
	const char *path = snap_is_path(o) ? o->name : snap_posix_path(o);
	switch (variant) {
	case 0:
		*what = "same kind, 0666";
		CHECK_SYS(snap_make(o->kind, o, 0666));
		return 0;
	case 1:
		*what = "symlink to our file";
		if (!path)
			return -1;
		CHECK_SYS(symlink(precious, path));
		return 0;
	default:
		*what = "another type";
		if (!snap_is_path(o) || o->kind > SNAP_FILE)
			return -1;
		CHECK_SYS(snap_make(other[o->kind - SNAP_FIFO], o, 0600));
		return 0;
	}
}

static void unplant(const struct snapobj *o, int variant)
{
	if (variant == 1 && !snap_is_path(o))
		unlink(snap_posix_path(o));
	else
		snap_remove(variant == 0 || !snap_is_path(o) ? o->kind : SNAP_FILE, o);
}

/* Each name the listener makes, squatted three ways: the listen fails, nothing moves. */
static void check_squats(const char *url, const struct snap *lnames)
{
	for (int i = 0; i < lnames->n; i++) {
		const struct snapobj *o = &lnames->o[i];
		for (int v = 0; v < 3; v++) {
			struct snap s1, s2;
			const char *what;
			ipck_chan *l = NULL;
			if (plant(o, v, &what) < 0)
				continue;
			CHECK_OK(snap_take(&s1));
			int r = ipck_open(&l, url, IPCK_LISTEN);
			CHECK_OK(snap_take(&s2));
			bool same = snap_equal(&s1, &s2), intact = snap_precious_intact();
			/* unix.c replaces a dead socket file of our own (a listener's
			 * leftover), by design; another user's it never touches. */
			bool stale = v == 0 && o->kind == SNAP_SOCK;
			printf("%-14s squat %-44s %-20s listen %-11s %s\n", cur, snap_str(o), what,
			       r < 0 ? ipck_errname(r) : "SUCCEEDED", stale && r == 0 ?
			       "a dead socket of ours: replaced" : same && intact ? "nothing moved" :
			       "SOMETHING MOVED");
			squats += !stale;
			refused += !stale && r < 0 && same && intact;
			CHECK(stale ? r == 0 : r < 0);
			CHECK(same || stale);
			CHECK(intact);
			ipck_close(l);
			unplant(o, v);
		}
	}
}

/* A symlink to a live listener's path: connecting through it is refused. */
static void check_connect_link(const struct ipck_scheme *sc, const char *url, const struct snap *lnames)
{
	const char *addr = strchr(url, ':') + 1;
	ipck_chan *l, *c = NULL, *s = NULL;
	bool at_path = false;
	for (int i = 0; i < lnames->n; i++)
		at_path |= snap_is_path(&lnames->o[i]) && !strcmp(lnames->o[i].name, addr);
	if (!at_path)
		return;
	char link[PATH_MAX + 8];
	snprintf(link, sizeof(link), "%s.lnk", addr);
	CHECK_OK(ipck_open(&l, url, IPCK_LISTEN));
	CHECK_SYS(symlink(addr, link));
	const char *via = fmt("%s:%s%s", sc->info.name, link, sc->opts & OPT_TIMEOUT ? "?timeout=300" : "");
	int r = ipck_open(&c, via, 0);
	int a = l ? ipck_accept(l, &s, 100) : 0;
	printf("%-14s connect through a symlink to the listener: %s\n", cur,
	       r < 0 ? ipck_errname(r) : "CONNECTED");
	CHECK(r < 0);
	CHECK_EQ(a, -ETIMEDOUT);
	ipck_close(c);
	ipck_close(s);
	ipck_close(l);
	unlink(link);
}

static void perms_scheme(const struct ipck_scheme *sc)
{
	char url[PATH_MAX];
	struct snap lnames, unused;
	cur = sc->info.name;
	snprintf(url, sizeof(url), "%s", test_url(cur));
	check_made(url, 0600, &lnames);
	if (!lnames.n)
		printf("%-14s makes no named object\n", cur);
	if (sc->opts & OPT_MODE)
		check_made(fmt("%s?mode=0640", url), 0640, &unused);
	check_squats(url, &lnames);
	check_connect_link(sc, url, &lnames);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	umask(0);
	precious = snap_precious();
	REQUIRE(precious);
	for (size_t i = 0; ipck__schemes[i]; i++)
		if (!(ipck__schemes[i]->info.caps & IPCK_CAP_PAIR_ONLY) &&
		    scheme_wanted(ipck__schemes[i]->info.name, argc, argv))
			perms_scheme(ipck__schemes[i]);
	unlink(precious);
	printf("%d squatted names (ours), %d listens refused with nothing moved\n", squats, refused);
	check_exit();
}
