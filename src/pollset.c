/*
 * pollset.c - the descriptor behind ipck_pollfd for channels whose data
 * descriptor alone cannot say "ipck_recv would not block": a stream scheme
 * that has read ahead into its buffer, or a queue whose peer may die without
 * a word (its pidfd).  An epoll descriptor polls readable when any descriptor
 * in its set is ready, so one fd answers for all three.
 */
#include "internal.h"
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int ep_add(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int ipck__pollset(ipck_chan *ch, int data_fd)
{
	if (ch->poll_ep >= 0)
		return ch->poll_ep;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	int ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int r = ev < 0 ? -errno : ep_add(ep, ev);
	if (!r && data_fd >= 0)
		r = ep_add(ep, data_fd);
	if (!r && ch->peer_fd >= 0)
		r = ep_add(ep, ch->peer_fd);
	if (r) {
		ipck__close_fd(ev);
		close(ep);
		return r;
	}
	ch->poll_ep = ep;
	ch->poll_ev = ev;
	ch->poll_marked = false;
	return ep;
}

void ipck__poll_mark(ipck_chan *ch, bool ready)
{
	if (ch->poll_ev < 0 || ready == ch->poll_marked)
		return;
	uint64_t v = 1;
	ssize_t n = ready ? write(ch->poll_ev, &v, sizeof(v)) : read(ch->poll_ev, &v, sizeof(v));
	(void)n;   /* an eventfd write of 1 or a read of a set counter cannot fail */
	ch->poll_marked = ready;
}

void ipck__pollset_close(ipck_chan *ch)
{
	ipck__close_fd(ch->poll_ev);
	ipck__close_fd(ch->poll_ep);
	ch->poll_ev = ch->poll_ep = -1;
}
