# inspect.mk - ipckit ls / rm / limits (issue 4).
#
# The inspect sources share a private header the main rules do not know of.
$(filter $(B)/src/inspect%,$(LIB_OBJ)) $(filter $(B)/pic/src/inspect%,$(PIC_OBJ)): src/inspect.h
$(filter $(B)/tests/t_ls_% $(B)/tests/t_remove,$(TEST_BIN)): tests/lib/lsfind.h

# make bench-ls: `ipckit ls --json` with 10,000 System V segments and 1,000
# POSIX objects present; prints the median of 7 runs (target: under 1 s).
# One benchmark at a time on the shared machine: /work/wt/bench.lock.
$(B)/bench/ls_fill: tests/bench/ls_fill.c
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(CFLAGS) -o $@ $< $(LDLIBS)

.PHONY: bench-ls
# One lock per build; to share one between worktrees: make BENCH_LOCK=/path
BENCH_LOCK ?= $(B)/bench.lock
bench-ls: $(CLI) $(B)/bench/ls_fill
	@if [ -e $(BENCH_LOCK) ] && command -v flock >/dev/null; then \
		B=$(B) flock $(BENCH_LOCK) sh tests/bench/ls.sh; \
	else B=$(B) sh tests/bench/ls.sh; fi
