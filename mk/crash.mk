# crash.mk - the crash-point build of the library (issue 9), for the peer
# death test only: $(B)/crash/libipckit.a is libipckit compiled with
# -DIPCK_CRASH_POINTS (src/crash.c: IPCK_CRASH_AT=site:n SIGKILLs the
# process at the n-th pass of a named site).  tests/t_peerdeath links it
# instead of $(STATIC); nothing else does, and nothing of it is installed.

CRASH_OBJ := $(LIB_SRC:%.c=$(B)/crash/%.o)
CRASH_LIB := $(B)/crash/libipckit.a

$(B)/crash/%.o: %.c include/ipckit.h $(wildcard src/*.h)
	$(call say,CC,$< [crash points])
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(CFLAGS) -DIPCK_CRASH_POINTS -fvisibility=hidden -c $< -o $@

$(CRASH_LIB): $(CRASH_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

.PHONY: crash-lib
crash-lib: $(CRASH_LIB)

$(B)/tests/t_peerdeath: tests/t_peerdeath.c $(TLIB_SRC) tests/lib/check.h $(CRASH_LIB)
	$(call say,CC,$< [crash points])
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(CFLAGS) -DIPCK_CRASH_POINTS -Isrc -Itests/lib -o $@ $< $(TLIB_SRC) \
		$(CRASH_LIB) $(LDLIBS) -lm
