/*
 * t_fuzz_replay.c - every input of fuzz/corpus/<target>/ through its fuzz
 * target, in the ordinary build: what libFuzzer found interesting (and every
 * crash it once found, kept there) stays a test without clang.  The targets
 * abort on a broken promise, which fails this test.
 */
#include "check.h"
#include "../fuzz/fuzz.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *current;   /* the input being replayed, for the report */

void fuzz_fail(const char *file, int line, const char *what, long long a, long long b)
{
	fprintf(stderr, "%s:%d: fuzz check failed on %s: %s (%lld, %lld)\n",
		file, line, current, what, a, b);
	abort();
}

#include "../fuzz/fuzz_url.c"
#include "../fuzz/fuzz_frame.c"

static const struct {
	const char *name;
	int (*fn)(const uint8_t *, size_t);
} targets[] = {
	{"url", fuzz_url},
	{"frame", fuzz_frame},
};

static unsigned char *slurp(const char *path, size_t *n)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	unsigned char *b = malloc((size_t)st.st_size + 1);
	ssize_t r = b ? read(fd, b, (size_t)st.st_size) : -1;
	close(fd);
	if (r != st.st_size) {
		free(b);
		return NULL;
	}
	*n = (size_t)r;
	return b;
}

static int replay(const char *top, const char *name, int (*fn)(const uint8_t *, size_t))
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", top, name);
	DIR *dp = opendir(dir);
	struct dirent *e;
	int count = 0;
	REQUIRE(dp);
	while ((e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		size_t n;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		current = path;
		unsigned char *b = slurp(current, &n);
		CHECK(b != NULL);
		if (!b)
			continue;
		CHECK_EQ(fn(b, n), 0);
		free(b);
		count++;
	}
	closedir(dp);
	fprintf(stderr, "%-6s %d inputs replayed\n", name, count);
	return count;
}

int main(void)
{
	const char *top = getenv("IPCK_TOP") ? getenv("IPCK_TOP") : ".";
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
		CHECK(replay(top, targets[i].name, targets[i].fn) > 0);
	check_exit();
}
