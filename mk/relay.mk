# mk/relay.mk - the relay's benchmark (bench/relay_bench.c): the one-way rate
# of `ipckit relay FROM TO` (the real binary) beside one channel alone.
#   make bench-relay                          default pairs, 5 reps, not pinned
#   make bench-relay RELAY_BENCH_ARGS='-r 7 -p 0,1,1 pshm-pshm'
#   make bench-relay-floor                    what a relayed pmsg: message costs at
#                                             least (relay_bench -f)
# The machine is shared: every run takes $(BENCH_LOCK) first (flock).

RELAY_BENCH := $(B)/bench/relay_bench
# One lock per build; to share one between worktrees: make BENCH_LOCK=/path
BENCH_LOCK ?= $(B)/bench.lock

$(RELAY_BENCH): bench/relay_bench.c bench/bench_util.h include/ipckit.h $(STATIC)
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(CFLAGS) -o $@ $< $(STATIC) $(LDLIBS)

.PHONY: bench-relay bench-relay-floor ci-extra-relay-bench
bench-relay: $(RELAY_BENCH) $(CLI)
	flock $(BENCH_LOCK) $(RELAY_BENCH) -x $(CLI) $(RELAY_BENCH_ARGS)

bench-relay-floor: $(RELAY_BENCH)
	flock $(BENCH_LOCK) $(RELAY_BENCH) -f

# CI builds the benchmark (it must keep compiling) but does not run it.
ci-extra-relay-bench: $(RELAY_BENCH)
