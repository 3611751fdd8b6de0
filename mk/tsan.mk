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
