/* check.c - see check.h. */
#include "check.h"
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int check_failures;

void check_fail(const char *file, int line, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	fprintf(stderr, "%s:%d: [pid %d] CHECK FAILED: ", file, line, (int)getpid());
	vfprintf(stderr, f, ap);
	fputc('\n', stderr);
	va_end(ap);
	check_failures++;
}

const char *check_ename(long long v)
{
	return (v < 0 && v > -4096) ? ipck_errname((int)v) : "";
}

void check_exit(void)
{
	exit(check_failures ? 1 : 0);
}

void check_skip(const char *why)
{
	fprintf(stderr, "SKIP: %s\n", why);
	exit(77);
}

static const char *env_or_die(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v) {
		fprintf(stderr, "%s is not set: run tests through tests/run.sh\n", name);
		exit(1);
	}
	return v;
}

const char *test_tag(void) { return env_or_die("IPCK_TEST_TAG"); }
const char *test_dir(void) { return env_or_die("IPCK_TEST_DIR"); }

long test_key(int n)
{
	return strtol(env_or_die("IPCK_TEST_KEY"), NULL, 0) + (n & 0xff);
}

const char *fmt(const char *f, ...)
{
	static __thread char bufs[16][512];
	static __thread unsigned k;
	char *b = bufs[k++ % 16];
	va_list ap;
	va_start(ap, f);
	vsnprintf(b, sizeof(bufs[0]), f, ap);
	va_end(ap);
	return b;
}

pid_t spawn(int (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t p = fork();
	if (p == 0) {
		check_failures = 0;   /* the child's verdict is its own */
		_exit(fn(arg));
	}
	return p;
}

int reap(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

void fill_pattern(void *buf, size_t n, unsigned seed)
{
	unsigned char *p = buf;
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

int check_pattern(const void *buf, size_t n, unsigned seed)
{
	const unsigned char *p = buf;
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		if (p[i] != (unsigned char)x)
			return 0;
	}
	return 1;
}

long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A port nobody uses now on 127.0.0.1 (bind to 0 and ask). */
#include <netinet/in.h>
#include <sys/socket.h>
static int free_port(int type)
{
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		perror("free_port");
		exit(1);
	}
	close(fd);
	return ntohs(a.sin_port);
}

const char *test_url(const char *s)
{
	const char *d = test_dir(), *t = test_tag();
	static __thread int n;
	n++;
	if (!strcmp(s, "pipe") || !strcmp(s, "socketpair"))
		return fmt("%s:", s);
	if (!strcmp(s, "fifo") || !strcmp(s, "unix") || !strcmp(s, "unix-seqpacket") ||
	    !strcmp(s, "unix-dgram") || !strcmp(s, "mmap") || !strcmp(s, "signal") ||
	    !strcmp(s, "file"))
		return fmt("%s:%s/%s%d", s, d, s, n);
	if (!strcmp(s, "abstract"))
		return fmt("abstract:%s-%d", t, n);
	if (!strcmp(s, "tcp"))
		return fmt("tcp://127.0.0.1:%d", free_port(SOCK_STREAM));
	if (!strcmp(s, "udp"))
		return fmt("udp://127.0.0.1:%d", free_port(SOCK_DGRAM));
	if (!strcmp(s, "svmsg") || !strcmp(s, "svshm"))
		return fmt("%s:0x%lx", s, test_key(n));
	if (!strcmp(s, "pmsg") || !strcmp(s, "pshm"))
		return fmt("%s:/%s-%d", s, t, n);
	return NULL;
}

bool scheme_wanted(const char *scheme, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], scheme))
			return true;
	return argc < 2;
}
