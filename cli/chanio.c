/*
 * chanio.c - what send, recv and relay share: URLs with --raw and options
 * added, opening as listener or client, waiting that SIGINT/SIGTERM can
 * interrupt (the library retries EINTR, so the commands wait on the
 * channel's pollfd and a signalfd instead), and lines of raw byte streams.
 */
#include "cli.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

static int sig_fd = -1;

int cli_sig_init(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &s, NULL) < 0)
		return -errno;
	sig_fd = signalfd(-1, &s, SFD_CLOEXEC | SFD_NONBLOCK);
	return sig_fd < 0 ? -errno : 0;
}

bool cli_interrupted(void)
{
	struct pollfd p = {.fd = sig_fd, .events = POLLIN};
	return sig_fd >= 0 && poll(&p, 1, 0) > 0;
}

char *cli_url_with(const char *url, const char *opt)
{
	size_t n = strlen(url) + strlen(opt) + 2;
	char *u = malloc(n);
	if (u)
		snprintf(u, n, "%s%c%s", url, strchr(url, '?') ? '&' : '?', opt);
	return u;
}

const struct ipck_scheme_info *cli_scheme_of(const char *url)
{
	const char *c = strchr(url, ':');
	const struct ipck_scheme_info *s;
	for (size_t i = 0; c && (s = ipck_scheme_at(i)); i++)
		if (strlen(s->name) == (size_t)(c - url) && !strncmp(s->name, url, (size_t)(c - url)))
			return s;
	return NULL;
}

bool cli_is_byte_stream(const char *url, bool raw)
{
	const struct ipck_scheme_info *s = cli_scheme_of(url);
	return raw && s && (s->caps & IPCK_CAP_STREAM);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait until one of fds polls readable, a signal arrives, or timeout_ms
 * passes.  Returns 1 ready, 0 timed out, -EINTR interrupted.
 */
int cli_wait_any(const int *fds, int n, int timeout_ms)
{
	int64_t end = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	struct pollfd p[8];
	if (n > 7)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
	p[n] = (struct pollfd){.fd = sig_fd, .events = POLLIN};
	for (;;) {
		int left = end < 0 ? -1 : (int)(end - mono_ms());
		if (end >= 0 && left < 0)
			left = 0;
		int r = poll(p, (nfds_t)n + (sig_fd >= 0), left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (sig_fd >= 0 && p[n].revents)
			return -EINTR;
		return r > 0;
	}
}

int cli_wait_readable(int fd, int timeout_ms)
{
	return cli_wait_any(&fd, 1, timeout_ms);
}

/* Slices of a blocking call, so that a signal ends the wait. */
#define SLICE_MS 100

static int slice(int timeout_ms, int64_t end)
{
	if (timeout_ms < 0)
		return SLICE_MS;
	int64_t left = end - mono_ms();
	return left <= 0 ? 0 : left < SLICE_MS ? (int)left : SLICE_MS;
}

int cli_accept(ipck_chan *l, ipck_chan **c, int timeout_ms)
{
	int64_t end = mono_ms() + timeout_ms;
	for (;;) {
		int r = ipck_accept(l, c, slice(timeout_ms, end));
		if (r != -ETIMEDOUT)
			return r;
		if (cli_interrupted())
			return -EINTR;
		if (timeout_ms >= 0 && mono_ms() >= end)
			return r;
	}
}

ssize_t cli_recv(ipck_chan *c, void *buf, size_t cap, int timeout_ms)
{
	return cli_recv_any(c, buf, cap, NULL, NULL, NULL, timeout_ms);
}

ssize_t cli_recv_from(ipck_chan *c, void *buf, size_t cap, pid_t *from, int timeout_ms)
{
	return cli_recv_any(c, buf, cap, NULL, NULL, from, timeout_ms);
}

ssize_t cli_recv_fds(ipck_chan *c, void *buf, size_t cap, int *fds, size_t *nfds, int timeout_ms)
{
	return cli_recv_any(c, buf, cap, fds, nfds, NULL, timeout_ms);
}

/* One library receive: with descriptors (fds), else with the sender (from). */
static ssize_t recv_once(ipck_chan *c, void *buf, size_t cap, int *fds, size_t *nfds,
			 pid_t *from, int t)
{
	if (!fds)
		return ipck_recv_from(c, buf, cap, from, t);
	ssize_t n = ipck_recv_fds(c, buf, cap, fds, nfds, t);
	if (from)
		*from = n >= 0 ? ipck_peer_pid(c) : 0;
	return n;
}

ssize_t cli_recv_any(ipck_chan *c, void *buf, size_t cap, int *fds, size_t *nfds, pid_t *from,
		     int timeout_ms)
{
	int64_t end = mono_ms() + timeout_ms;
	size_t room = nfds ? *nfds : 0;
	for (;;) {
		if (nfds)
			*nfds = room;   /* in/out: the room again for every try */
		ssize_t n = recv_once(c, buf, cap, fds, nfds, from, 0);
		if (n != -ETIMEDOUT)
			return n;
		int left = timeout_ms < 0 ? -1 : (int)(end - mono_ms());
		if (timeout_ms >= 0 && left <= 0)
			return -ETIMEDOUT;
		int part = left < 0 || left > SLICE_MS ? SLICE_MS : left;
		int fd = ipck_pollfd(c);
		if (fd < 0) {   /* no descriptor: wait inside the library, in slices */
			if (nfds)
				*nfds = room;
			n = recv_once(c, buf, cap, fds, nfds, from, part);
			if (n != -ETIMEDOUT)
				return n;
		} else if (cli_wait_readable(fd, part) == -EINTR) {
			return -EINTR;
		}
		if (cli_interrupted())
			return -EINTR;
	}
}

ssize_t cli_send(ipck_chan *c, const void *msg, size_t len, int timeout_ms)
{
	return cli_send_fds(c, msg, len, NULL, 0, timeout_ms);
}

ssize_t cli_send_fds(ipck_chan *c, const void *msg, size_t len, const int *fds, size_t nfds,
		     int timeout_ms)
{
	int64_t end = mono_ms() + timeout_ms;
	for (;;) {   /* -ETIMEDOUT: nothing was sent, descriptors included */
		int part = slice(timeout_ms, end);
		ssize_t n = nfds ? ipck_send_fds(c, msg, len, fds, nfds, part)
				 : ipck_send(c, msg, len, part);
		if (n != -ETIMEDOUT)
			return n;
		if (cli_interrupted())
			return -EINTR;
		if (timeout_ms >= 0 && mono_ms() >= end)
			return n;
	}
}

/* Does the URL's query say mailbox=1?  (The library refuses it twice.) */
static bool is_mailbox(const char *url)
{
	const char *q = strchr(url, '?');
	while (q) {
		q++;
		size_t n = strcspn(q, "&");
		if (n == 9 && !strncmp(q, "mailbox=1", 9))
			return true;
		q = strchr(q, '&');
	}
	return false;
}

int cli_connect(ipck_chan **c, const char *url, bool listen, int timeout_ms, ipck_chan **lp)
{
	*lp = NULL;
	if (!listen)
		return ipck_open(c, url, 0);
	int r = ipck_open(lp, url, IPCK_LISTEN);
	if (r < 0)
		return r;
	r = is_mailbox(url) ? -ENOTSUP : cli_accept(*lp, c, timeout_ms);
	if (r == -ENOTSUP) {   /* a mailbox (?mailbox=1): the listener itself receives */
		*c = *lp;
		*lp = NULL;
		return 0;
	}
	if (r < 0) {
		ipck_close(*lp);
		*lp = NULL;
	}
	return r;
}
