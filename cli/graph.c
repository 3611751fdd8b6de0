/*
 * graph.c - ipckit ls --graph: who talks to whom, as Graphviz DOT.
 *
 * The listing (ipck_list) gives every object with its holders; this file
 * only draws it.  A box per process (pid and command), an ellipse per
 * object (kind, and name or key), and an edge from the object to each
 * process holding it, pointing the way the data goes: writer -> object ->
 * reader, both ways for read-write descriptors and mappings.  A pipe with
 * one writing and one reading process, and a connected socket pair with a
 * process at each end, is one edge between the two processes.  A Unix
 * socket's edges say server or client, a channel's which side listened
 * and which connected; System V queues and sets, which nobody holds open,
 * get edges to the processes the kernel recorded as the last to use them.
 *
 * The output is the same for the same state: processes sorted by pid,
 * objects in the listing's order (kind, id, name), each one's edges by pid.
 * --graph=svg hands the DOT to Graphviz's dot(1) on its standard input.
 */
#include "cli.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct gproc {
	pid_t pid;
	char comm[16];   /* "" when no listed object told it */
};

struct graph {
	FILE *body;              /* objects and edges, written during the listing */
	char *buf;
	size_t len;
	struct gproc *procs;
	size_t nprocs, cap;
	char **ids;              /* names of named objects so far (a hash set of
	                            capids slots), to keep them unique */
	size_t nids, capids;
	bool nomem;
};

/* ---- DOT text ----------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * s inside a DOT quoted string: quotes and backslashes escaped, control
 * characters and bytes that are not UTF-8 shown as '?' (dot refuses them).
 */
static void dot_esc(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		size_t n = *p >= 0x80 ? utf8_len(p) : 1;
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f || !n)
			fputc('?', f);
		else {
			fwrite(p, 1, n, f);
			p += n - 1;
		}
	}
}

static void dot_id(FILE *f, const char *id)
{
	fputc('"', f);
	dot_esc(f, id);
	fputc('"', f);
}

/* ---- processes ---------------------------------------------------------- */

static void proc_add(struct graph *g, pid_t pid, const char *comm)
{
	if (pid <= 0)
		return;
	if (g->nprocs == g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 64;
		struct gproc *p = realloc(g->procs, ncap * sizeof(*p));
		if (!p) {
			g->nomem = true;
			return;
		}
		g->procs = p;
		g->cap = ncap;
	}
	struct gproc *p = &g->procs[g->nprocs++];
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm ? comm : "");
}

/* By pid; of the same pid, the one with a command first. */
static int cmp_proc(const void *a, const void *b)
{
	const struct gproc *x = a, *y = b;
	if (x->pid != y->pid)
		return (x->pid > y->pid) - (x->pid < y->pid);
	return (y->comm[0] != 0) - (x->comm[0] != 0);
}

static void procs_print(FILE *f, struct graph *g)
{
	if (g->nprocs)
		qsort(g->procs, g->nprocs, sizeof(*g->procs), cmp_proc);
	for (size_t i = 0; i < g->nprocs; i++) {
		const struct gproc *p = &g->procs[i];
		if (i && p->pid == g->procs[i - 1].pid)
			continue;
		fprintf(f, "\t\"p%d\" [shape=box, label=\"%d", (int)p->pid, (int)p->pid);
		if (p->comm[0]) {
			fputs("\\n", f);
			dot_esc(f, p->comm);
		}
		fputs("\"];\n", f);
	}
}

/* ---- objects ------------------------------------------------------------ */

static bool is_sysv(int kind)
{
	return kind == IPCK_KIND_SVSHM || kind == IPCK_KIND_SVSEM || kind == IPCK_KIND_SVMSG;
}

/* ---- names of named objects: an open-addressing hash set -------------- */

static size_t id_hash(const char *s)
{
	size_t h = 14695981039346656037ull;   /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The slot of id, or the empty slot where it would go. */
static char **id_slot(const struct graph *g, const char *id)
{
	size_t mask = g->capids - 1, i = id_hash(id) & mask;
	while (g->ids[i] && strcmp(g->ids[i], id))
		i = (i + 1) & mask;
	return &g->ids[i];
}

/* Keep the table at most half full. */
static bool ids_room(struct graph *g)
{
	if (2 * (g->nids + 1) <= g->capids)
		return true;
	struct graph n = {.capids = g->capids ? g->capids * 2 : 256};
	if (!(n.ids = calloc(n.capids, sizeof(*n.ids))))
		return false;
	for (size_t i = 0; i < g->capids; i++)
		if (g->ids[i])
			*id_slot(&n, g->ids[i]) = g->ids[i];
	free(g->ids);
	g->ids = n.ids;
	g->capids = n.capids;
	return true;
}

/* id, or "id#2", "id#3"... when it is taken (a name deleted and made again). */
static char *id_unique(struct graph *g, char *id)
{
	if (!ids_room(g)) {
		free(id);
		return NULL;
	}
	char *cand = id;
	for (unsigned k = 2; cand && *id_slot(g, cand); k++) {
		if (cand != id)
			free(cand);
		if (asprintf(&cand, "%s#%u", id, k) < 0)
			cand = NULL;
	}
	if (cand != id)
		free(id);
	if (cand) {
		*id_slot(g, cand) = cand;
		g->nids++;
	}
	return cand;
}

/* System V ids and pipe and socket inodes name one object each; names may repeat. */
static bool numbered(int kind)
{
	return is_sysv(kind) || kind == IPCK_KIND_PIPE || kind == IPCK_KIND_SOCKETPAIR;
}

/*
 * "svmsg:id=5", "pipe:1234", "pshm:/name": the object's node name, malloc'd
 * when numbered(), else kept in g.
 */
static char *obj_id(struct graph *g, const struct ipck_obj *o)
{
	const char *kind = ipck_kind_name(o->kind);
	char *id = NULL;
	int r;
	if (numbered(o->kind)) {
		r = asprintf(&id, is_sysv(o->kind) ? "%s:id=%lld" : "%s:%lld", kind, o->id);
		return r < 0 ? NULL : id;
	}
	r = asprintf(&id, "%s:%s", kind, o->name);
	return r < 0 ? NULL : id_unique(g, id);
}

/* The node: kind, then the name or key, then "(deleted)". */
static void obj_node(FILE *f, const char *id, const struct ipck_obj *o)
{
	fputc('\t', f);
	dot_id(f, id);
	fprintf(f, " [%slabel=\"%s\\n", o->kind == IPCK_KIND_CHANNEL ? "shape=hexagon, " : "",
		ipck_kind_name(o->kind));
	if (is_sysv(o->kind) && (uint32_t)o->key)
		fprintf(f, "key 0x%08x", (unsigned)(uint32_t)o->key);
	else if (is_sysv(o->kind))
		fprintf(f, "id %lld (private)", o->id);
	else if (o->kind == IPCK_KIND_PIPE || o->kind == IPCK_KIND_SOCKETPAIR)
		fprintf(f, "%lld", o->id);
	else
		dot_esc(f, o->name);
	fprintf(f, "%s\"];\n", o->deleted ? "\\n(deleted)" : "");
}

enum { TO_OBJ, TO_PROC, BOTH };

static void edge(FILE *f, const char *id, pid_t pid, int dir, const char *label)
{
	fputc('\t', f);
	if (dir == TO_PROC) {
		dot_id(f, id);
		fprintf(f, " -> \"p%d\"", (int)pid);
	} else {
		fprintf(f, "\"p%d\" -> ", (int)pid);
		dot_id(f, id);
	}
	fprintf(f, " [label=\"%s\"%s];\n", label, dir == BOTH ? ", dir=both" : "");
}

/* A holder's edge: its direction and label from how it holds the object. */
static void holder_edge(FILE *f, const char *id, const struct ipck_obj *o,
			const struct ipck_holder *h)
{
	unsigned rw = h->how & (IPCK_HOLD_READ | IPCK_HOLD_WRITE);
	int dir = rw == IPCK_HOLD_WRITE ? TO_OBJ : rw == IPCK_HOLD_READ ? TO_PROC : BOTH;
	bool map = h->how & IPCK_HOLD_MAP;
	const char *label = rw == 3 ? (map ? "rw+map" : "rw") : rw == IPCK_HOLD_READ ? "r" :
			    rw == IPCK_HOLD_WRITE ? "w" : map ? "map" : "";
	if (h->how & IPCK_HOLD_LAST)
		label = rw == 3 ? "last send+recv" : rw == IPCK_HOLD_READ ? "last recv" :
			rw == IPCK_HOLD_WRITE ? "last send" : "last op";
	else if (o->kind == IPCK_KIND_UNIX)
		dir = BOTH, label = h->how & IPCK_HOLD_PEER ? "client" : "server";
	else if (h->how & IPCK_HOLD_PEER)
		dir = BOTH, label = "peer";
	edge(f, id, h->pid, dir, label);
}

/*
 * A pipe with one writing and one reading process, a connected socket pair
 * with two: one edge between them.  false when it needs a node.
 */
static bool direct_edge(FILE *f, const struct ipck_obj *o)
{
	if (o->nholders != 2)
		return false;
	const struct ipck_holder *a = &o->holders[0], *b = &o->holders[1];
	unsigned ra = a->how & 3, rb = b->how & 3;
	const char *kind = ipck_kind_name(o->kind);
	if (o->kind == IPCK_KIND_PIPE && ra + rb == 3 && ra && rb) {
		if (ra == IPCK_HOLD_READ) {
			const struct ipck_holder *t = a;
			a = b;
			b = t;
		}
		fprintf(f, "\t\"p%d\" -> \"p%d\" [label=\"%s %lld\"];\n", (int)a->pid, (int)b->pid,
			kind, o->id);
		return true;
	}
	if (o->kind == IPCK_KIND_SOCKETPAIR && !strcmp(o->state, "connected")) {
		fprintf(f, "\t\"p%d\" -> \"p%d\" [label=\"%s %lld\", dir=both];\n", (int)a->pid,
			(int)b->pid, kind, o->id);
		return true;
	}
	return false;
}

static void chan_edges(FILE *f, const char *id, const struct ipck_obj *o)
{
	if (o->pids[0] > 0)
		edge(f, id, o->pids[0], BOTH, "listen");
	if (o->pids[1] > 0)
		edge(f, id, o->pids[1], BOTH, "connect");
}

static int on_obj(const struct ipck_obj *o, void *arg)
{
	struct graph *g = arg;
	for (size_t i = 0; i < o->nholders; i++)
		proc_add(g, o->holders[i].pid, o->holders[i].comm);
	if (o->kind == IPCK_KIND_CHANNEL) {
		proc_add(g, o->pids[0], NULL);
		proc_add(g, o->pids[1], NULL);
	}
	if (g->nomem)
		return -ENOMEM;
	if (direct_edge(g->body, o))
		return 0;
	char *id = obj_id(g, o);
	if (!id)
		return -ENOMEM;
	obj_node(g->body, id, o);
	if (o->kind == IPCK_KIND_CHANNEL)
		chan_edges(g->body, id, o);
	else
		for (size_t i = 0; i < o->nholders; i++)
			holder_edge(g->body, id, o, &o->holders[i]);
	if (numbered(o->kind))
		free(id);
	return 0;
}

/* ---- output ------------------------------------------------------------- */

/* The whole graph into *dot (malloc'd); 0 or a negative errno. */
static int graph_make(struct ipck_list_opts *op, char **dot, size_t *len)
{
	struct graph g = {0};
	int r = -ENOMEM;
	FILE *f = open_memstream(dot, len);
	if (!f)
		return -ENOMEM;
	g.body = open_memstream(&g.buf, &g.len);
	if (g.body) {
		r = ipck_list(op, on_obj, &g);
		if (fclose(g.body) && r >= 0)
			r = -ENOMEM;
	}
	if (r >= 0) {
		fputs("digraph ipckit {\n\trankdir=LR;\n\tnode [fontsize=10];\n"
		      "\tedge [fontsize=8];\n", f);
		procs_print(f, &g);
		fwrite(g.buf, 1, g.len, f);
		fputs("}\n", f);
	}
	if (fclose(f) && r >= 0)
		r = -ENOMEM;
	free(g.buf);
	free(g.procs);
	for (size_t i = 0; i < g.capids; i++)
		free(g.ids[i]);
	free(g.ids);
	return r < 0 ? r : 0;
}

/* dot(1) on $PATH into path; false when it is not installed. */
static bool find_dot(char *path, size_t cap)
{
	const char *env = getenv("PATH");
	char *dirs = strdup(env && *env ? env : "/usr/local/bin:/usr/bin:/bin"), *save = NULL;
	bool found = false;
	for (char *d = dirs ? strtok_r(dirs, ":", &save) : NULL; d && !found;
	     d = strtok_r(NULL, ":", &save)) {
		int n = snprintf(path, cap, "%s/dot", *d ? d : ".");
		found = n > 0 && (size_t)n < cap && access(path, X_OK) == 0;
	}
	free(dirs);
	return found;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* dot -Tsvg with the DOT on its standard input, its SVG on ours. */
static int render_svg(const char *dot, size_t len)
{
	char path[4096];
	int fd[2];
	if (!find_dot(path, sizeof(path))) {
		fprintf(stderr, "%s: dot not found: install Debian's graphviz, or use --graph for DOT\n",
			cli_prog);
		return 1;
	}
	if (pipe2(fd, O_CLOEXEC) < 0)
		return cli_err(-errno, "pipe for dot");
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return cli_err(-errno, "starting dot");
	}
	if (pid == 0) {
		if (dup2(fd[0], 0) < 0)
			_exit(127);
		execl(path, "dot", "-Tsvg", (char *)NULL);
		_exit(127);
	}
	close(fd[0]);
	signal(SIGPIPE, SIG_IGN);   /* a dot that stops reading is an error, not a kill */
	int w = write_all(fd[1], dot, len), st;
	close(fd[1]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return cli_err(-errno, "waiting for dot");
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return cli_err(0, "%s -Tsvg failed (%s %d)", path,
			       WIFEXITED(st) ? "exit" : "signal",
			       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return w ? cli_err(w, "writing to dot") : 0;
}

int cli_graph(struct ipck_list_opts *op, const char *format)
{
	bool svg = !strcmp(format, "svg");
	if (!svg && strcmp(format, "dot"))
		return cli_usage("--graph=%s: the formats are dot and svg", format);
	char *dot = NULL;
	size_t len = 0;
	int r = graph_make(op, &dot, &len);
	if (r < 0) {
		free(dot);
		return cli_err(r, "listing objects");
	}
	if (svg)
		r = render_svg(dot, len);
	else if (fwrite(dot, 1, len, stdout) != len || fflush(stdout))
		r = cli_err(-EIO, "writing the graph");
	free(dot);
	return r;
}
