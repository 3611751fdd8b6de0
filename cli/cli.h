/*
 * cli.h - what the subcommands of ipckit share.  The CLI is a thin layer over
 * the public API: it includes only ipckit.h (and libc), never src/.
 *
 * Exit status: 0 success, 1 a runtime failure, 2 bad usage.  Errors are one
 * line on stderr: "ipckit CMD: what failed: ENAME (text)".
 */
#ifndef IPCKIT_CLI_H
#define IPCKIT_CLI_H

#include "ipckit.h"
#include <stdbool.h>
#include <stdio.h>

struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);  /* argv[0] is the command name */
	const char *help;                   /* one line */
};

/* Every subcommand, in cli/<name>.c. */
int cmd_help(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_recv(int argc, char **argv);
int cmd_relay(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_limits(int argc, char **argv);
int cmd_signals(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_demo(int argc, char **argv);

extern const struct cli_cmd cli_cmds[];
extern const char *cli_prog;   /* "ipckit CMD" for messages */

/* "ipckit CMD: <what>: ENAME (text)" on stderr; returns 1. */
int cli_err(int err, const char *what, ...) __attribute__((format(printf, 2, 3)));
/* Why opening url failed, with the URL's own reason for a -EINVAL and a
 * hint for a missing listener or a name in use; returns 2 (usage) or 1. */
int cli_open_err(int err, const char *url, bool listen);
/* "ipckit CMD: <message>" and a pointer to --help on stderr; returns 2. */
int cli_usage(const char *msg, ...) __attribute__((format(printf, 1, 2)));
/* Parse a whole decimal (or 0x) integer in [lo, hi]; false if it is not one. */
bool cli_int(const char *s, long long lo, long long hi, long long *out);
/* Write s as a JSON string literal with quotes and escapes. */
void cli_json_str(FILE *f, const char *s);
/* true if argv[i] is -h or --help. */
bool cli_is_help(const char *arg);

/* chanio.c: shared by send, recv and relay. */
int cli_sig_init(void);             /* SIGINT/TERM/HUP go to a signalfd */
bool cli_interrupted(void);         /* one of them arrived */
char *cli_url_with(const char *url, const char *opt);   /* malloc'd "url?opt" */
const struct ipck_scheme_info *cli_scheme_of(const char *url);
bool cli_is_byte_stream(const char *url, bool raw);
int cli_wait_readable(int fd, int timeout_ms);
int cli_wait_any(const int *fds, int n, int timeout_ms);   /* 1 ready, 0 timeout, -EINTR */
/* Like the library calls, but a signal ends the wait with -EINTR. */
int cli_accept(ipck_chan *l, ipck_chan **c, int timeout_ms);
ssize_t cli_recv(ipck_chan *c, void *buf, size_t cap, int timeout_ms);
ssize_t cli_send(ipck_chan *c, const void *msg, size_t len, int timeout_ms);
/* The same with descriptors (ipck_send_fds / ipck_recv_fds; *nfds is in/out). */
ssize_t cli_send_fds(ipck_chan *c, const void *msg, size_t len, const int *fds, size_t nfds,
		     int timeout_ms);
ssize_t cli_recv_fds(ipck_chan *c, void *buf, size_t cap, int *fds, size_t *nfds, int timeout_ms);
ssize_t cli_recv_from(ipck_chan *c, void *buf, size_t cap, pid_t *from, int timeout_ms);
ssize_t cli_recv_any(ipck_chan *c, void *buf, size_t cap, int *fds, size_t *nfds, pid_t *from,
		     int timeout_ms);
/* Open url: with listen, create it and accept one peer (*l keeps the listener);
 * a mailbox listener (?mailbox=1) is itself *c, and *l is NULL. */
int cli_connect(ipck_chan **c, const char *url, bool listen, int timeout_ms, ipck_chan **l);
/* ls.c, shared with rm: a KIND word ("svshm", "sysv", "posix") and/or --user U
 * into opts.  0, or the exit status of a usage error (already printed). */
int cli_list_filter(struct ipck_list_opts *op, const char *word, const char *user);
/* graph.c: ls --graph[=FORMAT], FORMAT "dot" or "svg"; returns the exit status. */
int cli_graph(struct ipck_list_opts *op, const char *format);

/* table.c: aligned tables for people (ls, limits). */
struct cli_table {
	size_t ncols;        /* cells per row; row 0 is the header */
	char **cells;
	size_t n, cap;
};
void cli_table_init(struct cli_table *t, size_t ncols);
int cli_table_cell(struct cli_table *t, const char *s);   /* "" shows as "-"; -1: no memory */
/* right[c]: column c aligns right (numbers); NULL: all left. */
void cli_table_print(FILE *f, const struct cli_table *t, const bool *right);
void cli_table_free(struct cli_table *t);
/* 4096 -> "4K", 1536 -> "1.5K", 1000 -> "1000". */
const char *cli_human(unsigned long long v, char buf[16]);

#endif
