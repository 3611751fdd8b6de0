/*
 * entry.c - libFuzzer's entry point for one target, chosen at compile time
 * with -DFUZZ_TARGET=fuzz_url (see mk/fuzz.mk), and the failure report.
 */
#include "fuzz.h"
#include <stdio.h>
#include <stdlib.h>

void fuzz_fail(const char *file, int line, const char *what, long long a, long long b)
{
	fprintf(stderr, "%s:%d: fuzz check failed: %s (%lld, %lld)\n", file, line, what, a, b);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	return FUZZ_TARGET(data, n);
}
