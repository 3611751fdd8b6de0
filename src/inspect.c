/*
 * inspect.c - ipck_list and ipck_remove: every IPC object on the machine,
 * of every mechanism, with the processes that hold it.
 *
 * One listing reads each source once: /proc/sysvipc (inspect_sysv.c),
 * /dev/shm and an mqueue directory (inspect_posix.c), one pass over
 * /proc/PID/fd and /proc/PID/maps (inspect_proc.c), sock_diag for Unix
 * sockets (inspect_unix.c); then joins what the processes hold to the
 * objects, recognises ipckit's channels (inspect_chan.c) and decides what is
 * stale.  Nothing is cached between calls; nothing is printed.
 *
 * "Stale" must never be a guess, because ipck_remove and `ipckit rm --stale`
 * act on it: an object is stale only when no live process holds it and the
 * process that made it is known to be dead.  Where the kernel does not record
 * a creator (POSIX objects, FIFOs), only ipckit's own objects, whose names
 * carry their pids, can be stale.
 */
#include "inspect.h"
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const kind_names[IPCK_KIND_COUNT] = {
	[IPCK_KIND_SVSHM] = "svshm", [IPCK_KIND_SVSEM] = "svsem", [IPCK_KIND_SVMSG] = "svmsg",
	[IPCK_KIND_PSHM] = "pshm",   [IPCK_KIND_PSEM] = "psem",   [IPCK_KIND_PMSG] = "pmsg",
	[IPCK_KIND_FIFO] = "fifo",   [IPCK_KIND_UNIX] = "unix",   [IPCK_KIND_PIPE] = "pipe",
	[IPCK_KIND_SOCKETPAIR] = "socketpair", [IPCK_KIND_CHANNEL] = "channel",
};

#define ALL_KINDS (IPCK_KIND_BIT(IPCK_KIND_COUNT) - IPCK_KIND_BIT(1))
/* Kinds whose objects can belong to a channel (see inspect_chan.c). */
#define CHAN_MEMBERS (IPCK_KIND_BIT(IPCK_KIND_PMSG) | IPCK_KIND_BIT(IPCK_KIND_PSHM) | \
		      IPCK_KIND_BIT(IPCK_KIND_FIFO) | IPCK_KIND_BIT(IPCK_KIND_SVSHM) | \
		      IPCK_KIND_BIT(IPCK_KIND_PSEM))

IPCK_API const char *ipck_kind_name(int kind)
{
	return kind > 0 && kind < IPCK_KIND_COUNT ? kind_names[kind] : NULL;
}

IPCK_API int ipck_kind_find(const char *name)
{
	for (int k = 1; name && k < IPCK_KIND_COUNT; k++)
		if (!strcmp(kind_names[k], name))
			return k;
	return -EINVAL;
}

/* ---- objects ------------------------------------------------------------ */

int ipck__grow(void *v, size_t *cap, size_t n, size_t size, size_t first)
{
	void **arr = v;
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : first;
	void *p = ncap < SIZE_MAX / size ? realloc(*arr, ncap * size) : NULL;
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int ipck__obj_new(struct insp *in, int kind)
{
	if (ipck__grow(&in->obj, &in->capobj, in->nobj, sizeof(*in->obj), 256))
		return -ENOMEM;
	struct iobj *ob = &in->obj[in->nobj];
	memset(ob, 0, sizeof(*ob));
	ob->o.kind = kind;
	ob->chan = -1;
	/* Who holds it is known, even when nobody does, except for System V
	 * sets and queues, which are used without being held. */
	if (kind != IPCK_KIND_SVSEM && kind != IPCK_KIND_SVMSG)
		ob->o.fields = IPCK_F_HOLDERS;
	return (int)in->nobj++;
}

static int set_str(char **dst, const char *f, va_list ap)
{
	char *s;
	if (vasprintf(&s, f, ap) < 0)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

int ipck__obj_name(struct iobj *ob, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int r = set_str(&ob->name, f, ap);
	va_end(ap);
	return r;
}

int ipck__obj_url(struct iobj *ob, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int r = set_str(&ob->url, f, ap);
	va_end(ap);
	return r;
}

/* One holder per process: a second descriptor or mapping adds to its how. */
int ipck__obj_hold(struct insp *in, struct iobj *ob, pid_t pid, int fd, unsigned how)
{
	for (size_t i = 0; i < ob->nh; i++)
		if (ob->h[i].pid == pid) {
			ob->h[i].how |= how;
			if (ob->h[i].fd < 0)
				ob->h[i].fd = fd;
			return 0;
		}
	if (ipck__grow(&ob->h, &ob->caph, ob->nh, sizeof(*ob->h), 4))
		return -ENOMEM;
	struct ipck_holder *h = &ob->h[ob->nh++];
	memset(h, 0, sizeof(*h));
	h->pid = pid;
	h->fd = fd;
	h->how = how;
	snprintf(h->comm, sizeof(h->comm), "%s", ipck__proc_comm(in, pid));
	ob->o.fields |= IPCK_F_HOLDERS;
	return 0;
}

/* ---- stale -------------------------------------------------------------- */

static bool holders_alive(const struct insp *in, const struct iobj *ob)
{
	for (size_t i = 0; i < ob->nh; i++)
		if (ipck__pid_alive(in, ob->h[i].pid))
			return true;
	return false;
}

/* Decide stale for what the sources could not decide themselves. */
static void mark_stale(struct insp *in)
{
	for (size_t i = 0; i < in->nobj; i++) {
		struct iobj *ob = &in->obj[i];
		if (ob->o.kind == IPCK_KIND_SVSHM)
			ob->o.stale = ob->o.nattch == 0 && !holders_alive(in, ob) &&
				      (ob->o.fields & IPCK_F_CPID) && !ipck__pid_alive(in, ob->o.cpid);
		if (ob->o.deleted || holders_alive(in, ob))
			ob->o.stale = false;
	}
	/* A channel's member is as stale as its channel (inspect_chan.c). */
	for (size_t i = 0; i < in->nobj; i++) {
		struct iobj *ob = &in->obj[i];
		if (ob->chan >= 0 && !ob->o.deleted)
			ob->o.stale = in->obj[ob->chan].o.stale;
	}
}

/* ---- the listing -------------------------------------------------------- */

static bool any_attached_svshm(const struct insp *in)
{
	for (size_t i = 0; i < in->nobj; i++)
		if (in->obj[i].o.kind == IPCK_KIND_SVSHM && in->obj[i].o.nattch > 0)
			return true;
	return false;
}

/* Holders of the objects the sources listed, by what the processes hold. */
static int join_sources(struct insp *in)
{
	static const int ref_of[IPCK_KIND_COUNT] = {
		[IPCK_KIND_SVSHM] = REF_SYSV, [IPCK_KIND_PSHM] = REF_DEVSHM,
		[IPCK_KIND_PSEM] = REF_DEVSHM, [IPCK_KIND_PMSG] = REF_MQ,
	};
	int r = 0;
	for (size_t i = 0; i < in->nobj && !r; i++) {
		struct iobj *ob = &in->obj[i];
		int type = ref_of[ob->o.kind];
		if (type == REF_SYSV)
			r = ipck__refs_join(in, (int)i, type, (uint64_t)ob->o.id, 0);
		else if (type && ob->key)
			r = ipck__refs_join(in, (int)i, type, ob->key, 0);
	}
	return r;
}

static int collect(struct insp *in)
{
	const unsigned fd_kinds = ALL_KINDS & ~(IPCK_KIND_BIT(IPCK_KIND_SVSHM) |
			IPCK_KIND_BIT(IPCK_KIND_SVSEM) | IPCK_KIND_BIT(IPCK_KIND_SVMSG));
	int r = ipck__proc_pids(in);
	if (!r)
		r = ipck__sysv_list(in);
	if (!r)
		r = ipck__posix_list(in);
	if (!r && (in->kinds & fd_kinds))
		r = ipck__proc_scan_fds(in);
	if (!r && (insp_want(in, IPCK_KIND_PSHM) || insp_want(in, IPCK_KIND_PSEM) ||
		   any_attached_svshm(in)))
		r = ipck__proc_scan_maps(in);
	if (r)
		return r;
	ipck__refs_sort(in);
	r = ipck__unix_list(in);
	if (!r)
		r = join_sources(in);
	if (!r)
		r = ipck__refs_orphans(in);
	if (!r && insp_want(in, IPCK_KIND_CHANNEL))
		r = ipck__chan_detect(in);
	if (!r)
		mark_stale(in);
	return r;
}

static bool wanted(const struct insp *in, const struct iobj *ob)
{
	const struct ipck_list_opts *op = in->opts;
	if (op->kinds && !(op->kinds & IPCK_KIND_BIT(ob->o.kind)))
		return false;
	if ((op->flags & IPCK_LIST_STALE) && !ob->o.stale)
		return false;
	if ((op->flags & IPCK_LIST_UID) && (!(ob->o.fields & IPCK_F_UID) || ob->o.uid != op->uid))
		return false;
	if (op->name) {
		char key[24];
		const char *n = ob->name ? ob->name : "";
		if (ob->o.fields & IPCK_F_KEY) {
			snprintf(key, sizeof(key), "0x%08llx", (unsigned long long)(uint32_t)ob->o.key);
			n = key;
		}
		if (fnmatch(op->name, n, 0))
			return false;
	}
	return true;
}

static int cmp_obj(const void *a, const void *b, void *arg)
{
	const struct insp *in = arg;
	const struct iobj *x = &in->obj[*(const size_t *)a];
	const struct iobj *y = &in->obj[*(const size_t *)b];
	if (x->o.kind != y->o.kind)
		return x->o.kind - y->o.kind;
	if (x->o.id != y->o.id)
		return (x->o.id > y->o.id) - (x->o.id < y->o.id);
	return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

static int cmp_holder(const void *a, const void *b)
{
	pid_t x = ((const struct ipck_holder *)a)->pid, y = ((const struct ipck_holder *)b)->pid;
	return (x > y) - (x < y);
}

static int emit(struct insp *in, ipck_list_fn fn, void *arg)
{
	size_t *ord = malloc((in->nobj + 1) * sizeof(*ord)), n = 0;
	if (!ord)
		return -ENOMEM;
	for (size_t i = 0; i < in->nobj; i++)
		if (wanted(in, &in->obj[i]))
			ord[n++] = i;
	qsort_r(ord, n, sizeof(*ord), cmp_obj, in);
	int r = 0;
	for (size_t i = 0; i < n && !r; i++) {
		struct iobj *ob = &in->obj[ord[i]];
		ob->o.name = ob->name ? ob->name : "";
		ob->o.url = ob->url;
		if (ob->nh > 1)   /* channels and System V users join them unordered */
			qsort(ob->h, ob->nh, sizeof(*ob->h), cmp_holder);
		ob->o.holders = ob->h;
		ob->o.nholders = ob->nh;
		if (!ob->o.type)
			ob->o.type = "";
		if (!ob->o.state)
			ob->o.state = "";
		if (!ob->o.scheme)
			ob->o.scheme = "";
		r = fn(&ob->o, arg);
	}
	free(ord);
	return r;
}

static void insp_free(struct insp *in)
{
	for (size_t i = 0; i < in->nobj; i++) {
		free(in->obj[i].name);
		free(in->obj[i].url);
		free(in->obj[i].h);
	}
	free(in->obj);
	free(in->procs);
	ipck__refs_free(in);
	if (in->mq_dir >= 0)
		close(in->mq_dir);
}

IPCK_API int ipck_list(struct ipck_list_opts *opts, ipck_list_fn fn, void *arg)
{
	struct ipck_list_opts all = {0};
	if (!fn)
		return -EINVAL;
	if (!opts)
		opts = &all;
	if ((opts->kinds & ~ALL_KINDS) || (opts->flags & ~(IPCK_LIST_STALE | IPCK_LIST_UID)))
		return -EINVAL;
	struct insp in = {.opts = opts, .mq_dir = -1};
	opts->missing = 0;
	in.kinds = opts->kinds ? opts->kinds : ALL_KINDS;
	if (insp_want(&in, IPCK_KIND_CHANNEL) || (opts->flags & IPCK_LIST_STALE))
		in.kinds |= CHAN_MEMBERS | IPCK_KIND_BIT(IPCK_KIND_CHANNEL);
	int r = collect(&in);
	if (!r)
		r = emit(&in, fn, arg);
	insp_free(&in);
	return r;
}

/* ---- removal ------------------------------------------------------------ */

IPCK_API int ipck_remove(const char *target, unsigned flags)
{
	if (!target || (flags & ~(IPCK_RM_FORCE | IPCK_RM_DRY_RUN)))
		return -EINVAL;
	const char *colon = strchr(target, ':');
	if (!colon || colon == target || colon - target > 16 || strchr(colon, '?'))
		return -EINVAL;
	char kname[17];
	memcpy(kname, target, (size_t)(colon - target));
	kname[colon - target] = '\0';
	const char *addr = colon + 1;
	int kind = ipck_kind_find(kname);
	if (!strcmp(kname, "abstract"))
		return -ENOTSUP;
	switch (kind) {
	case IPCK_KIND_SVSHM: case IPCK_KIND_SVSEM: case IPCK_KIND_SVMSG:
		return ipck__sysv_remove(kind, addr, flags);
	case IPCK_KIND_PSHM: case IPCK_KIND_PSEM: case IPCK_KIND_PMSG:
		return ipck__posix_remove(kind, addr, flags);
	case IPCK_KIND_FIFO: case IPCK_KIND_UNIX:
		if (addr[0] == '@')
			return -ENOTSUP;
		return ipck__path_remove(kind, addr, flags);
	case IPCK_KIND_PIPE: case IPCK_KIND_SOCKETPAIR: case IPCK_KIND_CHANNEL:
		return -ENOTSUP;
	}
	return -EINVAL;
}
