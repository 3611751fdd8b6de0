/*
 * objsnap.h - every IPC object a test owns, listed at one moment: the
 * entries of the test's directory (lstat), the POSIX objects named after its
 * tag and the System V objects of its keys (ipck_list).  Two snapshots
 * taken around an ipck_open tell which objects it made (t_perms*).
 */
#ifndef IPCK_OBJSNAP_H
#define IPCK_OBJSNAP_H

#include "ipckit.h"
#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

enum { SNAP_FIFO = 100, SNAP_SOCK, SNAP_FILE, SNAP_LINK, SNAP_DIR, SNAP_OTHER };

struct snapobj {
	int kind;              /* IPCK_KIND_SVMSG.. for IPC objects, SNAP_* for paths */
	char name[PATH_MAX];   /* a path, "/name" (POSIX), or "" (System V) */
	long long key, id;     /* System V; id is the inode for paths */
	unsigned mode;         /* permission bits */
	uid_t uid;
};

struct snap {
	struct snapobj o[64];
	int n;
};

/* Fill s; 0 or a negative errno.  Paths are listed one level deep. */
int snap_take(struct snap *s);
/* Objects of b that a does not have (same kind and name/key) into out. */
int snap_new(const struct snap *a, const struct snap *b, struct snap *out);
/* "fifo /dir/x 0600 uid 0" */
const char *snap_str(const struct snapobj *o);
/* Is this a path in the test's directory (fifo, socket, file...)? */
bool snap_is_path(const struct snapobj *o);
/* The same objects, each with the same identity, mode and owner? */
bool snap_equal(const struct snap *a, const struct snap *b);
/* What a listener at url makes (it is opened and closed again); 0 or -errno. */
int snap_listener_names(const char *url, struct snap *out);

/* Make an object of kind (SNAP_* or IPCK_KIND_*) at o's name or key: 0 or -1 (errno). */
int snap_make(int kind, const struct snapobj *o, unsigned mode);
/* Remove the object of kind at o's name or key, whoever owns it. */
void snap_remove(int kind, const struct snapobj *o);
/* A file of ours, 0644, "precious", in the test's directory, for symlinks to
 * point to: its path, or NULL.  Intact: still a 0644 file saying so. */
const char *snap_precious(void);
bool snap_precious_intact(void);
/* The /dev/shm path of a POSIX segment or semaphore; NULL for other kinds. */
const char *snap_posix_path(const struct snapobj *o);

#endif
