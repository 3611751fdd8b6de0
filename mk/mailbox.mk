# mailbox.mk - headers the pattern rules do not know (they know only
# include/ipckit.h and src/internal.h): svmsg.h for svmsg_mailbox.c, and
# sock.h, whose struct sock_priv the mailbox grew, for the socket files.
MAILBOX_SVMSG_OBJ := $(foreach o,src/scheme/svmsg_mailbox.o,$(B)/$(o) $(B)/pic/$(o))
$(MAILBOX_SVMSG_OBJ): src/scheme/svmsg.h
MAILBOX_SOCK_OBJ := $(foreach o,src/sock.o src/dgram.o src/scheme/unix.o src/scheme/inet.o,\
	$(B)/$(o) $(B)/pic/$(o))
$(MAILBOX_SOCK_OBJ): src/sock.h

# Mailbox vs connection, one sender, 64-byte messages, for svmsg, pmsg and
# unix-dgram.  Not part of `make test`; run it alone on the machine:
# `flock /work/wt/bench.lock make bench-mailbox`.
.PHONY: bench-mailbox
$(B)/bench/mailbox_tput: tests/bench/mailbox_tput.c $(STATIC)
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(CFLAGS) -o $@ $< $(STATIC) $(LDLIBS)

bench-mailbox: $(B)/bench/mailbox_tput
	@d=$$(mktemp -d) && $(B)/bench/mailbox_tput "svmsg:0x7e6d6200" "pmsg:/ipck-mbbench-$$$$" \
		"unix-dgram:$$d/mb"; rc=$$?; rm -rf "$$d"; exit $$rc
