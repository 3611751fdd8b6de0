/*
 * fifo_reader.c - a named pipe (FIFO) between unrelated processes, the
 * reading side.  It makes the FIFO (mode 0600, not the notes' 0666), opens
 * it for reading, which blocks until a writer opens it too, then removes
 * the name at once: both ends are open, the name is no longer needed, and
 * a crash from now on leaves nothing behind.  It reads until end of file
 * (the writer closed) and prints what came.  Start it first, then
 * fifo_writer with the same PATH.
 *
 * usage: fifo_reader [PATH]        (default /tmp/fifo_demo)
 *
 *   $ ./fifo_reader /tmp/f & sleep 0.2; ./fifo_writer /tmp/f; wait
 *   step: mkfifo("/tmp/f", 0600)
 *   step: open("/tmp/f", O_RDONLY) blocks until a writer opens it
 *   step: open("/tmp/f", O_WRONLY|O_NOFOLLOW)
 *   step: write(3, "one\n", 4)
 *   step: write(3, "two\n", 4)
 *   step: write(3, "three\n", 6)
 *   step: close(3): the reader sees end of file
 *   writer: 3 lines written
 *   step: unlink("/tmp/f"): both ends are open, the name can go
 *   step: read(3) until end of file
 *   reader: read 14 bytes "one\ntwo\nthree\n"
 *   reader: end of file after 14 bytes
 *   $ ls /tmp/f
 *   ls: cannot access '/tmp/f': No such file or directory
 */
#include "ex.h"
#include <fcntl.h>
#include <sys/stat.h>

static const char *path;
static int named;   /* the FIFO's name still exists */

static void remove_name(void)
{
	if (named && unlink(path) == -1)
		perror("unlink");
}

int main(int argc, char **argv)
{
	ex_init(argv);
	path = argc > 1 ? argv[1] : "/tmp/fifo_demo";
	ex_deadline(30);   /* open blocks until a writer comes: not forever */

	step("mkfifo(\"%s\", 0600)", path);
	if (mkfifo(path, 0600) == -1)
		die("mkfifo");
	named = 1;
	atexit(remove_name);

	step("open(\"%s\", O_RDONLY) blocks until a writer opens it", path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		die("open");
	step("unlink(\"%s\"): both ends are open, the name can go", path);
	if (unlink(path) == -1)
		die("unlink");
	named = 0;

	char buf[256];
	ssize_t n;
	size_t total = 0;
	step("read(%d) until end of file", fd);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1)
			die("read");   /* EINTR here is the deadline */
		ex_show("reader", buf, (size_t)n);
		total += (size_t)n;
	}
	printf("reader: end of file after %zu bytes\n", total);
	if (close(fd) == -1)
		die("close");
	return 0;
}
