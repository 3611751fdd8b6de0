/*
 * ls.c - ipckit ls: every IPC object, of every mechanism, with the processes
 * holding it.  The library (ipck_list) finds them; this file only filters by
 * the options and formats: an aligned table for people, or --json, one array
 * of objects whose fields have the same names as the table's columns.
 */
#include "cli.h"
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One value of one object, before it is shown as text or JSON. */
struct cell {
	enum { V_NONE, V_INT, V_UINT, V_STR, V_BOOL, V_HOLDERS, V_PIDS } t;
	enum { S_PLAIN, S_HEX, S_SIZE, S_TIME, S_MODE } show;   /* text form of a number */
	long long i;
	unsigned long long u;
	const char *s;
	bool b;
};

struct col {
	const char *name;   /* JSON field and -o name */
	const char *head;   /* table header */
	void (*get)(const struct ipck_obj *o, struct cell *c);
	bool right;         /* a number: aligned right */
};

#define NUM(f, v, sh) do { if (o->fields & (f)) { c->t = V_INT; c->i = (long long)(v); c->show = (sh); } } while (0)
#define UNUM(f, v, sh) do { if (o->fields & (f)) { c->t = V_UINT; c->u = (v); c->show = (sh); } } while (0)
#define STR(v) do { if ((v) && *(v)) { c->t = V_STR; c->s = (v); } } while (0)

static const char *user_name(uid_t uid)
{
	static uid_t last = (uid_t)-1;
	static char name[64];
	if (uid != last) {
		struct passwd *pw = getpwuid(uid);
		if (pw)
			snprintf(name, sizeof(name), "%s", pw->pw_name);
		else
			snprintf(name, sizeof(name), "%u", (unsigned)uid);
		last = uid;
	}
	return name;
}

static void g_kind(const struct ipck_obj *o, struct cell *c) { c->t = V_STR; c->s = ipck_kind_name(o->kind); }
static void g_id(const struct ipck_obj *o, struct cell *c) { NUM(IPCK_F_ID, o->id, S_PLAIN); }
static void g_key(const struct ipck_obj *o, struct cell *c) { NUM(IPCK_F_KEY, o->key, S_HEX); }
static void g_name(const struct ipck_obj *o, struct cell *c) { STR(o->name); }
static void g_uid(const struct ipck_obj *o, struct cell *c) { NUM(IPCK_F_UID, o->uid, S_PLAIN); }
static void g_mode(const struct ipck_obj *o, struct cell *c) { NUM(IPCK_F_MODE, o->mode, S_MODE); }
static void g_size(const struct ipck_obj *o, struct cell *c) { UNUM(IPCK_F_SIZE, o->size, S_SIZE); }
static void g_nattch(const struct ipck_obj *o, struct cell *c) { NUM(IPCK_F_NATTCH, o->nattch, S_PLAIN); }
static void g_cpid(const struct ipck_obj *o, struct cell *c) { NUM(IPCK_F_CPID, o->cpid, S_PLAIN); }
static void g_lpid(const struct ipck_obj *o, struct cell *c) { NUM(IPCK_F_LPID, o->lpid, S_PLAIN); }
static void g_msgs(const struct ipck_obj *o, struct cell *c) { NUM(IPCK_F_MESSAGES, o->messages, S_PLAIN); }
static void g_bytes(const struct ipck_obj *o, struct cell *c) { UNUM(IPCK_F_BYTES, o->bytes, S_SIZE); }
static void g_nsems(const struct ipck_obj *o, struct cell *c) { NUM(IPCK_F_NSEMS, o->nsems, S_PLAIN); }
static void g_value(const struct ipck_obj *o, struct cell *c) { NUM(IPCK_F_VALUE, o->value, S_PLAIN); }
static void g_ctime(const struct ipck_obj *o, struct cell *c) { NUM(IPCK_F_CTIME, o->ctime, S_TIME); }
static void g_mtime(const struct ipck_obj *o, struct cell *c) { NUM(IPCK_F_MTIME, o->mtime, S_TIME); }
static void g_type(const struct ipck_obj *o, struct cell *c) { STR(o->type); }
static void g_state(const struct ipck_obj *o, struct cell *c) { STR(o->state); }
static void g_scheme(const struct ipck_obj *o, struct cell *c) { STR(o->scheme); }
static void g_url(const struct ipck_obj *o, struct cell *c) { STR(o->url); }
static void g_stale(const struct ipck_obj *o, struct cell *c) { c->t = V_BOOL; c->b = o->stale; }
static void g_deleted(const struct ipck_obj *o, struct cell *c) { c->t = V_BOOL; c->b = o->deleted; }

static void g_user(const struct ipck_obj *o, struct cell *c)
{
	if (o->fields & IPCK_F_UID) {
		c->t = V_STR;
		c->s = user_name(o->uid);
	}
}

static void g_holders(const struct ipck_obj *o, struct cell *c)
{
	if (o->fields & IPCK_F_HOLDERS)
		c->t = V_HOLDERS;
}

static void g_pids(const struct ipck_obj *o, struct cell *c)
{
	if (o->fields & IPCK_F_PIDS)
		c->t = V_PIDS;
}

static void g_alive(const struct ipck_obj *o, struct cell *c)
{
	if (o->kind == IPCK_KIND_CHANNEL) {
		c->t = V_BOOL;
		c->b = o->alive;
	}
}

static const struct col cols[] = {
	{"kind", "KIND", g_kind, 0},       {"id", "ID", g_id, 1},          {"key", "KEY", g_key, 0},
	{"name", "NAME", g_name, 0},       {"uid", "UID", g_uid, 1},       {"user", "USER", g_user, 0},
	{"mode", "MODE", g_mode, 0},       {"size", "SIZE", g_size, 1},    {"nattch", "NATTCH", g_nattch, 1},
	{"cpid", "CPID", g_cpid, 1},       {"lpid", "LPID", g_lpid, 1},    {"messages", "MSGS", g_msgs, 1},
	{"bytes", "BYTES", g_bytes, 1},    {"nsems", "NSEMS", g_nsems, 1}, {"value", "VALUE", g_value, 1},
	{"ctime", "CTIME", g_ctime, 0},    {"mtime", "MTIME", g_mtime, 0}, {"type", "TYPE", g_type, 0},
	{"state", "STATE", g_state, 0},    {"scheme", "SCHEME", g_scheme, 0}, {"pids", "PIDS", g_pids, 0},
	{"alive", "ALIVE", g_alive, 0},    {"stale", "STALE", g_stale, 0}, {"deleted", "DELETED", g_deleted, 0},
	{"url", "URL", g_url, 0},          {"holders", "HOLDERS", g_holders, 0},
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))
static const char default_cols[] = "kind,id,key,name,user,mode,size,nattch,messages,state,stale,holders";

/* ---- text --------------------------------------------------------------- */

static const char *how_text(unsigned how)
{
	if (how & IPCK_HOLD_LAST)
		return (how & 3) == 3 ? "last-rw" : (how & IPCK_HOLD_READ) ? "last-r" :
		       (how & IPCK_HOLD_WRITE) ? "last-w" : "last";
	return (how & IPCK_HOLD_PEER) ? "peer" : (how & IPCK_HOLD_MAP) && !(how & 3) ? "map" :
	       (how & 3) == 3 ? "rw" : (how & IPCK_HOLD_READ) ? "r" : (how & IPCK_HOLD_WRITE) ? "w" : "";
}

/* "123/cat,456/sleep(w)" into a malloc'd string. */
static char *holders_text(const struct ipck_obj *o)
{
	size_t cap = 32 * (o->nholders + 1);
	char *s = malloc(cap), *p = s;
	if (!s)
		return NULL;
	*p = '\0';
	for (size_t i = 0; i < o->nholders; i++) {
		const struct ipck_holder *h = &o->holders[i];
		const char *how = how_text(h->how);
		p += snprintf(p, cap - (size_t)(p - s), "%s%d/%s%s%s%s", i ? "," : "", (int)h->pid,
			      h->comm, *how ? "(" : "", how, *how ? ")" : "");
	}
	return s;
}

static void num_text(const struct cell *c, char *buf, size_t cap)
{
	char h[16];
	long long v = c->t == V_INT ? c->i : (long long)c->u;
	if (c->show == S_HEX) {
		snprintf(buf, cap, "0x%08x", (unsigned)v);
	} else if (c->show == S_MODE) {
		snprintf(buf, cap, "0%03o", (unsigned)v);
	} else if (c->show == S_SIZE) {
		snprintf(buf, cap, "%s", cli_human(c->t == V_INT ? (unsigned long long)c->i : c->u, h));
	} else if (c->show == S_TIME) {
		time_t t = (time_t)v;
		struct tm tm;
		if (!v || !localtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M", &tm))
			snprintf(buf, cap, "-");
	} else if (c->t == V_INT) {
		snprintf(buf, cap, "%lld", c->i);
	} else {
		snprintf(buf, cap, "%llu", c->u);
	}
}

static int cell_text(struct cli_table *t, const struct ipck_obj *o, const struct col *col)
{
	struct cell c = {0};
	char buf[64] = "";
	col->get(o, &c);
	if (c.t == V_HOLDERS) {
		char *s = holders_text(o);
		int r = s ? cli_table_cell(t, s) : -1;
		free(s);
		return r;
	}
	if (c.t == V_STR)
		return cli_table_cell(t, c.s);
	if (c.t == V_BOOL)
		snprintf(buf, sizeof(buf), "%s", c.b ? "yes" : "no");
	else if (c.t == V_PIDS)
		snprintf(buf, sizeof(buf), "%d,%d", (int)o->pids[0], (int)o->pids[1]);
	else if (c.t != V_NONE)
		num_text(&c, buf, sizeof(buf));
	return cli_table_cell(t, buf);
}

/* ---- JSON --------------------------------------------------------------- */

static void holders_json(FILE *f, const struct ipck_obj *o)
{
	fputc('[', f);
	for (size_t i = 0; i < o->nholders; i++) {
		const struct ipck_holder *h = &o->holders[i];
		fprintf(f, "%s{\"pid\":%d,\"command\":", i ? "," : "", (int)h->pid);
		cli_json_str(f, h->comm);
		if (h->fd >= 0)
			fprintf(f, ",\"fd\":%d", h->fd);
		fprintf(f, ",\"how\":\"%s\"}", how_text(h->how));
	}
	fputc(']', f);
}

static void cell_json(FILE *f, const struct ipck_obj *o, const struct col *col, bool *first)
{
	struct cell c = {0};
	col->get(o, &c);
	if (c.t == V_NONE)
		return;
	fprintf(f, "%s\"%s\":", *first ? "" : ",", col->name);
	*first = false;
	if (c.t == V_INT)
		fprintf(f, "%lld", c.i);
	else if (c.t == V_UINT)
		fprintf(f, "%llu", c.u);
	else if (c.t == V_STR)
		cli_json_str(f, c.s);
	else if (c.t == V_BOOL)
		fputs(c.b ? "true" : "false", f);
	else if (c.t == V_PIDS)
		fprintf(f, "[%d,%d]", (int)o->pids[0], (int)o->pids[1]);
	else
		holders_json(f, o);
}

/* ---- the command -------------------------------------------------------- */

struct ls {
	const struct col *sel[NCOLS];
	size_t nsel;
	bool json;
	size_t count;
	struct cli_table table;
};

static int on_obj(const struct ipck_obj *o, void *arg)
{
	struct ls *ls = arg;
	if (ls->json) {
		bool first = true;
		fputs(ls->count ? ",\n{" : "\n{", stdout);
		for (size_t i = 0; i < ls->nsel; i++)
			cell_json(stdout, o, ls->sel[i], &first);
		fputc('}', stdout);
	} else {
		for (size_t i = 0; i < ls->nsel; i++)
			if (cell_text(&ls->table, o, ls->sel[i]) < 0)
				return -ENOMEM;
	}
	ls->count++;
	return 0;
}

static int pick_columns(struct ls *ls, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	if (!copy)
		return cli_err(-ENOMEM, "columns");
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t i = 0;
		while (i < NCOLS && strcmp(cols[i].name, w))
			i++;
		if (i == NCOLS || ls->nsel == NCOLS) {
			int r = cli_usage("-o: no column '%s' (columns: see --help)", w);
			free(copy);
			return r;
		}
		ls->sel[ls->nsel++] = &cols[i];
	}
	free(copy);
	return ls->nsel ? 0 : cli_usage("-o: no columns");
}

static void usage(void)
{
	printf("usage: ipckit ls [KIND...] [--json] [-o COLUMNS] [--stale] [--user U] [--name PATTERN]\n"
	       "       ipckit ls [KIND...] --graph[=svg] [--stale] [--user U] [--name PATTERN]\n\n"
	       "List every IPC object: System V and POSIX queues, shared memory and semaphores,\n"
	       "FIFOs, Unix sockets, pipes, socket pairs and ipckit channels, with the processes\n"
	       "that hold each one open or mapped.\n\n"
	       "  KIND           svshm svsem svmsg pshm psem pmsg fifo unix pipe socketpair channel,\n"
	       "                 or sysv (the first three), posix (the next three); default: all\n"
	       "  --json         one JSON array of objects; numbers as numbers, times in epoch seconds\n"
	       "  -o, --output C comma-separated columns, for the table and --json alike\n"
	       "                 (table default: %s;\n"
	       "                 --json default: every field that applies)\n"
	       "  --stale        only stale objects: no live holder and the creator is dead\n"
	       "                 (exactly what 'ipckit rm --stale' removes)\n"
	       "  --user U       only objects owned by user U (name or uid)\n"
	       "  --name PATTERN only objects whose name matches the shell PATTERN\n"
	       "                 (System V: the key, as 0x%%08x)\n"
	       "  --graph[=svg]  who talks to whom: processes and the objects between them as\n"
	       "                 Graphviz DOT, or as SVG through dot -Tsvg (Debian's graphviz)\n\n"
	       "Columns:", default_cols);
	for (size_t i = 0; i < NCOLS; i++)
		printf("%s%s", i % 13 ? " " : "\n  ", cols[i].name);
	printf("\n\nHolders show as PID/COMMAND(how): r, w, rw (descriptor), map (mapping), peer\n"
	       "(a process holding the other end of a socket); System V queues and semaphore\n"
	       "sets, which nobody holds open, show the live processes the kernel recorded as\n"
	       "the last to use them: last-w (msgsnd), last-r (msgrcv), last (semop).\n");
}

static void notes(unsigned missing)
{
	if (missing & IPCK_MISSING_PMSG)
		fprintf(stderr, "%s: note: POSIX queues: only those held open are listed (no mqueue "
			"mount, and mounting one needs CAP_SYS_ADMIN)\n", cli_prog);
	if (missing & IPCK_MISSING_PROCS)
		fprintf(stderr, "%s: note: some processes could not be read (another user's, or more "
			"privileged): what they hold open is not shown\n", cli_prog);
	if (missing & IPCK_MISSING_PEERS)
		fprintf(stderr, "%s: note: no sock_diag: socket pairs and socket peers are not shown\n",
			cli_prog);
}

/* Shared with rm: KIND words, --user, --name into opts.  0, or an exit status. */
int cli_list_filter(struct ipck_list_opts *op, const char *word, const char *user)
{
	if (user) {
		long long v;
		struct passwd *pw = getpwnam(user);
		if (pw)
			op->uid = pw->pw_uid;
		else if (cli_int(user, 0, 0xfffffffe, &v))
			op->uid = (uid_t)v;
		else
			return cli_usage("--user: no user '%s'", user);
		op->flags |= IPCK_LIST_UID;
	}
	if (!word)
		return 0;
	if (!strcmp(word, "sysv")) {
		op->kinds |= IPCK_KIND_BIT(IPCK_KIND_SVSHM) | IPCK_KIND_BIT(IPCK_KIND_SVSEM) |
			     IPCK_KIND_BIT(IPCK_KIND_SVMSG);
		return 0;
	}
	if (!strcmp(word, "posix")) {
		op->kinds |= IPCK_KIND_BIT(IPCK_KIND_PSHM) | IPCK_KIND_BIT(IPCK_KIND_PSEM) |
			     IPCK_KIND_BIT(IPCK_KIND_PMSG);
		return 0;
	}
	int k = ipck_kind_find(word);
	if (k < 0)
		return cli_usage("no kind '%s'", word);
	op->kinds |= IPCK_KIND_BIT(k);
	return 0;
}

static int run(struct ls *ls, struct ipck_list_opts *op)
{
	bool right[NCOLS];
	cli_table_init(&ls->table, ls->nsel);
	for (size_t i = 0; i < ls->nsel; i++) {
		cli_table_cell(&ls->table, ls->sel[i]->head);
		right[i] = ls->sel[i]->right;
	}
	if (ls->json)
		fputc('[', stdout);
	int r = ipck_list(op, on_obj, ls);
	if (ls->json)
		fputs(ls->count ? "\n]\n" : "]\n", stdout);
	else if (r >= 0)
		cli_table_print(stdout, &ls->table, right);
	cli_table_free(&ls->table);
	fflush(stdout);
	notes(op->missing);
	if (r < 0)
		return cli_err(r, "listing objects");
	return fflush(stdout) == 0 ? 0 : cli_err(-EIO, "writing the listing");
}

int cmd_ls(int argc, char **argv)
{
	static const struct option lo[] = {
		{"json", no_argument, NULL, 'j'}, {"output", required_argument, NULL, 'o'},
		{"stale", no_argument, NULL, 's'}, {"user", required_argument, NULL, 'u'},
		{"name", required_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'},
		{"graph", optional_argument, NULL, 'g'}, {NULL, 0, NULL, 0},
	};
	struct ls ls = {0};
	struct ipck_list_opts op = {0};
	const char *colspec = NULL, *graph = NULL;
	int c, r;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jo:su:n:h", lo, NULL)) != -1) {
		switch (c) {
		case 'j': ls.json = true; break;
		case 'o': colspec = optarg; break;
		case 's': op.flags |= IPCK_LIST_STALE; break;
		case 'u': if ((r = cli_list_filter(&op, NULL, optarg))) return r; break;
		case 'n': op.name = optarg; break;
		case 'g': graph = optarg ? optarg : "dot"; break;
		case 'h': usage(); return 0;
		default: return cli_usage("bad option");
		}
	}
	for (int i = optind; i < argc; i++)
		if ((r = cli_list_filter(&op, argv[i], NULL)))
			return r;
	if (graph && (ls.json || colspec))
		return cli_usage("--graph goes with neither --json nor -o");
	if (graph) {
		r = cli_graph(&op, graph);
		notes(op.missing);
		return r;
	}
	if (!colspec && ls.json)
		for (size_t i = 0; i < NCOLS; i++)   /* every field that applies */
			ls.sel[ls.nsel++] = &cols[i];
	else if ((r = pick_columns(&ls, colspec ? colspec : default_cols)))
		return r;
	return run(&ls, &op);
}
