# ipckit - plain GNU make.  `make`, `make test`, `make install`, `make bench`.
# Switches: V=1 full command lines, SANITIZE=1 ASan+UBSan, TSAN=1 ThreadSanitizer,
# WERROR=1 warnings are errors (CI).  Sources are found by wildcard: a new
# file in src/, src/scheme/, cli/, tests/ or examples/ needs no edit here.

VERSION := 0.1.0
SOVER   := 0
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
PCDIR   ?= $(LIBDIR)/pkgconfig

CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wno-unused-parameter
BASE    := -std=c11 -D_GNU_SOURCE -Iinclude -pthread $(WARN)
LDLIBS  := -pthread -lrt

B := build
ifeq ($(SANITIZE),1)
  BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
  B := build-asan
endif
ifeq ($(TSAN),1)
  BASE += -fsanitize=thread -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=thread
  B := build-tsan
endif
ifeq ($(WERROR),1)
  BASE += -Werror
endif

ifeq ($(V),1)
  Q :=
  say :=
else
  Q := @
  say = @printf '  %-6s %s\n' $(1) $(2);
endif

LIB_SRC  := $(wildcard src/*.c src/scheme/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
PIC_OBJ  := $(LIB_SRC:%.c=$(B)/pic/%.o)
CLI_SRC  := $(wildcard cli/*.c)
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/%.o)
TEST_SRC := $(wildcard tests/t_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(B)/tests/%)
TLIB_SRC := $(wildcard tests/lib/*.c)
EX_SRC   := $(wildcard examples/*.c examples/with-ipckit/*.c)
EX_BIN   := $(EX_SRC:examples/%.c=$(B)/examples/%)
MAN      := $(wildcard man/*.[1-9])

STATIC := $(B)/libipckit.a
SHARED := $(B)/libipckit.so.$(VERSION)
CLI    := $(B)/ipckit

all: $(STATIC) $(SHARED) $(CLI) $(B)/ipckit.pc
.PHONY: all test examples install uninstall clean bench soak fuzz check-scheme-table

$(B)/%.o: %.c include/ipckit.h src/internal.h
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(CFLAGS) -fvisibility=hidden -c $< -o $@

$(B)/pic/%.o: %.c include/ipckit.h src/internal.h
	$(call say,CC,$< [pic])
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(CFLAGS) -fvisibility=hidden -fPIC -c $< -o $@

$(STATIC): $(LIB_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(SHARED): $(PIC_OBJ) src/libipckit.map
	$(call say,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,libipckit.so.$(SOVER) -Wl,--version-script=src/libipckit.map \
		$(LDFLAGS) -o $@ $(PIC_OBJ) $(LDLIBS)
	$(Q)ln -sf libipckit.so.$(VERSION) $(B)/libipckit.so.$(SOVER)
	$(Q)ln -sf libipckit.so.$(SOVER) $(B)/libipckit.so

$(CLI): $(CLI_OBJ) $(STATIC)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(STATIC) $(LDLIBS) -lm

PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
	-e 's|@VERSION@|$(VERSION)|'

$(B)/ipckit.pc: ipckit.pc.in Makefile
	$(Q)$(PC_SED) $< > $@

# Tests see the private header too (scheme table, URL parser) and link statically.
$(B)/tests/%: tests/%.c $(TLIB_SRC) tests/lib/check.h $(STATIC)
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(CFLAGS) -Isrc -Itests/lib -o $@ $< $(TLIB_SRC) $(STATIC) $(LDLIBS) -lm

# Examples include only the public header, as a user's program would.
$(B)/examples/%: examples/%.c $(STATIC)
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(CFLAGS) -o $@ $< $(STATIC) $(LDLIBS)

examples: $(EX_BIN)

test: all $(TEST_BIN) $(EX_BIN)
	@B=$(B) sh tests/run.sh

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(PCDIR)
	install -m 644 include/ipckit.h $(DESTDIR)$(INCDIR)/
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libipckit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libipckit.so.$(SOVER)
	ln -sf libipckit.so.$(SOVER) $(DESTDIR)$(LIBDIR)/libipckit.so
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/
	$(PC_SED) ipckit.pc.in > $(DESTDIR)$(PCDIR)/ipckit.pc   # the PREFIX of this install
	for m in $(MAN); do s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done

uninstall:
	rm -f $(DESTDIR)$(INCDIR)/ipckit.h $(DESTDIR)$(LIBDIR)/libipckit.* \
		$(DESTDIR)$(BINDIR)/ipckit $(DESTDIR)$(PCDIR)/ipckit.pc
	for m in $(MAN); do s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done

clean:
	rm -rf build build-asan build-tsan

-include $(wildcard mk/*.mk)
