/*
 * mmap_share.c with libipckit - ../mmap_share.c with the library's segment
 * primitive on a file, "mmap:PATH": the parent creates and maps it, the
 * child writes a line through the mapping after fork, the parent reads it
 * back, and again through a second, fresh mapping of the same file: the
 * bytes are in the file, not in either process.
 *
 * What the library saves: open with O_EXCL|O_NOFOLLOW and 0600, ftruncate
 * before mapping (no SIGBUS past the end), the owner check and the size of
 * an existing file on open, munmap and close, and the unlink by URL.
 *
 * usage: mmap_share [PATH]         (default /tmp/mmap_share.dat)
 *
 *   $ ./mmap_share /tmp/m
 */
#include <ipckit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE 4096

static char url[4200];
static pid_t creator;

static long ok(long r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "mmap_share: %s: %s (%s)\n", what, ipck_errname((int)r), ipck_strerror((int)r));
		if (getpid() == creator)
			ipck_shm_unlink(url);
		exit(1);
	}
	return r;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(url, sizeof(url), "mmap:%s", argc > 1 ? argv[1] : "/tmp/mmap_share.dat");
	creator = getpid();

	ipck_shm *shm;
	char *map;
	printf("step: ipck_shm_create(&shm, \"%s\", %d); ipck_shm_map\n", url, SIZE);
	ok(ipck_shm_create(&shm, url, SIZE), "ipck_shm_create");
	ok(ipck_shm_map(shm, (void **)&map), "ipck_shm_map");

	printf("step: fork()\n");
	pid_t pid = fork();
	if (pid < 0)
		ok(-errno, "fork");
	if (pid == 0) {
		int n = snprintf(map, SIZE, "written through the mapping by pid %d", (int)getpid());
		printf("child: wrote %d bytes into the mapping\n", n);
		_exit(0);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		ok(-errno, "waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		ok(-ECHILD, "the child failed");
	printf("parent: the mapping says \"%.*s\"\n", (int)strnlen(map, SIZE), map);

	ipck_shm *again;
	char *map2;
	printf("step: ipck_shm_open(&again, \"%s\"); ipck_shm_map\n", url);
	ok(ipck_shm_open(&again, url), "ipck_shm_open");
	ok(ipck_shm_map(again, (void **)&map2), "ipck_shm_map");
	printf("parent: the file says    \"%.*s\"\n", (int)strnlen(map2, SIZE), map2);
	if (ipck_shm_size(again) != SIZE || memcmp(map, map2, SIZE) != 0)
		ok(-EPROTO, "the file and the mapping differ");
	printf("parent: the file and the mapping agree\n");

	printf("step: ipck_shm_close x 2; ipck_shm_unlink(\"%s\")\n", url);
	ok(ipck_shm_close(again), "ipck_shm_close");
	ok(ipck_shm_close(shm), "ipck_shm_close");
	ok(ipck_shm_unlink(url), "ipck_shm_unlink");
	return 0;
}
