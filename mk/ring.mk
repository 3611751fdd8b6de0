# mk/ring.mk - the shared-memory ring's benchmark (bench/ring_bench.c).
#   make ring-bench                 build it and run it under the bench lock
#   make ring-bench RING_BENCH_ARGS=-q    fewer samples
# The machine is shared: every run takes $(BENCH_LOCK) first (flock).
# Counters of the ring's slow paths (full ring, waits, sleeps, refills),
# printed by each side at close: build with -DRING_STATS, e.g.
#   make B=build-stats CFLAGS="-O2 -g -DRING_STATS" build-stats/bench/ring_bench

RING_BENCH := $(B)/bench/ring_bench
# One lock per build; to share one between worktrees: make BENCH_LOCK=/path
BENCH_LOCK ?= $(B)/bench.lock

$(RING_BENCH): bench/ring_bench.c bench/bench_util.h include/ipckit.h $(STATIC)
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(CFLAGS) -o $@ $< $(STATIC) $(LDLIBS)

.PHONY: ring-bench ci-extra-ring-bench
ring-bench: $(RING_BENCH)
	flock $(BENCH_LOCK) $(RING_BENCH) $(RING_BENCH_ARGS)

# CI builds the benchmark (it must keep compiling) but does not run it.
ci-extra-ring-bench: $(RING_BENCH)

# The ring's private headers: the Makefile's pattern rules know only
# internal.h, so say who else must rebuild when they change.
RING_HDRS := src/ring.h src/shm.h
$(LIB_OBJ) $(PIC_OBJ): $(RING_HDRS)
$(B)/tests/t_ring_hostile: $(RING_HDRS)
