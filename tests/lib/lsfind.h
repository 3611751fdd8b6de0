/*
 * lsfind.h - for the tests of ipck_list: copies of the objects a listing
 * passed (its own are valid only inside the callback), found by kind and
 * name pattern.
 */
#ifndef IPCK_LSFIND_H
#define IPCK_LSFIND_H

#include "ipckit.h"
#include <limits.h>

struct lsobj {
	struct ipck_obj o;         /* its string pointers point into this copy */
	char name[PATH_MAX];
	char url[PATH_MAX + 16];
	char type[16], state[16], scheme[16];
	struct ipck_holder h[32];
	size_t nh;
};

/*
 * Objects of kind (0: any) whose name matches pattern (System V: the key as
 * 0x%08x), with IPCK_LIST_* flags; copies up to max into out and returns how
 * many matched, or a negative errno.  *missing gets opts.missing if not NULL.
 */
int ls_find(int kind, const char *pattern, unsigned flags, struct lsobj *out, int max,
	    unsigned *missing);
/* The holder of o with pid, or NULL. */
const struct ipck_holder *ls_holder(const struct lsobj *o, pid_t pid);

/*
 * Run "$IPCK_BIN args" through sh; returns its standard output (malloc'd,
 * NUL-terminated) and its exit status in *status.
 */
char *run_cli(const char *args, int *status);

#endif
