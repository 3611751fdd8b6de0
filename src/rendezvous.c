/*
 * rendezvous.c - what the FIFO and queue schemes share to meet (fifo, pmsg,
 * svmsg): the connection's nonce, the names of its objects and the greeting.
 *
 * The connecting side numbers every connection with a nonce.  Its low 32
 * bits count the connections of this process and, with the pid, name the
 * connection's objects ("<base>.<pid>.<n>.c2s"), so the names are known to
 * both sides from the hello alone; its high 32 bits are random, and the
 * welcome must echo the whole nonce.
 */
#include "internal.h"
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static _Atomic uint32_t conn_count;

/* ---- our pid, cached ----------------------------------------------------------- */

static pthread_once_t self_once = PTHREAD_ONCE_INIT;
static _Atomic pid_t *self_page;   /* MADV_WIPEONFORK: 0 again in a forked child */

static void self_init(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	if (madvise(p, 4096, MADV_WIPEONFORK) < 0) {   /* before Linux 4.14 */
		munmap(p, 4096);
		return;
	}
	self_page = p;
}

pid_t ipck__self(void)
{
	pthread_once(&self_once, self_init);
	if (!self_page)
		return getpid();
	pid_t pid = atomic_load_explicit(self_page, memory_order_relaxed);
	if (!pid) {
		pid = getpid();
		atomic_store_explicit(self_page, pid, memory_order_relaxed);
	}
	return pid;
}

uint64_t ipck__conn_nonce(void)
{
	uint32_t n = atomic_fetch_add_explicit(&conn_count, 1, memory_order_relaxed);
	return (ipck__nonce() & ~(uint64_t)UINT32_MAX) | n;
}

int ipck__conn_name(char *out, size_t cap, const char *base, const struct hello *h,
		    const char *dir)
{
	int n = snprintf(out, cap, "%s.%d.%u.%s", base, (int)h->pid,
			 (unsigned)(h->nonce & UINT32_MAX), dir);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

void ipck__hello_make(struct hello *h, uint32_t tag, uint64_t nonce)
{
	*h = (struct hello){
		.magic = IPCK_MAGIC, .tag = tag, .pid = (int32_t)getpid(),
		.uid = (uint32_t)geteuid(), .nonce = nonce,
	};
}

int ipck__hello_parse(struct hello *h, const void *buf, size_t n, uint32_t tag)
{
	if (n != sizeof(*h))
		return -EPROTO;
	memcpy(h, buf, sizeof(*h));
	if (h->magic != IPCK_MAGIC || h->tag != tag || h->pid <= 0)
		return -EPROTO;
	return 0;
}
