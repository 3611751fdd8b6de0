/*
 * wait.c - how a ring side waits: spin a bounded time (?spin_us=, default
 * 50), then flag in shared memory that it sleeps and sleep on a futex
 * (pshm:, mmap:) or a System V semaphore (svshm:).  The other side makes the
 * wake-up call only when it finds the flag set, so two busy sides make no
 * system call at all.
 *
 * The flag is a Dekker handshake: the sleeper stores its flag, then loads
 * the position; the waker stores the position, then loads the flag.
 * Without a full barrier on both sides both loads can miss the other store
 * (store buffers) and the sleeper sleeps through a message.  The waker's
 * barrier is on the hot path, so when its process could register for
 * membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) it is only a compiler barrier,
 * and the sleeper, on its slow path, issues that membarrier, which runs a
 * full barrier on every CPU running a registered process.  (The asymmetric
 * fence of liburcu and folly.)  Without membarrier both sides use a full
 * fence.
 *
 * A sleep lasts at most RING_SLICE_MS; the sleeper then looks at the peer's
 * pidfd and the socket, so a dead peer is noticed without a helper thread.
 */
#include "ring.h"
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Register this process for membarrier once (again in a forked child). */
void ipck__ring_light_init(struct ring *r)
{
	static _Atomic int32_t done;   /* pid that registered, or -pid: it failed */
	int32_t me = (int32_t)getpid(), d = atomic_load_explicit(&done, memory_order_relaxed);
	if (d != me && d != -me) {
		long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
		bool ok = q > 0 && (q & MEMBARRIER_CMD_GLOBAL_EXPEDITED) &&
			  (q & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) &&
			  syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0;
		d = ok ? me : -me;
		atomic_store_explicit(&done, d, memory_order_relaxed);
	}
	r->light = d == me;
}

void ipck__ring_heavy_barrier(const struct ring *r)
{
	atomic_thread_fence(memory_order_seq_cst);
	bool peer_light = !r->mpmc && r->h &&
		atomic_load_explicit(&r->h->side[!r->me].light, memory_order_relaxed);
	if (r->light || peer_light)
		syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0);
}

void ipck__ring_wake(struct ring *r, _Atomic uint32_t *word, unsigned idx)
{
	uint32_t w = atomic_exchange_explicit(word, 0, memory_order_relaxed);
	if (w & WAIT_SLEEP) {
		RSTAT(ST_WAKE);
		r->w->wake(r, word, idx, r->mpmc);
	}
	if (w & WAIT_POLL)
		ipck__ring_ring_bell(r);
}

int ipck__ring_ring_bell(struct ring *r)
{
	if (r->sock < 0)
		return 0;
	/* One byte; a full socket is already readable, so EAGAIN is fine. */
	ssize_t n = send(r->sock, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	return n < 0 && errno != EAGAIN ? -errno : 0;
}

bool ipck__ring_peer_gone(ipck_chan *ch)
{
	struct ring *r = ipck__priv(ch);
	if (r->mpmc)
		return false;
	if (atomic_load_explicit(&r->h->side[!r->me].closed, memory_order_acquire))
		return true;
	if (ch->peer_fd < 0) {   /* a pair: the peer says who it is when it starts */
		int32_t pid = atomic_load_explicit(&r->h->side[!r->me].pid, memory_order_acquire);
		if (pid > 0 && pid != getpid() && ipck__watch_peer(ch, pid) == -EPIPE)
			return true;
	}
	struct pollfd p[2] = {{.fd = r->sock}, {.fd = ch->peer_fd, .events = POLLIN}};
	int n = poll(p, 2, 0);
	return n > 0 && ((p[0].revents & (POLLHUP | POLLERR)) || p[1].revents);
}

/*
 * Spin until ready or end.  Now and then yield the CPU: when there are more
 * runnable processes than CPUs the peer may be waiting for this very CPU,
 * and spinning would only burn the time it needs.
 */
static bool spin(ipck_chan *ch, bool (*ready)(ipck_chan *, bool), int64_t end)
{
	for (unsigned i = 1;; i++) {
		if (ready(ch, false))
			return true;
		cpu_relax();
		if (!(i & 31) && ipck__now_ns() >= end)
			return false;
		if (!(i & 1023)) {
			RSTAT(ST_YIELD);
			sched_yield();
		}
	}
}

static void disarm(struct ring *r, _Atomic uint32_t *word)
{
	/* Others may share an MPMC word and still sleep on it: leave it. */
	if (!r->mpmc)
		atomic_store_explicit(word, 0, memory_order_relaxed);
}

static int sleep_phase(ipck_chan *ch, bool (*ready)(ipck_chan *, bool),
		       _Atomic uint32_t *word, unsigned idx, deadline_t dl)
{
	struct ring *r = ipck__priv(ch);
	uint32_t val = WAIT_SLEEP | (r->polling && !(idx & 1) ? WAIT_POLL : 0);
	bool timed_out = true;

	for (;;) {
		if (atomic_load_explicit(word, memory_order_relaxed) != val) {
			atomic_store_explicit(word, val, memory_order_relaxed);
			/* The flag before the re-check: pairs with ring_kick. */
			ipck__ring_heavy_barrier(r);
		}
		if (ready(ch, true))
			break;
		if (timed_out && ipck__ring_peer_gone(ch)) {
			disarm(r, word);
			return -EPIPE;
		}
		int64_t left = RING_SLICE_MS * 1000000LL;
		if (dl >= 0 && dl - ipck__now_ns() < left)
			left = dl - ipck__now_ns();
		if (left <= 0) {
			disarm(r, word);
			return -ETIMEDOUT;
		}
		RSTAT(ST_SLEEP);
		int e = r->w->sleep(r, word, val, idx, left);
		if (ready(ch, true))
			break;
		if (e == -EPIPE) {   /* svshm: the semaphore set was removed */
			disarm(r, word);
			return -EPIPE;
		}
		timed_out = e == -ETIMEDOUT;
	}
	disarm(r, word);
	return 0;
}

int ipck__ring_wait(ipck_chan *ch, bool (*ready)(ipck_chan *, bool), _Atomic uint32_t *word,
		    unsigned idx, int timeout_ms)
{
	IPCK_CRASH_POINT("wait");
	struct ring *r = ipck__priv(ch);
	if (timeout_ms == 0)
		return ready(ch, true) ? 0 : -ETIMEDOUT;
	int64_t now = ipck__now_ns();
	deadline_t dl = timeout_ms < 0 ? -1 : now + (int64_t)timeout_ms * 1000000;
	int64_t end = now + r->spin_ns;
	if (dl >= 0 && end > dl)
		end = dl;
	if (r->spin_ns > 0 && spin(ch, ready, end))
		return 0;
	return sleep_phase(ch, ready, word, idx, dl);
}

/* ---- futexes (pshm:, mmap:) ------------------------------------------------ */

static long futex(_Atomic uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
	/* Not FUTEX_PRIVATE_FLAG: the word is in memory shared between processes. */
	return syscall(SYS_futex, (uint32_t *)w, op, val, ts, NULL, 0);
}

static int fx_sleep(struct ring *r, _Atomic uint32_t *word, uint32_t val, unsigned idx, int64_t ns)
{
	(void)r;
	(void)idx;
	struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
	if (futex(word, FUTEX_WAIT, val, &ts) < 0 && errno == ETIMEDOUT)
		return -ETIMEDOUT;
	return 0;
}

static void fx_wake(struct ring *r, _Atomic uint32_t *word, unsigned idx, bool all)
{
	(void)r;
	(void)idx;
	futex(word, FUTEX_WAKE, all ? INT_MAX : 1, NULL);
}

/*
 * A lock a dead holder cannot keep: the word holds the holder's pid (and
 * LOCK_WAITERS).  A waiter that sleeps a whole slice looks at the holder
 * and, if it has exited, takes the lock over with a compare-and-swap: what
 * the dead holder had reserved was never published, so the next holder
 * simply starts again from the published positions.
 */
#define LOCK_WAITERS 0x80000000u

static bool pid_dead(uint32_t pid)
{
	if (!pid || pid > (uint32_t)INT_MAX)
		return true;   /* garbage is nobody */
	int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (fd < 0)
		return errno == ESRCH;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	bool dead = poll(&p, 1, 0) > 0;   /* readable: exited (a zombie too) */
	close(fd);
	return dead;
}

/* Take l (0 to pid) after a short spin; false if it stayed held. */
static bool fx_try(_Atomic uint32_t *l, uint32_t me, uint32_t *v)
{
	for (int i = 0; i < 100; i++) {
		*v = 0;
		/* Acquire (on success): what the previous holder published is visible. */
		if (atomic_compare_exchange_weak_explicit(l, v, me, memory_order_acquire,
							  memory_order_relaxed))
			return true;
		cpu_relax();
	}
	return false;
}

static int fx_lock(struct ring *r, unsigned which, deadline_t dl)
{
	_Atomic uint32_t *l = &r->h->lock[which];
	uint32_t me = (uint32_t)ipck__self(), v;
	bool look = false;   /* a whole slice passed: is the holder alive? */

	if (fx_try(l, me, &v))
		return 0;
	for (;;) {
		if (v == 0 || (look && pid_dead(v & ~LOCK_WAITERS))) {
			/* Free, or its holder is dead: take it, and keep the waiters bit. */
			if (atomic_compare_exchange_strong_explicit(l, &v, me | LOCK_WAITERS,
					memory_order_acquire, memory_order_relaxed))
				return 0;
			look = false;
			continue;
		}
		if (!(v & LOCK_WAITERS) && !atomic_compare_exchange_strong_explicit(l, &v,
				v | LOCK_WAITERS, memory_order_relaxed, memory_order_relaxed))
			continue;
		int64_t left = RING_SLICE_MS * 1000000LL;
		if (dl >= 0 && dl - ipck__now_ns() < left)
			left = dl - ipck__now_ns();
		if (left <= 0)
			return -ETIMEDOUT;
		struct timespec ts = {.tv_sec = left / 1000000000, .tv_nsec = left % 1000000000};
		look = futex(l, FUTEX_WAIT, v | LOCK_WAITERS, &ts) < 0 && errno == ETIMEDOUT;
		v = atomic_load_explicit(l, memory_order_relaxed);
	}
}

static void fx_unlock(struct ring *r, unsigned which)
{
	_Atomic uint32_t *l = &r->h->lock[which];
	/* Release: what we published before the next holder's acquire. */
	if (atomic_exchange_explicit(l, 0, memory_order_release) & LOCK_WAITERS)
		futex(l, FUTEX_WAKE, 1, NULL);
}

const struct ring_waitops ipck__futex_waitops = {
	.sleep = fx_sleep, .wake = fx_wake, .lock = fx_lock, .unlock = fx_unlock,
};

/* ---- System V semaphores (svshm:) ------------------------------------------- */

/*
 * Semaphores 0..3 are the wait words (a post per wake-up; a post that finds
 * nobody asleep makes the next sleep return at once, which only costs a
 * look), 4 and 5 the MPMC locks, taken with SEM_UNDO so that the kernel
 * gives a dead holder's lock back.
 */
static int sem_timed(int semid, unsigned short n, short op, short fl, int64_t ns)
{
	struct sembuf b = {.sem_num = n, .sem_op = op, .sem_flg = fl};
	struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
	if (semtimedop(semid, &b, 1, ns < 0 ? NULL : &ts) == 0)
		return 0;
	if (errno == EIDRM || errno == EINVAL)
		return -EPIPE;   /* the set is gone: so is whoever owned the ring */
	return errno == EAGAIN ? -ETIMEDOUT : -errno;
}

static int sv_sleep(struct ring *r, _Atomic uint32_t *word, uint32_t val, unsigned idx, int64_t ns)
{
	(void)word;
	(void)val;
	int e = sem_timed(r->semid, (unsigned short)idx, -1, 0, ns);
	return e == -ETIMEDOUT || e == -EPIPE ? e : 0;
}

static void sv_wake(struct ring *r, _Atomic uint32_t *word, unsigned idx, bool all)
{
	(void)word;
	int n = all ? semctl(r->semid, (int)idx, GETNCNT) : 1;
	sem_timed(r->semid, (unsigned short)idx, (short)(n > 1 ? (n < SHRT_MAX ? n : SHRT_MAX) : 1), 0, 0);
}

static int sv_lock(struct ring *r, unsigned which, deadline_t dl)
{
	for (;;) {
		int64_t left = dl < 0 ? -1 : dl - ipck__now_ns();
		if (dl >= 0 && left <= 0)
			return -ETIMEDOUT;
		int e = sem_timed(r->semid, (unsigned short)(4 + which), -1, SEM_UNDO, left);
		if (e != -EINTR)
			return e;
	}
}

static void sv_unlock(struct ring *r, unsigned which)
{
	sem_timed(r->semid, (unsigned short)(4 + which), 1, SEM_UNDO, 0);
}

const struct ring_waitops ipck__sem_waitops = {
	.sleep = sv_sleep, .wake = sv_wake, .lock = sv_lock, .unlock = sv_unlock,
};
