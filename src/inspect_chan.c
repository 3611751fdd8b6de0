/*
 * inspect_chan.c - ipckit's own channels, recognised from the names of the
 * objects they are made of, and shown as one object of kind "channel" with
 * its scheme, both sides' pids and whether it is alive or stale.
 *
 * The names come from the schemes' conventions, one line each in the table
 * below; a scheme that names its per-connection objects another way adds a
 * line.  In a pattern, %b is the URL's address (the base name), %p the
 * connecting side's pid, %n its connection number and %x a 16-hex-digit
 * nonce; the rest is literal.  The listening side's pid is that of the
 * holder of the listener's own object at the base name, or of the other
 * holder.
 *
 * Where the names carry the creator's pid, a channel is stale when none of
 * its objects has a live holder and both sides are dead; its named members
 * are then stale too, and `ipckit rm --stale` removes them.  A ring's
 * segment is named only by a nonce and unlinked at once: it is seen while
 * both sides hold it, and never stale.
 */
#include "inspect.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct chan_pattern {
	int kind;             /* IPCK_KIND_* of the member object */
	const char *scheme;   /* the channel's scheme */
	const char *pattern;  /* %b base, %p pid, %n number, literal otherwise */
};

static const struct chan_pattern patterns[] = {
	/* fifo.c and pmsg.c: the connecting side makes one object per direction,
	 * the listener unlinks them once both have them open (rendezvous.c). */
	{IPCK_KIND_FIFO, "fifo", "%b.%p.%n.c2s"},
	{IPCK_KIND_FIFO, "fifo", "%b.%p.%n.s2c"},
	{IPCK_KIND_PMSG, "pmsg", "%b.%p.%n.c2s"},
	{IPCK_KIND_PMSG, "pmsg", "%b.%p.%n.s2c"},
	/* pshm.c (ringconn.c): a connection's segment, "<name>.<nonce>" between
	 * shm_open and shm_unlink, then held by both sides. */
	{IPCK_KIND_PSHM, "pshm", "%b.%x"},
};

struct chan_match {
	size_t base_len;      /* the base is name[0 .. base_len) */
	long long pid, num;   /* -1 when the pattern has none */
	uint64_t nonce;       /* 0 when the pattern has none */
};

/* 16 lowercase hex digits ending at name[*end] (exclusive). */
static bool hex_back(const char *name, size_t *end, uint64_t *out)
{
	if (*end < 16)
		return false;
	uint64_t v = 0;
	for (size_t i = *end - 16; i < *end; i++) {
		char c = name[i];
		if (!isdigit((unsigned char)c) && (c < 'a' || c > 'f'))
			return false;
		v = v << 4 | (uint64_t)(isdigit((unsigned char)c) ? c - '0' : c - 'a' + 10);
	}
	*end -= 16;
	*out = v;
	return true;
}

/* Digits ending at name[*end] (exclusive), read backwards. */
static bool digits_back(const char *name, size_t *end, long long *out)
{
	size_t e = *end, b = e;
	while (b > 0 && isdigit((unsigned char)name[b - 1]) && e - b < 10)
		b--;
	if (b == e || (b > 0 && isdigit((unsigned char)name[b - 1])))
		return false;
	*out = strtoll(name + b, NULL, 10);
	*end = b;
	return true;
}

/* Match right to left; %b must come first and takes what is left (not empty). */
static bool pattern_match(const char *pat, const char *name, struct chan_match *m)
{
	size_t pi = strlen(pat), ni = strlen(name);
	*m = (struct chan_match){.pid = -1, .num = -1};
	while (pi > 0) {
		if (pi >= 2 && pat[pi - 2] == '%') {
			char c = pat[pi - 1];
			pi -= 2;
			if (c == 'b') {
				m->base_len = ni;
				return pi == 0 && ni > 0;
			}
			if (c == 'x') {
				if (!hex_back(name, &ni, &m->nonce))
					return false;
				continue;
			}
			if (!digits_back(name, &ni, c == 'p' ? &m->pid : &m->num))
				return false;
			continue;
		}
		if (ni == 0 || pat[pi - 1] != name[ni - 1])
			return false;
		pi--;
		ni--;
	}
	return false;
}

/* The channel of (scheme, base, pid, num): found, or made. */
static int chan_get(struct insp *in, const struct chan_pattern *p, const char *name,
		    const struct chan_match *m)
{
	int blen = (int)m->base_len;
	size_t slen = strlen(p->scheme);
	for (size_t i = 0; i < in->nobj; i++) {
		struct iobj *c = &in->obj[i];
		if (c->o.kind == IPCK_KIND_CHANNEL && c->o.pids[1] == (pid_t)(m->pid > 0 ? m->pid : 0) &&
		    c->o.id == m->num && c->nonce == m->nonce && !strncmp(c->name, p->scheme, slen) && c->name[slen] == ':' &&
		    !strncmp(c->name + slen + 1, name, (size_t)blen) && !c->name[slen + 1 + blen])
			return (int)i;
	}
	int idx = ipck__obj_new(in, IPCK_KIND_CHANNEL);
	if (idx < 0)
		return idx;
	struct iobj *c = &in->obj[idx];
	c->o.fields |= IPCK_F_PIDS | (m->num >= 0 ? IPCK_F_ID : 0);
	c->o.id = m->num;
	c->o.pids[1] = (pid_t)(m->pid > 0 ? m->pid : 0);
	c->nonce = m->nonce;
	c->o.scheme = p->scheme;
	int r = ipck__obj_name(c, "%s:%.*s", p->scheme, blen, name);
	return r ? r : idx;
}

/* Make member idx's holders the channel's too. */
static int chan_add(struct insp *in, int chan, int idx)
{
	in->obj[idx].chan = chan;
	for (size_t i = 0; i < in->obj[idx].nh; i++) {
		struct ipck_holder h = in->obj[idx].h[i];
		int r = ipck__obj_hold(in, &in->obj[chan], h.pid, h.fd, h.how);
		if (r)
			return r;
	}
	return 0;
}

/* A holder of the listener's object "<base>" of the same kind, not the client. */
static pid_t listener_pid(const struct insp *in, const struct iobj *c, int kind)
{
	const char *base = strchr(c->name, ':') + 1;
	for (size_t i = 0; i < in->nobj; i++) {
		const struct iobj *ob = &in->obj[i];
		if (ob->o.kind != kind || !ob->name || strcmp(ob->name, base))
			continue;
		for (size_t k = 0; k < ob->nh; k++)
			if (ob->h[k].pid != c->o.pids[1])
				return ob->h[k].pid;
	}
	return 0;
}

/* The other holder than pid, or 0. */
static pid_t other_holder(const struct iobj *c, pid_t pid)
{
	for (size_t k = 0; k < c->nh; k++)
		if (c->h[k].pid != pid)
			return c->h[k].pid;
	return 0;
}

static void chan_settle(struct insp *in, struct iobj *c, int kind)
{
	bool held = false, named = c->o.pids[1] != 0;   /* the name gave the client's pid */
	for (size_t k = 0; k < c->nh; k++)
		held = held || ipck__pid_alive(in, c->h[k].pid);
	c->o.pids[0] = listener_pid(in, c, kind);
	if (!c->o.pids[0] || (!named && !other_holder(c, c->o.pids[0])))
		c->o.pids[0] = other_holder(c, c->o.pids[1]);
	if (!named)
		c->o.pids[1] = other_holder(c, c->o.pids[0]);
	bool srv = ipck__pid_alive(in, c->o.pids[0]), cli = ipck__pid_alive(in, c->o.pids[1]);
	c->o.alive = srv && cli;
	c->o.stale = named && !held && !srv && !cli;
	c->o.state = c->o.alive ? "connected" : c->o.stale ? "stale" :
		     !c->o.pids[0] ? "connecting" : "half-closed";
}

int ipck__chan_detect(struct insp *in)
{
	size_t n = in->nobj;   /* the channels made below are not members */
	struct chan_match m;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof(patterns) / sizeof(patterns[0]); k++) {
			const struct chan_pattern *p = &patterns[k];
			if (p->kind != in->obj[i].o.kind || !in->obj[i].name ||
			    !pattern_match(p->pattern, in->obj[i].name, &m) || (m.pid <= 0 && !m.nonce))
				continue;
			int c = chan_get(in, p, in->obj[i].name, &m);
			int r = c < 0 ? c : chan_add(in, c, (int)i);
			if (r)
				return r;
			break;
		}
	}
	for (size_t i = n; i < in->nobj; i++)
		for (size_t k = 0; k < n; k++)
			if (in->obj[k].chan == (int)i) {
				chan_settle(in, &in->obj[i], in->obj[k].o.kind);
				break;
			}
	return 0;
}
