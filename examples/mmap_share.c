/*
 * mmap_share.c - a file mapped MAP_SHARED by two processes.  The parent
 * creates a file, sizes it and maps it; after fork the child writes a line
 * into the mapping and exits; the parent, once the child is gone, reads the
 * line from its own mapping, and again with pread from the file: a shared
 * mapping IS the file's page cache, so all three views agree at once.
 * Unrelated processes that map the same file share it the same way.
 *
 * Done right: the file is created 0600 and exclusively, never through a
 * symlink; it is sized with ftruncate before mapping (touching a mapped page
 * beyond the end of the file raises SIGBUS); msync is for getting the data
 * to disk, not to other processes; the file is removed at the end.  Here
 * waitpid orders the child's write before the parent's read; processes
 * that run at the same time need a lock or a semaphore (see semdemo.c).
 *
 * usage: mmap_share [PATH]         (default /tmp/mmap_share.dat)
 *
 *   $ ./mmap_share /tmp/m
 *   step: open("/tmp/m", O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW, 0600)
 *   step: ftruncate(3, 4096)
 *   step: mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0)
 *   step: fork()
 *   step: parent: waitpid(26105)
 *   child: wrote 40 bytes into the mapping
 *   parent: the mapping says "written through the mapping by pid 26105"
 *   step: pread(3, buf, 4096, 0)
 *   parent: the file says    "written through the mapping by pid 26105"
 *   parent: the file and the mapping agree
 *   step: munmap; close(3); unlink("/tmp/m")
 */
#include "ex.h"
#include <fcntl.h>
#include <sys/mman.h>

#define SIZE 4096

static const char *path;
static int created;

static void remove_file(void)
{
	if (created && unlink(path) == -1)
		perror("unlink");
}

static void child(char *map)
{
	int n = snprintf(map, SIZE, "written through the mapping by pid %d", (int)getpid());
	printf("child: wrote %d bytes into the mapping\n", n);
	_exit(0);
}

int main(int argc, char **argv)
{
	ex_init(argv);
	path = argc > 1 ? argv[1] : "/tmp/mmap_share.dat";
	ex_deadline(10);

	step("open(\"%s\", O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW, 0600)", path);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		die("open");
	created = 1;
	atexit(remove_file);
	step("ftruncate(%d, %d)", fd, SIZE);
	if (ftruncate(fd, SIZE) == -1)
		die("ftruncate");
	step("mmap(NULL, %d, PROT_READ|PROT_WRITE, MAP_SHARED, %d, 0)", SIZE, fd);
	char *map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");

	step("fork()");
	pid_t pid = fork();
	if (pid == -1)
		die("fork");
	if (pid == 0)
		child(map);
	step("parent: waitpid(%d)", (int)pid);
	ex_wait_child(pid);

	printf("parent: the mapping says \"%.*s\"\n", (int)strnlen(map, SIZE), map);
	char buf[SIZE];
	step("pread(%d, buf, %d, 0)", fd, SIZE);
	ssize_t n = pread(fd, buf, sizeof(buf), 0);
	if (n == -1)
		die("pread");
	printf("parent: the file says    \"%.*s\"\n", (int)strnlen(buf, (size_t)n), buf);
	if (n != SIZE || memcmp(buf, map, SIZE) != 0)
		fail("the file and the mapping differ");
	printf("parent: the file and the mapping agree\n");

	step("munmap; close(%d); unlink(\"%s\")", fd, path);
	if (munmap(map, SIZE) == -1)
		die("munmap");
	if (close(fd) == -1)
		die("close");
	return 0;   /* remove_file runs at exit */
}
