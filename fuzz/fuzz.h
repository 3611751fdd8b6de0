/*
 * fuzz.h - the fuzz targets of ipckit.  Each target is a plain function over
 * one input; fuzz/entry.c makes it libFuzzer's LLVMFuzzerTestOneInput in a
 * clang build (make fuzz), and tests/t_fuzz_replay.c calls it on every file
 * of fuzz/corpus/<target>/ in the ordinary gcc build (make test).
 *
 * A target checks what the library promises about its input and calls
 * fuzz_fail (abort) when a promise is broken, so both the fuzzer and the
 * replay see it as a crash.  Targets include src/internal.h: they drive the
 * library from the inside (the URL parser, a receive side fed raw bytes).
 */
#ifndef IPCK_FUZZ_H
#define IPCK_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int fuzz_url(const uint8_t *data, size_t n);
int fuzz_frame(const uint8_t *data, size_t n);
int fuzz_ring(const uint8_t *data, size_t n);

void fuzz_fail(const char *file, int line, const char *what, long long a, long long b)
	__attribute__((noreturn));

/* A promise: abort with both values when it does not hold. */
#define FUZZ_CHECK(c) do { if (!(c)) fuzz_fail(__FILE__, __LINE__, #c, 0, 0); } while (0)
#define FUZZ_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) fuzz_fail(__FILE__, __LINE__, #a " == " #b, a_, b_); } while (0)

#endif
