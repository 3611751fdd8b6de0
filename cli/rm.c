/*
 * rm.c - ipckit rm: remove IPC objects named by URL, or every stale one.
 * The library checks and removes (ipck_remove); --stale removes exactly what
 * `ipckit ls --stale` lists with the same filters.  Nothing is removed
 * without a target or --stale, and another user's object needs --force.
 */
#include "cli.h"
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

struct rm {
	unsigned flags;      /* IPCK_RM_* */
	int failed;
	char **stale;        /* URLs of the stale objects found */
	size_t nstale, cap;
	int unnamed;         /* stale but without a URL (unlinked, still held) */
};

static void usage(void)
{
	printf("usage: ipckit rm TARGET... [--dry-run] [--force]\n"
	       "       ipckit rm --stale [KIND...] [--user U] [--name PATTERN] [--dry-run] [--force]\n\n"
	       "Remove IPC objects.  A TARGET is a URL:\n"
	       "  svshm:id=N svshm:KEY  svsem:id=N svsem:KEY  svmsg:id=N svmsg:KEY\n"
	       "  pshm:/name  psem:/name  pmsg:/name  fifo:/path  unix:/path\n"
	       "(KEY as 0x7e120000 or decimal; 'ipckit ls -o url' shows each object's).\n\n"
	       "  --stale     remove every stale object: exactly what 'ipckit ls --stale' lists\n"
	       "              with the same KIND, --user and --name filters\n"
	       "  --dry-run   say what would be removed, remove nothing\n"
	       "  --force     also remove another user's objects, and a socket file that a\n"
	       "              process still listens on\n\n"
	       "Each removal prints one line; a failure names the target and the error.\n"
	       "Exit status: 0 all removed, 1 something failed, 2 bad usage.\n");
}

static void remove_one(struct rm *rm, const char *url)
{
	int r = ipck_remove(url, rm->flags);
	if (!r) {
		printf("%s %s\n", (rm->flags & IPCK_RM_DRY_RUN) ? "would remove" : "removed", url);
		return;
	}
	rm->failed++;
	if (r == -EACCES && !(rm->flags & IPCK_RM_FORCE))
		cli_err(r, "%s: another user's object (--force removes it)", url);
	else if (r == -EBUSY)
		cli_err(r, "%s: a process listens on it (--force removes it)", url);
	else if (r == -ENOTSUP)
		cli_err(r, "%s: has no name to remove (its last holder's close frees it)", url);
	else
		cli_err(r, "%s", url);
}

static int on_stale(const struct ipck_obj *o, void *arg)
{
	struct rm *rm = arg;
	if (!o->url) {
		rm->unnamed += o->kind != IPCK_KIND_CHANNEL;   /* a channel's members are listed */
		return 0;
	}
	if (rm->nstale == rm->cap) {
		size_t cap = rm->cap ? rm->cap * 2 : 64;
		char **v = realloc(rm->stale, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		rm->stale = v;
		rm->cap = cap;
	}
	if (!(rm->stale[rm->nstale] = strdup(o->url)))
		return -ENOMEM;
	rm->nstale++;
	return 0;
}

/* List first, then remove: the listing is not disturbed by the removals. */
static void remove_stale(struct rm *rm, struct ipck_list_opts *op)
{
	op->flags |= IPCK_LIST_STALE;
	int r = ipck_list(op, on_stale, rm);
	if (r < 0) {
		rm->failed++;
		cli_err(r, "listing stale objects");
	} else {
		for (size_t i = 0; i < rm->nstale; i++)
			remove_one(rm, rm->stale[i]);
	}
	if (rm->unnamed)
		fprintf(stderr, "%s: note: %d stale object(s) have no name left to remove\n",
			cli_prog, rm->unnamed);
	for (size_t i = 0; i < rm->nstale; i++)
		free(rm->stale[i]);
	free(rm->stale);
}

int cmd_rm(int argc, char **argv)
{
	static const struct option lo[] = {
		{"stale", no_argument, NULL, 's'}, {"dry-run", no_argument, NULL, 'n'},
		{"force", no_argument, NULL, 'f'}, {"user", required_argument, NULL, 'u'},
		{"name", required_argument, NULL, 'N'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct rm rm = {0};
	struct ipck_list_opts op = {0};
	bool stale = false;
	const char *user = NULL;
	int c, r;
	optind = 1;
	while ((c = getopt_long(argc, argv, "snfu:N:h", lo, NULL)) != -1) {
		switch (c) {
		case 's': stale = true; break;
		case 'n': rm.flags |= IPCK_RM_DRY_RUN; break;
		case 'f': rm.flags |= IPCK_RM_FORCE; break;
		case 'u': user = optarg; break;
		case 'N': op.name = optarg; break;
		case 'h': usage(); return 0;
		default: return cli_usage("bad option");
		}
	}
	if (optind == argc && !stale)
		return cli_usage("nothing to remove: give a TARGET URL, or --stale");
	if (!stale && (user || op.name))
		return cli_usage("--user and --name select stale objects: use them with --stale");
	/* With --stale, bare kind words filter; everything else is a target.
	 * Every word is checked before anything is removed. */
	for (int i = optind; i < argc; i++) {
		if (strchr(argv[i], ':'))
			continue;
		if (!stale)
			return cli_usage("'%s' is not a URL (svshm:id=N, pshm:/name...)", argv[i]);
		if ((r = cli_list_filter(&op, argv[i], NULL)))
			return r;
	}
	if (stale && (r = cli_list_filter(&op, NULL, user)))
		return r;
	for (int i = optind; i < argc; i++)
		if (strchr(argv[i], ':'))
			remove_one(&rm, argv[i]);
	if (stale)
		remove_stale(&rm, &op);
	return rm.failed ? 1 : 0;
}
