/*
 * inspect_unix.c - Unix domain sockets: bound ones (a path or an abstract
 * name) and pairs of connected unnamed ones (socketpair), with the processes
 * at each end.
 *
 * The list comes from sock_diag (NETLINK_SOCK_DIAG, what ss -x uses), which
 * gives each socket's inode, name and peer's inode: that is how the two ends
 * of a pair, and the clients of a named server, are found.  /proc/PID/fd
 * links "socket:[INO]" say who holds each inode.  Without sock_diag
 * (CONFIG_UNIX_DIAG off) /proc/net/unix gives the names but no peers, and
 * opts->missing says so.  Both are per network namespace: a socket bound in
 * another one is not seen.
 *
 * One object per name: the listening (or bound) socket, the connections a
 * server accepted (they carry the listener's name) and, as IPCK_HOLD_PEER
 * holders, the processes holding the clients' ends.
 */
#include "inspect.h"
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum { ST_ESTABLISHED = 1, ST_CLOSE = 7, ST_LISTEN = 10 };   /* TCP_* states */

struct usock {
	uint32_t ino, peer;
	uint8_t type, state;
	bool has_uid;
	uid_t uid;
	uint32_t rq;
	char *name;          /* path, "@abstract", or NULL */
	int obj;             /* object it belongs to, or -1 */
};

struct socks {
	struct usock *v;
	size_t n, cap;
};

static int socks_add(struct socks *s, const struct usock *u, const char *name)
{
	if (ipck__grow(&s->v, &s->cap, s->n, sizeof(*s->v), 256))
		return -ENOMEM;
	struct usock *n = &s->v[s->n];
	*n = *u;
	n->obj = -1;
	n->name = NULL;
	if (name && !(n->name = strdup(name)))
		return -ENOMEM;
	s->n++;
	return 0;
}

static void socks_free(struct socks *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
}

/* ---- sock_diag ---------------------------------------------------------- */

/* A name attribute: a path, or "\0abstract" which becomes "@abstract". */
static void diag_name(const char *p, size_t len, char *out, size_t cap)
{
	if (!len || cap < 2) {
		out[0] = '\0';
		return;
	}
	if (p[0] == '\0') {
		out[0] = '@';
		p++;
		len--;
		out++;
		cap--;
	}
	if (len >= cap)
		len = cap - 1;
	memcpy(out, p, len);
	out[len] = '\0';
	out[strnlen(out, len)] = '\0';
}

static int diag_msg(struct socks *s, const struct nlmsghdr *h)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EPROTO;
	struct usock u = {.ino = m->udiag_ino, .type = m->udiag_type, .state = m->udiag_state};
	char name[sizeof(((struct sockaddr_un *)0)->sun_path) + 2] = "";
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t pl = RTA_PAYLOAD(a);
		if (a->rta_type == UNIX_DIAG_NAME)
			diag_name(RTA_DATA(a), pl, name, sizeof(name));
		else if (a->rta_type == UNIX_DIAG_PEER && pl >= 4)
			memcpy(&u.peer, RTA_DATA(a), 4);
		else if (a->rta_type == UNIX_DIAG_RQLEN && pl >= sizeof(struct unix_diag_rqlen))
			u.rq = ((struct unix_diag_rqlen *)RTA_DATA(a))->udiag_rqueue;
		else if (a->rta_type == UNIX_DIAG_UID && pl >= 4) {
			uint32_t uid;
			memcpy(&uid, RTA_DATA(a), 4);
			u.uid = uid;
			u.has_uid = true;
		}
	}
	return socks_add(s, &u, name[0] ? name : NULL);
}

static int diag_recv(int fd, struct socks *s)
{
	static const size_t cap = 32768;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	int r = 1;
	while (r > 0) {
		ssize_t n = recv(fd, buf, cap, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EPROTO;
			break;
		}
		for (struct nlmsghdr *h = (void *)buf; r > 0 && NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				r = 0;
			else if (h->nlmsg_type == NLMSG_ERROR)
				r = -ENOTSUP;
			else if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY)
				r = diag_msg(s, h) ?: 1;
		}
	}
	free(buf);
	return r;
}

static int diag_list(struct socks *s)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = {
		.h = {.nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		      .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
		.r = {.sdiag_family = AF_UNIX, .udiag_states = ~0u,
		      .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID},
	};
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
	int r = 0;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0)
		r = -errno;
	if (!r)
		r = diag_recv(fd, s);
	close(fd);
	return r;
}

/* /proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path" - no peers. */
static int procnet_list(struct socks *s)
{
	FILE *f = fopen("/proc/net/unix", "re");
	if (!f)
		return -errno;
	char *l = NULL;
	size_t cap = 0;
	int r = 0;
	while (!r && getline(&l, &cap, f) > 0) {
		unsigned flags, type, st;
		unsigned long ino;
		int off = 0;
		if (sscanf(l, "%*s %*s %*s %x %x %x %lu %n", &flags, &type, &st, &ino, &off) != 4)
			continue;
		char *name = off ? l + off : NULL;
		if (name)
			name[strcspn(name, "\n")] = '\0';
		struct usock u = {.ino = (uint32_t)ino, .type = (uint8_t)type,
				  .state = (flags & 0x10000) ? ST_LISTEN : st == 3 ? ST_ESTABLISHED : ST_CLOSE};
		r = socks_add(s, &u, name && *name ? name : NULL);
	}
	free(l);
	fclose(f);
	return r;
}

/* ---- objects ------------------------------------------------------------ */

static const char *type_name(int t)
{
	return t == SOCK_STREAM ? "stream" : t == SOCK_DGRAM ? "dgram" :
	       t == SOCK_SEQPACKET ? "seqpacket" : "other";
}

static const char *state_name(int st)
{
	return st == ST_LISTEN ? "listen" : st == ST_ESTABLISHED ? "connected" : "unconnected";
}

static int cmp_ino(const void *a, const void *b)
{
	uint32_t x = ((const struct usock *)a)->ino, y = ((const struct usock *)b)->ino;
	return (x > y) - (x < y);
}

static struct usock *by_ino(struct socks *s, uint32_t ino)
{
	struct usock key = {.ino = ino};
	return ino && s->n ? bsearch(&key, s->v, s->n, sizeof(key), cmp_ino) : NULL;
}

static int cmp_name(const void *a, const void *b, void *arg)
{
	const struct usock *v = arg;
	return strcmp(v[*(const size_t *)a].name, v[*(const size_t *)b].name);
}

/* The object of a name, made from its first socket. */
static int named_new(struct insp *in, const struct usock *u)
{
	int idx = ipck__obj_new(in, IPCK_KIND_UNIX);
	if (idx < 0)
		return idx;
	struct iobj *ob = &in->obj[idx];
	int r = ipck__obj_name(ob, "%s", u->name);
	struct stat st;
	if (!r && u->name[0] == '/') {
		r = ipck__obj_url(ob, "unix:%s", u->name);
		if (!r && lstat(u->name, &st) == 0 && S_ISSOCK(st.st_mode)) {
			ob->o.fields |= IPCK_F_UID | IPCK_F_MODE | IPCK_F_CTIME | IPCK_F_MTIME;
			ob->o.uid = st.st_uid;
			ob->o.gid = st.st_gid;
			ob->o.mode = st.st_mode & 0777;
			ob->o.ctime = st.st_ctim.tv_sec;
			ob->o.mtime = st.st_mtim.tv_sec;
		}
	}
	return r ? r : idx;
}

/* The socket that names the object best: the listener, else the lowest inode. */
static void named_fill(struct iobj *ob, const struct usock *u)
{
	bool first = !(ob->o.fields & IPCK_F_ID);
	if (!first && !(u->state == ST_LISTEN && strcmp(ob->o.state, "listen")))
		return;
	ob->o.fields |= IPCK_F_ID;
	ob->o.id = u->ino;
	ob->o.type = type_name(u->type);
	ob->o.state = state_name(u->state);
	if (u->has_uid && !(ob->o.fields & IPCK_F_UID)) {
		ob->o.fields |= IPCK_F_UID;
		ob->o.uid = u->uid;
	}
	if (u->state != ST_LISTEN) {
		ob->o.fields |= IPCK_F_BYTES;
		ob->o.bytes = u->rq;
	}
}

/* One object per name, holding every socket of that name. */
static int named_sockets(struct insp *in, struct socks *s)
{
	size_t *ix = malloc((s->n + 1) * sizeof(*ix)), n = 0;
	if (!ix)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].name)
			ix[n++] = i;
	qsort_r(ix, n, sizeof(*ix), cmp_name, s->v);
	int r = 0, idx = -1;
	for (size_t k = 0; k < n && !r; k++) {
		struct usock *u = &s->v[ix[k]];
		if (!k || strcmp(s->v[ix[k - 1]].name, u->name))
			idx = named_new(in, u);
		if (idx < 0) {
			r = idx;
			break;
		}
		u->obj = idx;
		named_fill(&in->obj[idx], u);
		r = ipck__refs_join(in, idx, REF_SOCK, u->ino, 0);
	}
	free(ix);
	return r;
}

/* Unnamed sockets: a client of a named one, or one end of a pair. */
static int unnamed_socket(struct insp *in, struct socks *s, struct usock *u)
{
	struct usock *p = by_ino(s, u->peer);
	if (p && p->name)
		return p->obj >= 0 ?
		       ipck__refs_join(in, p->obj, REF_SOCK, u->ino, IPCK_HOLD_PEER) : 0;
	if (!insp_want(in, IPCK_KIND_SOCKETPAIR) || !u->peer || (p && (p->name || p->ino < u->ino)))
		return 0;
	int idx = ipck__obj_new(in, IPCK_KIND_SOCKETPAIR);
	if (idx < 0)
		return idx;
	struct iobj *ob = &in->obj[idx];
	ob->o.fields |= IPCK_F_ID | IPCK_F_BYTES;
	ob->o.id = u->ino;
	ob->key = u->ino;
	ob->o.type = type_name(u->type);
	ob->o.state = p ? "connected" : "peer closed";
	ob->o.bytes = u->rq + (p ? p->rq : 0);
	int r = ipck__refs_join(in, idx, REF_SOCK, u->ino, 0);
	if (!r && p)
		r = ipck__refs_join(in, idx, REF_SOCK, p->ino, 0);
	return r;
}

int ipck__unix_list(struct insp *in)
{
	if (!insp_want(in, IPCK_KIND_UNIX) && !insp_want(in, IPCK_KIND_SOCKETPAIR))
		return 0;
	struct socks s = {0};
	int r = diag_list(&s);
	if (r && r != -ENOMEM) {
		socks_free(&s);
		s = (struct socks){0};
		in->opts->missing |= IPCK_MISSING_PEERS;
		r = procnet_list(&s);
		if (r == -ENOENT)
			r = 0;   /* no AF_UNIX at all */
	}
	if (!r && s.n) {
		qsort(s.v, s.n, sizeof(*s.v), cmp_ino);
		if (insp_want(in, IPCK_KIND_UNIX))
			r = named_sockets(in, &s);
	}
	for (size_t i = 0; !r && i < s.n; i++)
		if (!s.v[i].name)
			r = unnamed_socket(in, &s, &s.v[i]);
	socks_free(&s);
	return r;
}
