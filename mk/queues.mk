# queues.mk - the System V message scheme's private header (the pattern
# rules in Makefile know only include/ipckit.h and src/internal.h).
SVMSG_OBJ := $(foreach o,src/scheme/svmsg.o src/scheme/svmsg_wait.o,$(B)/$(o) $(B)/pic/$(o))
$(SVMSG_OBJ): src/scheme/svmsg.h

# The 64-byte round trip of svmsg and pmsg, library vs direct system calls.
# Not part of `make test`: run it alone, `flock /work/wt/bench.lock make bench-queues`.
.PHONY: bench-queues
$(B)/bench/queues_rtt: bench/queues_rtt.c $(STATIC)
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(CFLAGS) -o $@ $< $(STATIC) $(LDLIBS)
bench-queues: $(B)/bench/queues_rtt
	$(B)/bench/queues_rtt $(QBENCH_ARGS)
