/*
 * t_soak_signal.c - t_soak for the signal: scheme, in a program of its own:
 * a system call and a wake-up per 8 bytes make its 200,000 messages take
 * 33-50 s on two cores, so it gets the runner's whole timeout (t_soak.c).
 */
#define SOAK_ONLY "signal"
#include "t_soak.c"
