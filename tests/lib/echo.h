/*
 * echo.h - the smallest two-process exchange, for tests of rendezvous
 * rules: the client sends "hi", the server answers "ok".
 */
#ifndef IPCK_ECHO_H
#define IPCK_ECHO_H

#include "ipckit.h"
#include <sys/types.h>

/* Connect to url, send "hi", expect "ok"; want_pid >= 0: the peer's pid
 * must be that.  0 when all went right (a spawn() body's exit status). */
int echo_client_as(const char *url, pid_t want_pid);
/* spawn() body: echo_client_as(url, -1). */
int echo_client(void *url);
/* Server side on an accepted channel: expect "hi", answer "ok", close. */
void echo_answer(ipck_chan *s);

#endif
