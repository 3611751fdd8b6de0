/*
 * watch.c - a watcher thread for a receiver blocked in a call that can
 * neither time out on the monotonic clock nor watch a pidfd: msgrcv, and
 * mq_receive on a blocking descriptor (svmsg, pmsg).
 *
 * The receiver arms the watcher with its deadline and a new generation
 * number, blocks, and disarms.  The thread polls the peer's pidfd and a
 * timerfd; when the peer dies or the deadline passes while a receiver is
 * armed, it calls the scheme's wake(), which puts a TAG_WAKE message with
 * the generation onto the receiver's own queue, and the blocked call
 * returns.  A wake-up that arrives after its receive ended is known by its
 * old generation and skipped.  A wake() that finds no room is retried every
 * millisecond (with "dead" set, the scheme may first drop the messages to
 * the dead peer).
 *
 * Cost in the steady state: two uncontended mutex round trips per blocking
 * receive.  The timerfd is set only when a deadline is earlier than the one
 * armed; a later one is moved forward by the thread when the early one fires.
 *
 * The thread blocks every signal (the caller's handlers never run on it) and
 * is stopped through an eventfd and joined by ipck__watch_stop.
 *
 * fork: a child inherits the channel and this struct, but not the thread,
 * and shares the stop eventfd with its parent.  So the watcher knows the
 * process that started it: in any other, stop only lets go of the child's
 * copies (signalling would stop the parent's thread, and there is nothing
 * to join), and ipck__watch_arm's callers start a watcher of their own.
 */
#include "internal.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct ipck_watch {
	pthread_mutex_t mu;
	pthread_t th;
	pid_t owner;            /* the process whose thread this is */
	int stop_fd;            /* eventfd written by ipck__watch_stop */
	int tfd;                /* timerfd at the armed deadline */
	int peer_fd;            /* the channel's pidfd (not ours to close), or -1 */
	int (*wake)(void *arg, uint32_t gen, bool dead);
	void *arg;
	bool armed;             /* a receiver is blocked */
	bool woken;             /* ...and its wake-up is sent */
	bool dead;              /* the peer has exited */
	uint32_t gen;           /* generation of the latest armed receive */
	deadline_t deadline;    /* of that receive */
	deadline_t timer_at;    /* when the timerfd fires, -1 when not set */
};

int ipck__thread_start(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);   /* the new thread inherits it */
	int r = pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -r;
}

static void watch_timer(struct ipck_watch *w, deadline_t at)
{
	struct itimerspec its = {.it_value = {at / 1000000000, at % 1000000000}};
	if (timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		w->timer_at = at;
}

/* Under the lock, after poll: wake the receiver if it is due; true to retry soon. */
static bool watch_check(struct ipck_watch *w)
{
	if (!w->armed || w->woken)
		return false;
	if (w->dead || (w->deadline >= 0 && ipck__now_ns() >= w->deadline)) {
		w->woken = w->wake(w->arg, w->gen, w->dead) == 0;
		return !w->woken;
	}
	if (w->deadline >= 0 && w->timer_at < 0)
		watch_timer(w, w->deadline);
	return false;
}

static void *watch_main(void *arg)
{
	struct ipck_watch *w = arg;
	struct pollfd pf[3] = {{w->stop_fd, POLLIN, 0}, {w->tfd, POLLIN, 0}, {w->peer_fd, POLLIN, 0}};
	nfds_t nf = w->peer_fd >= 0 ? 3 : 2;
	bool retry = false;
	uint64_t x;

	for (;;) {
		if (poll(pf, nf, retry ? 1 : -1) < 0)
			continue;   /* not EINTR: every signal is blocked here */
		if (pf[0].revents)
			return NULL;
		if (pf[1].revents && read(w->tfd, &x, sizeof(x)) < 0)
			x = 0;   /* it was not due after all */
		pthread_mutex_lock(&w->mu);
		if (nf == 3 && pf[2].revents) {
			w->dead = true;
			nf = 2;   /* a pidfd stays readable: stop polling it */
		}
		if (pf[1].revents)
			w->timer_at = -1;
		retry = watch_check(w);
		pthread_mutex_unlock(&w->mu);
	}
}

int ipck__watch_start(struct ipck_watch **out, int peer_fd,
		      int (*wake)(void *arg, uint32_t gen, bool dead), void *arg)
{
	struct ipck_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->mu, NULL);
	w->peer_fd = peer_fd;
	w->wake = wake;
	w->arg = arg;
	w->deadline = w->timer_at = -1;
	w->owner = ipck__self();
	w->stop_fd = eventfd(0, EFD_CLOEXEC);
	w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	int r = w->stop_fd < 0 || w->tfd < 0 ? -errno : 0;
	if (!r)
		r = ipck__thread_start(&w->th, watch_main, w);
	if (r) {
		ipck__close_fd(w->stop_fd);
		ipck__close_fd(w->tfd);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return r;
	}
	*out = w;
	return 0;
}

int64_t ipck__watch_arm(struct ipck_watch *w, deadline_t dl)
{
	int64_t gen;
	IPCK_CRASH_POINT("wait");   /* a blocking receive, as ipck__wait_fd */
	pthread_mutex_lock(&w->mu);
	if (w->dead) {
		pthread_mutex_unlock(&w->mu);
		return -EPIPE;
	}
	w->armed = true;
	w->woken = false;
	gen = ++w->gen;
	w->deadline = dl;
	if (dl >= 0 && (w->timer_at < 0 || dl < w->timer_at))
		watch_timer(w, dl);
	pthread_mutex_unlock(&w->mu);
	return gen;
}

void ipck__watch_disarm(struct ipck_watch *w)
{
	pthread_mutex_lock(&w->mu);
	w->armed = false;
	pthread_mutex_unlock(&w->mu);
}

bool ipck__watch_dead(struct ipck_watch *w)
{
	pthread_mutex_lock(&w->mu);
	bool dead = w->dead;
	pthread_mutex_unlock(&w->mu);
	return dead;
}

/* A forked child's copy: let go of its descriptors, nothing else. */
static bool watch_forgot(struct ipck_watch *w)
{
	if (w->owner == ipck__self())   /* a cached pid: no system call per receive */
		return false;
	ipck__close_fd(w->stop_fd);
	ipck__close_fd(w->tfd);
	free(w);   /* its mutex may be a locked copy: not destroyed */
	return true;
}

int ipck__watch_ensure(struct ipck_watch **w, int peer_fd,
		       int (*wake)(void *arg, uint32_t gen, bool dead), void *arg)
{
	if (*w && watch_forgot(*w))
		*w = NULL;
	return *w ? 0 : ipck__watch_start(w, peer_fd, wake, arg);
}

void ipck__watch_stop(struct ipck_watch *w)
{
	uint64_t one = 1;
	if (!w || watch_forgot(w))
		return;
	if (write(w->stop_fd, &one, sizeof(one)) < 0)
		pthread_cancel(w->th);   /* cannot happen: an eventfd takes a write of 1 */
	pthread_join(w->th, NULL);
	ipck__close_fd(w->stop_fd);
	ipck__close_fd(w->tfd);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
