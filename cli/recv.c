/*
 * recv.c - ipckit recv [-l] [--raw] [-n COUNT] [-t MS] [--hex] [-0] [--from] URL
 *
 * Prints each message on its own line (or as hex), until COUNT messages,
 * the timeout, or the end of the peer.  On a raw byte stream the bytes are
 * cut into lines, each one a message.  --from puts the sender's pid and a
 * tab first (ipck_recv_from): the point of a mailbox, "-l URL?mailbox=1".
 */
#include "cli.h"
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char recv_help[] =
	"usage: ipckit recv [-l] [--raw] [-n COUNT] [-t MS] [--hex] [-0] [--from] URL\n"
	"Receive messages from URL and print each on its own line.\n\n"
	"  -l, --listen      create URL and wait for a peer instead of connecting\n"
	"      --raw         talk to a plain kernel object: no framing, no rendezvous\n"
	"  -n, --count N     stop after N messages (exit 1 if fewer arrive)\n"
	"  -t, --timeout MS  stop when no message came for MS milliseconds\n"
	"  -x, --hex         print messages as hex\n"
	"  -0, --null        end each printed message with NUL instead of newline\n"
	"      --fd          also take descriptors passed with each message and print\n"
	"                    what each points to (fd: PATH TYPE SIZE), then close it\n"
	"      --from        put the sender's pid and a tab before each message\n"
	"                    (0 when unknown); with -l and ?mailbox=1, from many senders\n"
	"  -h, --help        this help\n\n"
	"Exit status: 0 done (count reached, timeout, or the peer ended), 1 failed,\n"
	"2 bad usage, 130 interrupted.\n"
	"Example: ipckit recv -l -n 1 pmsg:/inbox\n"
	"         ipckit recv -l --from 'unix-dgram:/tmp/mb?mailbox=1'\n";

struct recv_opts {
	bool listen, raw, hex, nul, fd, from;
	long long count;
	int timeout;
};

/* One line per received descriptor: what it points to; then it is closed. */
static void print_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char link[64], target[4096] = "?";
		struct stat st;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fds[i]);
		ssize_t k = readlink(link, target, sizeof(target) - 1);
		target[k > 0 ? k : 1] = '\0';
		const char *type = "?";
		long long size = -1;
		if (fstat(fds[i], &st) == 0) {
			type = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "directory"
				: S_ISFIFO(st.st_mode) ? "fifo" : S_ISSOCK(st.st_mode) ? "socket"
				: S_ISCHR(st.st_mode) ? "char-device" : S_ISBLK(st.st_mode) ? "block-device"
				: "other";
			size = (long long)st.st_size;
		}
		printf("fd: %s %s %lld\n", target, type, size);
		close(fds[i]);
	}
	fflush(stdout);
}

static void print_msg(const unsigned char *m, size_t n, const struct recv_opts *o, pid_t from)
{
	if (o->from)
		printf("%d\t", (int)from);
	if (o->hex)
		for (size_t i = 0; i < n; i++)
			printf("%02x", m[i]);
	else
		fwrite(m, 1, n, stdout);
	putchar(o->nul ? '\0' : '\n');
	fflush(stdout);
}

/* Cut raw stream bytes into lines; returns how many whole lines it printed. */
static long long print_lines(char **acc, size_t *len, const char *m, size_t n,
			     const struct recv_opts *o, long long room, pid_t from)
{
	char sep = o->nul ? '\0' : '\n', *b = realloc(*acc, *len + n + 1);
	long long k = 0;
	if (!b)
		return -1;
	memcpy(b + *len, m, n);
	*len += n;
	*acc = b;
	char *p = b, *e;
	while (k < room && (e = memchr(p, sep, *len - (size_t)(p - b)))) {
		print_msg((unsigned char *)p, (size_t)(e - p), o, from);
		p = e + 1;
		k++;
	}
	*len -= (size_t)(p - b);
	memmove(b, p, *len);
	return k;
}

static int recv_loop(ipck_chan *c, const char *url, const struct recv_opts *o, bool bytes)
{
	size_t cap = 64 << 10;
	unsigned char *buf = malloc(cap);
	char *acc = NULL;
	size_t acc_len = 0;
	long long got = 0;
	pid_t from = 0;
	int r = 0;
	int fds[IPCK_MAX_FDS];
	size_t nfds = 0;
	while (buf && (o->count < 0 || got < o->count)) {
		nfds = IPCK_MAX_FDS;
		ssize_t n = cli_recv_any(c, buf, cap, o->fd ? fds : NULL, &nfds, &from, o->timeout);
		if (n == -EMSGSIZE && ipck_next_size(c) > 0) {
			unsigned char *b = realloc(buf, (size_t)ipck_next_size(c));
			if (!b)
				break;
			buf = b;
			cap = (size_t)ipck_next_size(c);
			continue;
		}
		if (n == -EPIPE || n == -ECONNRESET || n == -ETIMEDOUT)
			break;
		if (n == -EINTR) {
			r = 130;
			break;
		}
		if (n < 0) {
			r = cli_err((int)n, "%s: recv", url);
			break;
		}
		if (!bytes) {
			print_msg(buf, (size_t)n, o, from);
			if (o->fd)
				print_fds(fds, nfds);
			got++;
		} else {
			got += print_lines(&acc, &acc_len, (char *)buf, (size_t)n, o,
					   o->count < 0 ? (1LL << 62) : o->count - got, from);
		}
	}
	if (!buf)
		r = cli_err(-ENOMEM, "%s", url);
	if (!r && bytes && acc_len && (o->count < 0 || got < o->count)) {
		print_msg((unsigned char *)acc, acc_len, o, from);   /* a last line without newline */
		got++;
	}
	if (!r && o->count >= 0 && got < o->count)
		r = cli_err(0, "%s: %lld of %lld messages arrived", url, got, o->count);
	free(buf);
	free(acc);
	return r;
}

static int parse_recv(int argc, char **argv, struct recv_opts *o)
{
	static const struct option lo[] = {
		{"listen", no_argument, 0, 'l'}, {"raw", no_argument, 0, 'r'},
		{"count", required_argument, 0, 'n'}, {"timeout", required_argument, 0, 't'},
		{"hex", no_argument, 0, 'x'}, {"null", no_argument, 0, '0'}, {"fd", no_argument, 0, 'F'},
		{"from", no_argument, 0, 'f'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	long long v;
	int c;
	*o = (struct recv_opts){.timeout = -1, .count = -1};
	optind = 1;
	while ((c = getopt_long(argc, argv, "+ln:t:x0h", lo, NULL)) != -1) {
		switch (c) {
		case 'l': o->listen = true; break;
		case 'r': o->raw = true; break;
		case 'x': o->hex = true; break;
		case '0': o->nul = true; break;
		case 'F': o->fd = true; break;
		case 'f': o->from = true; break;
		case 'n':
			if (!cli_int(optarg, 0, 1LL << 62, &o->count))
				return cli_usage("--count wants a number, not '%s'", optarg);
			break;
		case 't':
			if (!cli_int(optarg, -1, 86400000, &v))
				return cli_usage("--timeout wants milliseconds, not '%s'", optarg);
			o->timeout = (int)v;
			break;
		case 'h': fputs(recv_help, stdout); return -1;
		default: return 2;
		}
	}
	if (optind != argc - 1)
		return cli_usage(optind >= argc ? "no URL given" : "one URL only");
	return 0;
}

int cmd_recv(int argc, char **argv)
{
	struct recv_opts o;
	int r = parse_recv(argc, argv, &o);
	if (r)
		return r < 0 ? 0 : r;
	char *url = o.raw ? cli_url_with(argv[optind], "raw=1") : strdup(argv[optind]);
	if (!url)
		return cli_err(-ENOMEM, "%s", argv[optind]);
	ipck_chan *c, *l;
	cli_sig_init();
	r = cli_connect(&c, url, o.listen, o.timeout, &l);
	if (r == -EINTR) {
		free(url);
		return 130;
	}
	if (r < 0) {
		r = cli_open_err(r, url, o.listen);
		free(url);
		return r;
	}
	r = recv_loop(c, url, &o, cli_is_byte_stream(url, o.raw));
	ipck_close(c);
	ipck_close(l);
	free(url);
	return r;
}
