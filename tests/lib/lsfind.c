/* lsfind.c - see lsfind.h. */
#include "lsfind.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

struct grab {
	struct lsobj *out;
	int max, n;
};

static void copy(struct lsobj *d, const struct ipck_obj *o)
{
	memset(d, 0, sizeof(*d));
	d->o = *o;
	snprintf(d->name, sizeof(d->name), "%s", o->name);
	snprintf(d->url, sizeof(d->url), "%s", o->url ? o->url : "");
	snprintf(d->type, sizeof(d->type), "%s", o->type);
	snprintf(d->state, sizeof(d->state), "%s", o->state);
	snprintf(d->scheme, sizeof(d->scheme), "%s", o->scheme);
	d->nh = o->nholders < 32 ? o->nholders : 32;
	if (d->nh)
		memcpy(d->h, o->holders, d->nh * sizeof(d->h[0]));
	d->o.name = d->name;
	d->o.url = o->url ? d->url : NULL;
	d->o.type = d->type;
	d->o.state = d->state;
	d->o.scheme = d->scheme;
	d->o.holders = d->h;
	d->o.nholders = d->nh;
}

static int grab(const struct ipck_obj *o, void *arg)
{
	struct grab *g = arg;
	if (g->n < g->max)
		copy(&g->out[g->n], o);
	g->n++;
	return 0;
}

int ls_find(int kind, const char *pattern, unsigned flags, struct lsobj *out, int max,
	    unsigned *missing)
{
	struct ipck_list_opts op = {.kinds = kind ? IPCK_KIND_BIT(kind) : 0, .flags = flags,
				    .name = pattern};
	struct grab g = {out, max, 0};
	int r = ipck_list(&op, grab, &g);
	if (missing)
		*missing = op.missing;
	return r < 0 ? r : g.n;
}

const struct ipck_holder *ls_holder(const struct lsobj *o, pid_t pid)
{
	for (size_t i = 0; i < o->nh; i++)
		if (o->h[i].pid == pid)
			return &o->h[i];
	return NULL;
}

char *run_cli(const char *args, int *status)
{
	const char *bin = getenv("IPCK_BIN");
	size_t len = strlen(args) + (bin ? strlen(bin) : 0) + 8, cap = 1 << 16, n = 0;
	char *cmd = malloc(len), *out = malloc(cap);
	if (!cmd || !out || !bin)
		abort();
	snprintf(cmd, len, "%s %s", bin, args);
	FILE *f = popen(cmd, "r");
	if (!f)
		abort();
	for (size_t r; (r = fread(out + n, 1, cap - n - 1, f)) > 0;) {
		n += r;
		if (cap - n < 4096 && !(out = realloc(out, cap *= 2)))
			abort();
	}
	out[n] = '\0';
	int st = pclose(f);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	free(cmd);
	return out;
}
