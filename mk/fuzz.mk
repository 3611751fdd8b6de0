# fuzz.mk - libFuzzer targets (issue 9).  Needs clang-14 and libclang-rt-14-dev.
#
#   make fuzz                 build every fuzz/fuzz_*.c and run each for FUZZ_TIME
#                             seconds (default 60) with FUZZ_SEED (default 1);
#                             new inputs go to build-fuzz/corpus/<target>/, the
#                             committed fuzz/corpus/<target>/ is only read
#   make fuzz-merge           fold build-fuzz/corpus/ into fuzz/corpus/ (minimised)
#   make ci-extra-fuzz        what CI runs: installs clang-14 when missing, then fuzz
# The library is built once more with coverage, ASan and UBSan in build-fuzz/.
# The same targets run in make test on their committed corpora (t_fuzz_replay).

FUZZ_CC   ?= clang-14
FUZZ_TIME ?= 60
FUZZ_SEED ?= 1
FB        := build-fuzz
FUZZ_SAN  := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SRC  := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN  := $(FUZZ_SRC:fuzz/fuzz_%.c=$(FB)/fuzz-%)
FUZZ_OBJ  := $(LIB_SRC:%.c=$(FB)/%.o)
# One input at most this large, and no single allocation beyond 64 MiB:
# the largest framed message (16 MiB) twice over, never more.
FUZZ_OPTS ?= -max_len=140000 -malloc_limit_mb=64 -rss_limit_mb=2048 -timeout=20

.SECONDARY: $(FUZZ_OBJ)
$(B)/tests/t_fuzz_replay: $(wildcard fuzz/*.c fuzz/*.h)

$(FB)/%.o: %.c include/ipckit.h $(wildcard src/*.h)
	$(call say,CC,$< [fuzz])
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(BASE) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(FB)/fuzz-%: fuzz/fuzz_%.c fuzz/entry.c fuzz/fuzz.h $(FUZZ_OBJ)
	$(call say,LD,$@)
	$(Q)$(FUZZ_CC) $(BASE) $(FUZZ_SAN) -fsanitize=fuzzer -Isrc -DFUZZ_TARGET=fuzz_$* \
		-o $@ fuzz/fuzz_$*.c fuzz/entry.c $(FUZZ_OBJ) $(LDLIBS)

.PHONY: fuzz fuzz-build fuzz-merge ci-extra-fuzz clean-fuzz
fuzz-build: $(FUZZ_BIN)

# Each target in turn; the "Done N runs" line of libFuzzer is the figure.
fuzz: fuzz-build
	@set -e; for t in $(FUZZ_SRC:fuzz/fuzz_%.c=%); do \
		mkdir -p $(FB)/corpus/$$t $(FB)/artifacts fuzz/corpus/$$t; \
		echo "== fuzz $$t: $(FUZZ_TIME) s, seed $(FUZZ_SEED)"; \
		$(FB)/fuzz-$$t -seed=$(FUZZ_SEED) -max_total_time=$(FUZZ_TIME) $(FUZZ_OPTS) \
			-artifact_prefix=$(FB)/artifacts/$$t- -print_final_stats=1 \
			$(FB)/corpus/$$t fuzz/corpus/$$t > $(FB)/fuzz-$$t.log 2>&1 || \
			{ tail -n 60 $(FB)/fuzz-$$t.log; exit 1; }; \
		grep -E '^Done|stat::number_of_executed_units|stat::peak_rss' $(FB)/fuzz-$$t.log; \
	done

fuzz-merge: fuzz-build
	@for t in $(FUZZ_SRC:fuzz/fuzz_%.c=%); do \
		$(FB)/fuzz-$$t -merge=1 $(FUZZ_OPTS) fuzz/corpus/$$t $(FB)/corpus/$$t 2>&1 | tail -n 1; \
	done

ci-extra-fuzz:
	@command -v $(FUZZ_CC) >/dev/null && \
		[ -n "$$(ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] || \
		{ apt-get update -qq && apt-get install -y -qq clang-14 libclang-rt-14-dev >/dev/null; }
	$(MAKE) fuzz FUZZ_TIME=60 FUZZ_SEED=1

clean: clean-fuzz
clean-fuzz:
	rm -rf $(FB)
