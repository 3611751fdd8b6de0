# mbox2.mk - src/mailbox.h (ipck_accept on a mailbox), which the pattern
# rules do not know: every object that includes it, directly or through
# src/scheme/svmsg.h.
MBOX2_OBJ := $(foreach o,src/chan.o src/mailbox.o src/dgram.o src/scheme/unix.o \
	src/scheme/pmsg.o src/scheme/svmsg.o src/scheme/svmsg_mailbox.o src/scheme/svmsg_wait.o,\
	$(B)/$(o) $(B)/pic/$(o))
$(MBOX2_OBJ): src/mailbox.h
