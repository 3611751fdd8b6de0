/*
 * chan.c - the public channel API: parse the URL, find the scheme, check the
 * arguments and the channel's state, then call the scheme's slot.
 *
 * Everything a slot can rely on is checked here, once: a valid URL, a live
 * channel of the right role, len <= max_msg, a buffer when cap > 0.  A failed
 * channel (ch->err) keeps failing with the same error.
 */
#include "internal.h"
#include "mailbox.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

ipck_chan *ipck__chan_new(const struct ipck_scheme *sc, const struct ipck_url *u)
{
	ipck_chan *ch = calloc(1, sizeof(*ch) + sc->priv_size);
	if (!ch)
		return NULL;
	ch->sc = sc;
	if (u)
		ch->url = *u;
	ch->fd = ch->wfd = ch->peer_fd = -1;
	ch->poll_ep = ch->poll_ev = -1;
	ch->next_size = -EAGAIN;
	return ch;
}

void ipck__chan_free(ipck_chan *ch)
{
	free(ch);
}

IPCK_API int ipck_open(ipck_chan **out, const char *url, int flags)
{
	struct ipck_url u;
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (flags & ~IPCK_LISTEN)
		return -EINVAL;
	int r = ipck__url_parse(url, &u);
	if (r)
		return r;
	if (u.sc->info.caps & IPCK_CAP_PAIR_ONLY)
		return -EINVAL;   /* "pipe:" has no address: use ipck_pair */
	ipck_chan *ch = ipck__chan_new(u.sc, &u);
	if (!ch)
		return -ENOMEM;
	ch->role = (flags & IPCK_LISTEN) ? ROLE_LISTENER : ROLE_CLIENT;
	r = u.sc->open(ch, flags);
	if (r < 0) {
		ipck__chan_free(ch);
		return r;
	}
	if (!(flags & IPCK_LISTEN))
		IPCK_CRASH_POINT("attach");
	*out = ch;
	return 0;
}

IPCK_API int ipck_accept(ipck_chan *l, ipck_chan **out, int timeout_ms)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!l || timeout_ms < -1)
		return -EINVAL;
	if (l->role != ROLE_LISTENER)
		return -EINVAL;
	if (!l->sc->accept && !l->url.mailbox)
		return -ENOTSUP;
	if (l->err)
		return l->err;
	ipck_chan *c = ipck__chan_new(l->sc, &l->url);
	if (!c)
		return -ENOMEM;
	c->role = ROLE_SERVER;
	int r = l->url.mailbox ? ipck__mb_accept(l, c, timeout_ms) : l->sc->accept(l, c, timeout_ms);
	if (r < 0) {
		ipck__chan_free(c);
		return r;
	}
	IPCK_CRASH_POINT("attach");
	*out = c;
	return 0;
}

IPCK_API int ipck_pair(const char *url, ipck_chan **a, ipck_chan **b)
{
	struct ipck_url u;
	if (!a || !b)
		return -EINVAL;
	*a = *b = NULL;
	int r = ipck__url_parse(url, &u);
	if (r)
		return r;
	if (!u.sc->pair)
		return -ENOTSUP;
	ipck_chan *x = ipck__chan_new(u.sc, &u), *y = ipck__chan_new(u.sc, &u);
	if (!x || !y) {
		free(x);
		free(y);
		return -ENOMEM;
	}
	x->role = y->role = ROLE_PAIR;
	r = u.sc->pair(x, y);
	if (r < 0) {
		free(x);
		free(y);
		return r;
	}
	*a = x;
	*b = y;
	return 0;
}

/*
 * Common checks of send and recv; 0 when the slot may run.  A mailbox
 * (mailbox=1) listener receives itself; its senders only send; the handle
 * of a sender (its ipck_accept) only tells the sender's end.
 */
static int check_io(const ipck_chan *ch, const void *p, size_t n, int timeout_ms, bool rx)
{
	if (!ch || timeout_ms < -1 || (n && !p))
		return -EINVAL;
	if (ch->role == ROLE_LISTENER && !(rx && ch->url.mailbox) && !(!rx && ch->url.broadcast))
		return -ENOTCONN;   /* a broadcast (broadcast=1) listener sends itself */
	if (rx && ch->url.mailbox && ch->role == ROLE_CLIENT)
		return -ENOTSUP;
	if (!rx && ch->mb_peer)
		return -ENOTSUP;
	if (rx ? ch->tx_only : ch->rx_only)
		return -ENOTSUP;   /* the other way of a one-way channel */
	return ch->err;
}

IPCK_API ssize_t ipck_send(ipck_chan *ch, const void *msg, size_t len, int timeout_ms)
{
	int r = check_io(ch, msg, len, timeout_ms, false);
	if (r)
		return r;
	if (len > ch->max_msg)
		return -EMSGSIZE;
	if (!ch->sc->send)
		return -ENOTSUP;
	ssize_t n = ch->sc->send(ch, msg, len, timeout_ms);
	if (n >= 0) {
		ch->st.sent_msgs++;
		ch->st.sent_bytes += len;
	}
	return n;
}

IPCK_API ssize_t ipck_send_many(ipck_chan *ch, const struct iovec *msgs, size_t n, int timeout_ms)
{
	size_t k = 0, bytes = 0;
	if (!msgs || !n)
		return -EINVAL;
	int r = check_io(ch, msgs[0].iov_base, msgs[0].iov_len, timeout_ms, false);
	if (r)
		return r;
	if (n > IPCK__MANY)
		n = IPCK__MANY;
	/* The lead that can go in one write: whole, and each one fits. */
	for (; k < n && msgs[k].iov_len <= ch->max_msg && (msgs[k].iov_base || !msgs[k].iov_len); k++)
		bytes += msgs[k].iov_len;
	if (k < 2 || ch->frame != FRAME_STREAM) {   /* one by one */
		ssize_t i = 0, s = 0;
		for (; i < (ssize_t)n && (s = ipck_send(ch, msgs[i].iov_base, msgs[i].iov_len,
							 i ? 0 : timeout_ms)) >= 0; i++)
			;
		return i ? i : s;
	}
	ssize_t s = ipck__fd_send_many(ch, msgs, k, timeout_ms);
	if (s > 0) {
		ch->st.sent_msgs += (uint64_t)s;
		ch->st.sent_bytes += bytes;
	}
	return s;
}

IPCK_API ssize_t ipck_recv(ipck_chan *ch, void *buf, size_t cap, int timeout_ms)
{
	int r = check_io(ch, buf, cap, timeout_ms, true);
	if (r)
		return r;
	if (!ch->sc->recv)
		return -ENOTSUP;
	ssize_t n = ch->mb_peer ? ipck__mb_peer_recv(ch, timeout_ms) :
		    ch->url.mailbox && ch->role == ROLE_LISTENER ? ipck__mb_recv(ch, buf, cap, timeout_ms) :
		    ch->sc->recv(ch, buf, cap, timeout_ms);
	if (n >= 0) {
		ch->next_size = -EAGAIN;
		ch->st.recv_msgs++;
		ch->st.recv_bytes += (size_t)n;
	}
	if (ch->err)
		ipck__poll_mark(ch, true);   /* it fails at once from now on: poll says so */
	return n;
}

/*
 * Descriptor passing: only a Unix socket under fdio.c's framing can carry
 * descriptors (fdpass.c); the check is made on the channel, so every such
 * scheme has it without a slot.
 */
IPCK_API ssize_t ipck_send_fds(ipck_chan *ch, const void *msg, size_t len,
			       const int *fds, size_t nfds, int timeout_ms)
{
	int r = check_io(ch, msg, len, timeout_ms, false);
	if (r)
		return r;
	if (nfds > IPCK_MAX_FDS || (nfds && !fds))
		return -EINVAL;
	if (!ipck__fd_can_pass(ch))
		return -ENOTSUP;
	if (len > ch->max_msg)
		return -EMSGSIZE;
	ssize_t n = ipck__fd_send_fds(ch, msg, len, fds, nfds, timeout_ms);
	if (n >= 0) {
		ch->st.sent_msgs++;
		ch->st.sent_bytes += len;
	}
	return n;
}

IPCK_API ssize_t ipck_recv_fds(ipck_chan *ch, void *buf, size_t cap,
			       int *fds, size_t *nfds, int timeout_ms)
{
	if (!nfds || (*nfds && !fds))
		return -EINVAL;
	struct fdwant w = {.fds = fds, .room = *nfds, .n = nfds};
	*nfds = 0;
	int r = check_io(ch, buf, cap, timeout_ms, true);
	if (r)
		return r;
	/* A mailbox's records go through mailbox.c (announcements, read-ahead). */
	if (ch->mb_peer || ch->url.mailbox || !ipck__fd_can_pass(ch))
		return -ENOTSUP;
	ssize_t n = ipck__fd_recv_fds(ch, buf, cap, &w, timeout_ms);
	if (n >= 0) {
		ch->next_size = -EAGAIN;
		ch->st.recv_msgs++;
		ch->st.recv_bytes += (size_t)n;
	}
	return n;
}

IPCK_API ssize_t ipck_recv_from(ipck_chan *ch, void *buf, size_t cap, pid_t *from,
			       int timeout_ms)
{
	ssize_t n = ipck_recv(ch, buf, cap, timeout_ms);
	if (from)
		*from = n < 0 ? 0 : ch->url.mailbox ? ch->from : ch->peer_pid;
	return n;
}

IPCK_API ssize_t ipck_next_size(const ipck_chan *ch)
{
	return ch ? ch->next_size : -EINVAL;
}

IPCK_API int ipck_pollfd(const ipck_chan *ch)
{
	if (!ch)
		return -EINVAL;
	if (ch->url.mailbox && ch->role == ROLE_CLIENT)
		return -ENOTSUP;   /* a mailbox sender receives nothing */
	if (ch->mb_peer)
		return ipck__mb_peer_pollfd((ipck_chan *)ch);
	int fd = ch->sc->pollfd(ch);
	if (fd >= 0 && ch->url.mailbox)
		fd = ipck__mb_pollfd((ipck_chan *)ch, fd);   /* messages accept received ahead */
	if (fd >= 0 && ch->err)
		ipck__poll_mark((ipck_chan *)ch, true);   /* a failed channel polls ready */
	return fd;
}

IPCK_API size_t ipck_max_msg(const ipck_chan *ch)
{
	return ch ? ch->max_msg : 0;
}

IPCK_API pid_t ipck_peer_pid(const ipck_chan *ch)
{
	return ch ? ch->peer_pid : 0;
}

IPCK_API const char *ipck_scheme(const ipck_chan *ch)
{
	return ch ? ch->sc->info.name : NULL;
}

IPCK_API int ipck_stats(const ipck_chan *ch, struct ipck_stats *st)
{
	if (!ch || !st)
		return -EINVAL;
	*st = ch->st;
	return 0;
}

IPCK_API int ipck_close(ipck_chan *ch)
{
	if (!ch)
		return 0;
	IPCK_CRASH_POINT("detach");
	int r = 0;
	if (ch->mb_peer)
		ipck__mb_peer_close(ch);   /* a handle holds nothing of the scheme */
	else
		r = ch->sc->close(ch);
	ipck__mb_free(ch);
	ipck__pollset_close(ch);
	int r2 = ipck__close_fd(ch->peer_fd);
	ipck__chan_free(ch);
	return r ? r : r2;
}

IPCK_API int ipck_unlink(const char *url)
{
	struct ipck_url u;
	int r = ipck__url_parse(url, &u);
	if (r)
		return r;
	if (!u.sc->unlink)
		return -ENOTSUP;
	return u.sc->unlink(&u);
}
