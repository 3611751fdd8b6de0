# bcast.mk - broadcast (?broadcast=1) throughput: one sender to 1 and to 4
# readers over pshm:, 64-byte messages.  Not part of `make test`; run it
# alone on the machine: `flock /work/wt/bench.lock make bench-broadcast`.
.PHONY: bench-broadcast
$(B)/bench/broadcast_tput: tests/bench/broadcast_tput.c $(STATIC)
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(CFLAGS) -o $@ $< $(STATIC) $(LDLIBS)

bench-broadcast: $(B)/bench/broadcast_tput
	$(B)/bench/broadcast_tput "pshm:/ipck-bcbench-$$$$"

# CI builds the benchmark (it must keep compiling) but does not run it.
.PHONY: ci-extra-bcast-bench
ci-extra-bcast-bench: $(B)/bench/broadcast_tput

# ringcast.h, which the pattern rules do not know: who must rebuild.
BCAST_OBJ := $(foreach o,src/ringcast.o src/ringcastconn.o,\
	$(B)/$(o) $(B)/pic/$(o))
$(BCAST_OBJ): src/ringcast.h
