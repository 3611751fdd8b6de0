/*
 * t_remove.c - ipck_remove and `ipckit rm` refuse what they must: bad
 * targets (nothing touched), another user's objects (unless forced), the
 * wrong type of file; --dry-run removes nothing; each removal and each
 * failure is reported with the target and the errno name.
 */
#include "check.h"
#include "lsfind.h"
#include <fcntl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOBODY 65534

static void bad_targets(void)
{
	const char *bad[] = {
		"", "svshm", "svshm:", "svshm:0", "svshm:id=", "svshm:id=-1", "svshm:0x1g",
		"svshm:id=1?x=1", "svsem:99999999999", "nosuch:x", "pshm:", "pshm:/", "pshm:noslash",
		"pshm:/a/b", "psem:/..", "pmsg:", "fifo:", ":/x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = ipck_remove(bad[i], 0);
		if (r != -EINVAL)
			fprintf(stderr, "target '%s': %s\n", bad[i], ipck_errname(r));
		CHECK_EQ(r, -EINVAL);
	}
	CHECK_EQ(ipck_remove(NULL, 0), -EINVAL);
	CHECK_EQ(ipck_remove("pshm:/x", 0x100), -EINVAL);
	CHECK_EQ(ipck_remove("pipe:", 0), -ENOTSUP);
	CHECK_EQ(ipck_remove("abstract:x", 0), -ENOTSUP);
	CHECK_EQ(ipck_remove(fmt("pshm:/%s-none", test_tag()), 0), -ENOENT);
	CHECK_EQ(ipck_remove(fmt("fifo:%s/none", test_dir()), 0), -ENOENT);
	CHECK_EQ(ipck_remove(fmt("svmsg:0x%lx", test_key(9)), 0), -ENOENT);

	/* Not a FIFO, not a socket: never removed. */
	const char *file = fmt("%s/regular", test_dir());
	int fd = open(file, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ(ipck_remove(fmt("fifo:%s", file), IPCK_RM_FORCE), -EINVAL);
	CHECK_EQ(ipck_remove(fmt("unix:%s", file), IPCK_RM_FORCE), -ENOTSOCK);
	CHECK_SYS(access(file, F_OK));
	CHECK_SYS(unlink(file));
}

/* Our segment: --dry-run keeps it, rm removes it, each says so. */
static void own_segment(void)
{
	long key = test_key(1);
	int id = shmget((key_t)key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	REQUIRE(id >= 0);
	struct shmid_ds ds;
	int st;
	char *out = run_cli(fmt("rm --dry-run svshm:0x%lx", key), &st);
	CHECK_EQ(st, 0);
	CHECK(!strcmp(out, fmt("would remove svshm:0x%lx\n", key)));
	free(out);
	CHECK_SYS(shmctl(id, IPC_STAT, &ds));   /* still there */
	out = run_cli(fmt("rm svshm:id=%d", id), &st);
	CHECK_EQ(st, 0);
	CHECK(!strcmp(out, fmt("removed svshm:id=%d\n", id)));
	free(out);
	CHECK_EQ(shmctl(id, IPC_STAT, &ds), -1);
	out = run_cli(fmt("rm svshm:id=%d 2>&1", id), &st);
	CHECK_EQ(st, 1);
	CHECK(strstr(out, fmt("svshm:id=%d: ENOENT", id)) != NULL);
	free(out);
}

static int make_as_nobody(void *arg)
{
	long key = *(long *)arg;
	if (setresgid(NOBODY, NOBODY, NOBODY) < 0 || setresuid(NOBODY, NOBODY, NOBODY) < 0)
		return 1;
	return shmget((key_t)key, 4096, IPC_CREAT | IPC_EXCL | 0600) < 0;
}

/* Another user's segment: refused and kept; forced, removed. */
static void other_users_segment(void)
{
	long key = test_key(2);
	CHECK_EQ(reap(spawn(make_as_nobody, &key)), 0);
	int id = shmget((key_t)key, 0, 0);
	REQUIRE(id >= 0);
	CHECK_EQ(ipck_remove(fmt("svshm:id=%d", id), 0), -EACCES);
	CHECK_EQ(ipck_remove(fmt("svshm:0x%lx", key), IPCK_RM_DRY_RUN), -EACCES);
	int st;
	char *out = run_cli(fmt("rm svshm:id=%d 2>&1", id), &st);
	CHECK_EQ(st, 1);
	CHECK(strstr(out, fmt("svshm:id=%d", id)) && strstr(out, "EACCES") && strstr(out, "--force"));
	free(out);
	struct shmid_ds ds;
	CHECK_SYS(shmctl(id, IPC_STAT, &ds));
	CHECK_OK(ipck_remove(fmt("svshm:id=%d", id), IPCK_RM_FORCE));
	CHECK_EQ(shmctl(id, IPC_STAT, &ds), -1);
}

/* Files owned by nobody: refused with EACCES, removed with --force. */
static void other_users_files(void)
{
	const char *seg = fmt("/dev/shm/%s-other", test_tag());
	const char *fifo = fmt("%s/other", test_dir());
	int fd = open(seg, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	REQUIRE(fd >= 0);
	close(fd);
	CHECK_SYS(mkfifo(fifo, 0600));
	CHECK_SYS(chown(seg, NOBODY, NOBODY));
	CHECK_SYS(chown(fifo, NOBODY, NOBODY));
	CHECK_EQ(ipck_remove(fmt("pshm:/%s-other", test_tag()), 0), -EACCES);
	CHECK_EQ(ipck_remove(fmt("fifo:%s", fifo), 0), -EACCES);
	CHECK_EQ(ipck_remove(fmt("fifo:%s", fifo), IPCK_RM_DRY_RUN), -EACCES);

	int st;
	char *out = run_cli(fmt("rm pshm:/%s-other fifo:%s 2>&1", test_tag(), fifo), &st);
	CHECK_EQ(st, 1);
	CHECK(strstr(out, fmt("pshm:/%s-other", test_tag())) && strstr(out, "EACCES"));
	CHECK(strstr(out, fmt("fifo:%s", fifo)) && strstr(out, "--force"));
	free(out);
	CHECK_SYS(access(seg, F_OK));
	CHECK_SYS(access(fifo, F_OK));
	out = run_cli(fmt("rm --force pshm:/%s-other fifo:%s", test_tag(), fifo), &st);
	CHECK_EQ(st, 0);
	CHECK(!strcmp(out, fmt("removed pshm:/%s-other\nremoved fifo:%s\n", test_tag(), fifo)));
	free(out);
	CHECK_EQ(access(seg, F_OK), -1);
	CHECK_EQ(access(fifo, F_OK), -1);
	unlink(seg);
	unlink(fifo);
}

int main(void)
{
	bad_targets();
	own_segment();
	if (geteuid() == 0) {
		other_users_segment();
		other_users_files();
	} else
		fprintf(stderr, "not root: the other-user cases are not run\n");
	check_exit();
}
