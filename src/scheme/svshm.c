/*
 * svshm.c - "svshm:KEY", "svshm:id=N": a ring in System V shared memory
 * (shmget + shmat), sleeping waits on a System V semaphore set: the pairing
 * of the classic bounded-buffer programs.  The listener creates the segment
 * KEY (0600, IPC_EXCL) as its rendezvous object; a client may name it by
 * key or by id.  Each connection gets a private segment, marked IPC_RMID as
 * soon as both sides are attached (the kernel frees it at the last detach,
 * SIGKILL included), and a private set of four semaphores, removed by the
 * last side to close.  With ?mpmc=1 the KEY segment is the ring itself and a
 * semaphore set of the same KEY holds its waits and its two locks, taken
 * with SEM_UNDO so that a killed holder's lock is given back by the kernel.
 * Trap: System V objects have no descriptor to pass, so a client attaches
 * by id after checking the segment's creator and owner (IPC_STAT).
 */
#include "../ring.h"
#include <errno.h>

int ipck__svshm_seg(struct ipck_shm *s, const struct ipck_url *u, size_t size, uint64_t nonce)
{
	(void)nonce;
	ipck__shm_init(s);
	s->kind = SHM_SYSV;
	return ipck__shm_create(s, size, u->mode);   /* IPC_PRIVATE */
}

const struct ipck_scheme ipck__scheme_svshm = {
	.info = {"svshm", "a ring in System V shared memory, semaphore waits (zero-copy)",
		 IPCK_CAP_NAMED},
	.parse = ipck__ringconn_parse,
	RING_SLOTS,
};
