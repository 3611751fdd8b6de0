/*
 * shm.h - shared memory segments of every kind behind one small struct:
 * the public ipck_shm_* primitives (shm.c) and the rings (ring.c) use it.
 * Private.
 */
#ifndef IPCK_SHM_H
#define IPCK_SHM_H

#include "internal.h"
#include <sys/ipc.h>
#include <sys/stat.h>

enum shm_kind {
	SHM_POSIX = 1,  /* shm_open("/name") */
	SHM_SYSV,       /* shmget(key) or an id */
	SHM_FILE,       /* a regular file, mapped MAP_SHARED */
	SHM_MEMFD,      /* memfd_create: unnamed, sealed */
};

struct ipck_shm {
	enum shm_kind kind;
	int fd;                 /* POSIX, file, memfd; else -1 */
	int id;                 /* System V shmid; else -1 */
	key_t key;              /* System V key (IPC_PRIVATE for none) */
	void *p;                /* the mapping, or NULL */
	size_t size;            /* size of the object, checked at open */
	uid_t uid;              /* its owner */
	pid_t cpid;             /* System V: its creator */
	dev_t dev;              /* identity of a named object, to remove */
	ino_t ino;              /*   only the one we made */
	bool created;           /* made by this handle */
	char name[PATH_MAX];    /* "/name" or a path; "" for none */
};

/* Fill kind, name, key, id from a pshm:, svshm: or mmap: URL; -EINVAL if bad. */
int ipck__shm_url(const struct ipck_url *u, struct ipck_shm *s);
void ipck__shm_init(struct ipck_shm *s);
/* Create s (kind, name/key filled) exclusively, 0600 or mode, size bytes. */
int ipck__shm_create(struct ipck_shm *s, size_t size, unsigned mode);
/* Open the existing s and learn its size and owner (fstat / IPC_STAT). */
int ipck__shm_open(struct ipck_shm *s);
/* Take fd (a received or unnamed one) into s and learn its size and owner. */
int ipck__shm_adopt_fd(struct ipck_shm *s, int fd);
/* Map all of s->size read-write, shared. */
int ipck__shm_map(struct ipck_shm *s);
/* Unmap, close; the object itself stays. */
int ipck__shm_close(struct ipck_shm *s);
/* Remove the object's name if it is still the one s made or opened. */
int ipck__shm_remove(struct ipck_shm *s);
/* Remove by name (ipck_unlink); -ENOENT when there is none. */
int ipck__shm_unlink(const struct ipck_shm *s);

#endif
