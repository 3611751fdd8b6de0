# mk/signals.mk - `make bench-signal`: 64-byte round trip and 4 KiB one-way
# throughput over signal:, with socketpair: beside it for scale.  Run it alone
# on the machine (timings of a shared machine mean little).
.PHONY: bench-signal
$(B)/bench/signal_rtt: tests/bench/signal_rtt.c $(STATIC)
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(CFLAGS) -o $@ $< $(STATIC) $(LDLIBS)

bench-signal: $(B)/bench/signal_rtt
	@d=$$(mktemp -d) && $(B)/bench/signal_rtt "signal:$$d/rv" 64 && \
		$(B)/bench/signal_rtt socketpair: 64; rc=$$?; rm -rf "$$d"; exit $$rc
