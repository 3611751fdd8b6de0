/*
 * send.c - ipckit send [-l] [--raw] [-t MS] [--priority N] [-0 | --file F] URL [MESSAGE...]
 *
 * Each argument is one message; with none, each line of standard input is
 * one (-0: NUL-separated), or --file sends a whole file as one message.
 * On a raw byte stream (fifo, unix, tcp... with --raw) each message is
 * written followed by its separator, so plain tools see lines.
 */
#include "cli.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char send_help[] =
	"usage: ipckit send [-l] [--raw] [-t MS] [--priority N] [-0 | --file F] URL [MESSAGE...]\n"
	"Send each MESSAGE (or each line of standard input) as one message to URL.\n\n"
	"  -l, --listen      create URL and wait for a peer instead of connecting\n"
	"      --raw         talk to a plain kernel object: no framing, no rendezvous\n"
	"  -t, --timeout MS  give up on a peer or a send after MS milliseconds\n"
	"      --priority N  POSIX queue priority of the messages (pmsg:)\n"
	"  -0, --null        standard input holds NUL-separated messages\n"
	"  -f, --file F      send the whole file F as one message\n"
	"      --fd FILE     pass an open descriptor of FILE with the first message\n"
	"                    (unix, unix-seqpacket, unix-dgram, abstract; repeatable;\n"
	"                    with no MESSAGE, the message is FILE's name)\n"
	"  -h, --help        this help\n\n"
	"Exit status: 0 sent, 1 failed, 2 bad usage.\n"
	"Example: ipckit send unix:/tmp/s.sock hello world\n";

#define SEND_MAX_FDS 8

struct send_opts {
	bool listen, raw, nul;
	int timeout;
	const char *file, *prio;
	const char *fd_path[SEND_MAX_FDS];
	int fds[SEND_MAX_FDS];
	size_t nfds;
};

/* Message k; the first one carries the --fd descriptors. */
static int send_one(ipck_chan *c, const char *url, const void *m, size_t n,
		    const struct send_opts *o, size_t k)
{
	ssize_t r = cli_send_fds(c, m, n, o->fds, k ? 0 : o->nfds, o->timeout);
	if (r == -ENOTSUP && o->nfds)
		return cli_err((int)r, "%s: this scheme cannot pass descriptors (unix:, "
			       "unix-seqpacket:, unix-dgram:, abstract: can)", url);
	if (r == -EINTR)
		return cli_err(0, "%s: interrupted after %zu messages", url, k);
	if (r == -EMSGSIZE)
		return cli_err((int)r, "%s: message %zu has %zu bytes, the channel carries at most %zu",
			       url, k + 1, n, ipck_max_msg(c));
	if (r < 0)
		return cli_err((int)r, "%s: send of message %zu", url, k + 1);
	return 0;
}

/* A raw byte stream gets the separator after each message. */
static int send_framed(ipck_chan *c, const char *url, const char *m, size_t n,
		       const struct send_opts *o, bool bytes, size_t k)
{
	if (!bytes)
		return send_one(c, url, m, n, o, k);
	char *b = malloc(n + 1);
	if (!b)
		return cli_err(-ENOMEM, "%s", url);
	memcpy(b, m, n);
	b[n] = o->nul ? '\0' : '\n';
	int r = send_one(c, url, b, n + 1, o, k);
	free(b);
	return r;
}

static int send_stdin(ipck_chan *c, const char *url, const struct send_opts *o, bool bytes)
{
	char *line = NULL;
	size_t cap = 0, k = 0;
	ssize_t n;
	int r = 0;
	while (!r && (n = getdelim(&line, &cap, o->nul ? '\0' : '\n', stdin)) >= 0) {
		if (n > 0 && line[n - 1] == (o->nul ? '\0' : '\n'))
			n--;
		r = send_framed(c, url, line, (size_t)n, o, bytes, k++);
	}
	free(line);
	if (!r && ferror(stdin))
		r = cli_err(-EIO, "reading standard input");
	return r;
}

static int send_file(ipck_chan *c, const char *url, const struct send_opts *o)
{
	int fd = open(o->file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return cli_err(-errno, "%s", o->file);
	if ((size_t)st.st_size > ipck_max_msg(c)) {
		close(fd);
		return cli_err(-EMSGSIZE, "%s has %lld bytes, %s carries at most %zu", o->file,
			       (long long)st.st_size, url, ipck_max_msg(c));
	}
	char *b = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (b && got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	int r = !b ? cli_err(-ENOMEM, "%s", o->file)
		: got != (size_t)st.st_size ? cli_err(-EIO, "reading %s", o->file)
		: send_one(c, url, b, got, o, 0);
	free(b);
	return r;
}

static int parse_send(int argc, char **argv, struct send_opts *o)
{
	static const struct option lo[] = {
		{"listen", no_argument, 0, 'l'}, {"raw", no_argument, 0, 'r'},
		{"timeout", required_argument, 0, 't'}, {"priority", required_argument, 0, 'p'},
		{"null", no_argument, 0, '0'}, {"file", required_argument, 0, 'f'},
		{"fd", required_argument, 0, 'F'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	long long v;
	int c;
	*o = (struct send_opts){.timeout = -1};
	optind = 1;
	while ((c = getopt_long(argc, argv, "+lt:0f:h", lo, NULL)) != -1) {
		switch (c) {
		case 'l': o->listen = true; break;
		case 'r': o->raw = true; break;
		case '0': o->nul = true; break;
		case 'f': o->file = optarg; break;
		case 'F':
			if (o->nfds == SEND_MAX_FDS)
				return cli_usage("at most %d --fd", SEND_MAX_FDS);
			o->fd_path[o->nfds++] = optarg;
			break;
		case 'p':
			if (!cli_int(optarg, 0, 32767, &v))
				return cli_usage("--priority wants a number 0..32767, not '%s'", optarg);
			o->prio = optarg;
			break;
		case 't':
			if (!cli_int(optarg, -1, 86400000, &v))
				return cli_usage("--timeout wants milliseconds, not '%s'", optarg);
			o->timeout = (int)v;
			break;
		case 'h': fputs(send_help, stdout); return -1;
		default: return 2;
		}
	}
	if (optind >= argc)
		return cli_usage("no URL given");
	if (o->file && optind + 1 < argc)
		return cli_usage("--file and MESSAGE arguments exclude each other");
	return 0;
}

/* Open the --fd files: O_NONBLOCK so a FIFO does not wait for a writer. */
static int open_fds(struct send_opts *o)
{
	for (size_t i = 0; i < o->nfds; i++) {
		o->fds[i] = open(o->fd_path[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (o->fds[i] < 0) {
			int e = cli_err(-errno, "--fd %s", o->fd_path[i]);
			while (i--)
				close(o->fds[i]);
			return e;
		}
	}
	return 0;
}

/* The messages: --file, the arguments, the --fd name, or standard input. */
static int send_all(ipck_chan *c, const char *url, const struct send_opts *o, int argc, char **argv)
{
	bool bytes = cli_is_byte_stream(url, o->raw);
	int r = 0;
	if (o->file)
		return send_file(c, url, o);
	if (optind + 1 == argc && o->nfds)
		return send_framed(c, url, o->fd_path[0], strlen(o->fd_path[0]), o, bytes, 0);
	if (optind + 1 == argc)
		return send_stdin(c, url, o, bytes);
	for (int i = optind + 1; !r && i < argc; i++)
		r = send_framed(c, url, argv[i], strlen(argv[i]), o, bytes, (size_t)(i - optind - 1));
	return r;
}

static char *send_url(const struct send_opts *o, const char *arg)
{
	char *url = o->raw ? cli_url_with(arg, "raw=1") : strdup(arg);
	if (url && o->prio) {
		char opt[32], *u2;
		snprintf(opt, sizeof(opt), "priority=%s", o->prio);
		u2 = cli_url_with(url, opt);
		free(url);
		url = u2;
	}
	return url;
}

int cmd_send(int argc, char **argv)
{
	struct send_opts o;
	int r = parse_send(argc, argv, &o);
	if (r)
		return r < 0 ? 0 : r;
	char *url = send_url(&o, argv[optind]);
	if (!url)
		return cli_err(-ENOMEM, "%s", argv[optind]);
	if ((r = open_fds(&o))) {
		free(url);
		return r;
	}
	ipck_chan *c, *l;
	cli_sig_init();
	r = cli_connect(&c, url, o.listen, o.timeout, &l);
	if (r < 0) {
		r = cli_open_err(r, url, o.listen);
	} else {
		r = send_all(c, url, &o, argc, argv);
		int e = ipck_close(c);
		if (!r && e < 0)
			r = cli_err(e, "%s: close", url);
		ipck_close(l);
	}
	for (size_t i = 0; i < o.nfds; i++)
		close(o.fds[i]);
	free(url);
	return r;
}
