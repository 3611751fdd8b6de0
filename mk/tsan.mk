# tsan.mk - the suite under ThreadSanitizer (issue 9).
#
#   make test TSAN=1      every test, built with -fsanitize=thread in build-tsan/
# ThreadSanitizer runs these programs 5-15 times slower, and slower still at
# each fork and process start (t_peerdeath starts three processes per run,
# about 200 runs): each test gets TSAN_TIMEOUT seconds instead of the
# runner's 120.  t_soak sends a tenth of its messages (tests/t_soak.c).

TSAN_TIMEOUT ?= 600

ifeq ($(TSAN),1)
export TEST_TIMEOUT ?= $(TSAN_TIMEOUT)
endif

# CI: the whole suite under TSan (measured on a busy 2-core machine: 1.5 min
# to build, 6 to run, t_peerdeath 2.5 of them).  Not WERROR: gcc warns that
# TSan does not model atomic_thread_fence (-Wtsan), which the ring's wake-up
# handshake uses; spin/ring.pml checks that handshake instead (mk/spin.mk).
.PHONY: ci-extra-tsan
ci-extra-tsan:
	@$(MAKE) --no-print-directory test TSAN=1
