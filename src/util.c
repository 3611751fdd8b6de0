/*
 * util.c - deadlines, waiting with a peer watch, SIGPIPE-free writes.
 *
 * The peer watch is a pidfd (Linux 5.3+): it polls readable once the process
 * has exited and cannot be fooled by pid reuse after it was opened.
 */
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

int64_t ipck__now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

deadline_t ipck__deadline(int timeout_ms)
{
	if (timeout_ms < 0)
		return -1;
	return ipck__now_ns() + (int64_t)timeout_ms * 1000000;
}

int ipck__ms_left(deadline_t dl)
{
	if (dl < 0)
		return -1;
	int64_t left = dl - ipck__now_ns();
	if (left <= 0)
		return 0;
	return (int)((left + 999999) / 1000000);
}

static struct timespec *ts_left(deadline_t dl, struct timespec *ts)
{
	if (dl < 0)
		return NULL;
	int64_t left = dl - ipck__now_ns();
	if (left < 0)
		left = 0;
	ts->tv_sec = left / 1000000000;
	ts->tv_nsec = left % 1000000000;
	return ts;
}

int ipck__wait_fd(const ipck_chan *ch, int fd, short events, deadline_t dl)
{
	struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = ch->peer_fd, .events = POLLIN}};
	nfds_t n = ch->peer_fd >= 0 ? 2 : 1;
	struct timespec ts;

	IPCK_CRASH_POINT("wait");
	for (;;) {
		int r = ppoll(p, n, ts_left(dl, &ts), NULL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (p[0].revents)
			return 0;
		if (n == 2 && p[1].revents)
			return -EPIPE;
		if (r == 0)
			return -ETIMEDOUT;
	}
}

bool ipck__peer_gone(const ipck_chan *ch)
{
	if (ch->peer_fd < 0)
		return false;
	struct pollfd p = {.fd = ch->peer_fd, .events = POLLIN};
	return poll(&p, 1, 0) > 0;
}

int ipck__watch_peer(ipck_chan *ch, pid_t pid)
{
	if (pid <= 0)
		return -EPROTO;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0 && errno == ESRCH) {
		/*
		 * The peer already exited: it may have connected, sent and gone
		 * before we got here, and what it sent must still be delivered.
		 * Watch a token that is "gone" from the start (an eventfd that
		 * polls readable), so every wait drains first, then says -EPIPE.
		 */
		fd = eventfd(1, EFD_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	/* pidfds are created close-on-exec. */
	ch->peer_fd = fd;
	ch->peer_pid = pid;
	return 0;
}

void ipck__backoff(unsigned attempt, deadline_t dl)
{
	int64_t ns = 20000LL << (attempt < 6 ? attempt : 6);   /* 20 µs .. 1.28 ms */
	if (ns > 1000000)
		ns = 1000000;
	if (dl >= 0) {
		int64_t left = dl - ipck__now_ns();
		if (left < ns)
			ns = left > 0 ? left : 0;
	}
	struct timespec ts = {.tv_sec = 0, .tv_nsec = ns};
	nanosleep(&ts, NULL);
}

/* This kernel refused RWF_NOSIGNAL (before 6.18): mask SIGPIPE instead. */
static _Atomic bool nosig_refused;

/*
 * A write to a pipe or FIFO whose reader is gone raises SIGPIPE, and write(2)
 * has no MSG_NOSIGNAL.  Since Linux 6.18 pwritev2 takes RWF_NOSIGNAL (offset
 * -1: the file position, which a pipe has none of); an older kernel refuses
 * the unknown flag with EOPNOTSUPP before writing anything, and then:
 * block SIGPIPE in this thread around the write; if the write failed with
 * EPIPE and SIGPIPE was not blocked before, the signal now pending is ours:
 * take it with sigtimedwait before restoring the mask.  (If it was blocked
 * before, the caller's own pending SIGPIPE is left alone.)  The mask costs
 * two system calls per write, about half a microsecond here.
 */
ssize_t ipck__write_masked(int fd, const struct iovec *iov, int iovcnt)
{
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	ssize_t n = iovcnt == 1 ? write(fd, iov->iov_base, iov->iov_len) : writev(fd, iov, iovcnt);
	int e = errno;
	if (n < 0 && e == EPIPE && !sigismember(&old, SIGPIPE)) {
		const struct timespec zero = {0, 0};
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return n < 0 ? -e : n;
}

ssize_t ipck__write_nosig(int fd, const struct iovec *iov, int iovcnt)
{
	if (!atomic_load_explicit(&nosig_refused, memory_order_relaxed)) {
		ssize_t n = pwritev2(fd, iov, iovcnt, -1, RWF_NOSIGNAL);
		if (n >= 0 || errno != EOPNOTSUPP)   /* a pipe write has no other EOPNOTSUPP */
			return n < 0 ? -errno : n;
		atomic_store_explicit(&nosig_refused, true, memory_order_relaxed);
	}
	return ipck__write_masked(fd, iov, iovcnt);
}

int ipck__set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	int nfl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	if (nfl != fl && fcntl(fd, F_SETFL, nfl) < 0)
		return -errno;
	return 0;
}

int ipck__close_fd(int fd)
{
	if (fd < 0)
		return 0;
	/* Linux releases the descriptor even when close reports EINTR. */
	if (close(fd) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

long long ipck__read_sysctl(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char buf[64];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int e = errno;
	close(fd);
	if (n <= 0)
		return n < 0 ? -e : -EIO;
	buf[n] = '\0';
	char *end;
	long long v = strtoll(buf, &end, 10);
	if (end == buf)
		return -EIO;
	return v;
}

uint64_t ipck__nonce(void)
{
	uint64_t v = 0;
	while (getrandom(&v, sizeof(v), 0) < 0 && errno == EINTR)
		;
	return v ? v : (uint64_t)ipck__now_ns() ^ ((uint64_t)getpid() << 32);
}

int ipck__check_owner(const struct ipck_url *u, uid_t uid)
{
	if (uid == geteuid())
		return 0;
	if (u->peer_uid >= 0 && (uid_t)u->peer_uid == uid)
		return 0;
	return -EACCES;
}
