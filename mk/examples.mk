# examples.mk - the raw examples share examples/ex.h; `make install` also
# installs the example programs where `ipckit demo` finds them.
LIBEXECDIR ?= $(PREFIX)/libexec
EXDIR      := $(LIBEXECDIR)/ipckit/examples

$(filter-out $(B)/examples/with-ipckit/%,$(EX_BIN)): examples/ex.h

# The programs go where `ipckit demo` looks (DIR/../libexec/ipckit/examples
# beside the installed binary); their sources, ex.h included, go with the docs.
DOCEXDIR := $(PREFIX)/share/doc/ipckit/examples
.PHONY: install-examples uninstall-examples
install: install-examples
uninstall: uninstall-examples

install-examples: $(EX_BIN)
	install -d $(DESTDIR)$(EXDIR)/with-ipckit $(DESTDIR)$(DOCEXDIR)/with-ipckit
	install -m 755 $(filter-out $(B)/examples/with-ipckit/%,$(EX_BIN)) $(DESTDIR)$(EXDIR)/
	install -m 644 examples/*.c examples/ex.h $(DESTDIR)$(DOCEXDIR)/
	for f in $(filter $(B)/examples/with-ipckit/%,$(EX_BIN)); do \
		install -m 755 $$f $(DESTDIR)$(EXDIR)/with-ipckit/; done
	for f in $(wildcard examples/with-ipckit/*.c); do \
		install -m 644 $$f $(DESTDIR)$(DOCEXDIR)/with-ipckit/; done

uninstall-examples:
	rm -rf $(DESTDIR)$(EXDIR) $(DESTDIR)$(DOCEXDIR)
	-rmdir $(DESTDIR)$(LIBEXECDIR)/ipckit $(DESTDIR)$(PREFIX)/share/doc/ipckit 2>/dev/null
