# examples.mk - the raw examples share examples/ex.h; `make install` also
# installs the example programs where `ipckit demo` finds them.
LIBEXECDIR ?= $(PREFIX)/libexec
EXDIR      := $(LIBEXECDIR)/ipckit/examples

$(filter-out $(B)/examples/with-ipckit/%,$(EX_BIN)): examples/ex.h
