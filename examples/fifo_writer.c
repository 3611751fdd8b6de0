/*
 * fifo_writer.c - the writing side of fifo_reader.c: open the reader's FIFO,
 * write three lines, close (the reader sees end of file).
 *
 * Done right: the FIFO may not exist yet, so ENOENT is retried for a few
 * seconds; O_NOFOLLOW and an fstat check refuse a symlink or a regular file
 * someone put at the path.  Opening for writing blocks until a reader has
 * it open; writes of up to PIPE_BUF (4096) bytes are atomic, so lines from
 * several writers never mix.
 *
 * usage: fifo_writer [PATH]        (the reader's; default /tmp/fifo_demo)
 *
 * Transcript: see fifo_reader.c.
 */
#include "ex.h"
#include <fcntl.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
	ex_init(argv);
	const char *path = argc > 1 ? argv[1] : "/tmp/fifo_demo";
	ex_deadline(10);

	int fd, tries = 0;
	step("open(\"%s\", O_WRONLY|O_NOFOLLOW)", path);
	while ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 && ex_retry(&tries))
		;   /* ENOENT: the reader has not made it yet */
	if (fd == -1)
		die("open");

	struct stat st;
	if (fstat(fd, &st) == -1)
		die("fstat");
	if (!S_ISFIFO(st.st_mode))
		fail("%s is not a FIFO", path);

	const char *lines[] = {"one\n", "two\n", "three\n"};
	for (int i = 0; i < 3; i++) {
		size_t len = strlen(lines[i]);
		step("write(%d, \"%.*s\\n\", %zu)", fd, (int)len - 1, lines[i], len);
		ssize_t n = write(fd, lines[i], len);   /* <= PIPE_BUF: all or nothing */
		if (n == -1)
			die("write");
		if ((size_t)n != len)
			fail("write: %zd of %zu bytes", n, len);
	}
	step("close(%d): the reader sees end of file", fd);
	if (close(fd) == -1)
		die("close");
	printf("writer: 3 lines written\n");
	return 0;
}
