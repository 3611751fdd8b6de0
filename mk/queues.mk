# queues.mk - the System V message scheme's private header (the pattern
# rules in Makefile know only include/ipckit.h and src/internal.h).
SVMSG_OBJ := $(foreach o,src/scheme/svmsg.o src/scheme/svmsg_wait.o,$(B)/$(o) $(B)/pic/$(o))
$(SVMSG_OBJ): src/scheme/svmsg.h
