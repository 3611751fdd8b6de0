# soak.mk - the long integrity soak (issue 9).
#
#   make soak                          t_soak and t_soak_signal, 10,000,000 messages per scheme
#   make soak SOAK_COUNT=N SOAK_SCHEMES="unix pmsg" IPCK_SEED=S
# make test runs the same programs with 200,000 per scheme (signal's in
# t_soak_signal, see tests/t_soak.c).  The seed is printed: IPCK_SEED=S repeats a run.  The log,
# with the counts per scheme and direction, is $(B)/test-logs/t_soak.log
# (signal's: t_soak_signal.log).  Measured on two busy cores: 10 s (pshm) to
# 7.5 min (svmsg) per scheme, 25 min for all but signal, which soaks about
# 3,000-6,000 a second (10 million: 30-55 min).

SOAK_COUNT   ?= 10000000
SOAK_TIMEOUT ?= 86400
SOAK_SCHEMES ?=

soak: all $(B)/tests/t_soak $(B)/tests/t_soak_signal
	@IPCK_SOAK_COUNT=$(SOAK_COUNT) IPCK_SOAK_SCHEMES="$(SOAK_SCHEMES)" TEST_TIMEOUT=$(SOAK_TIMEOUT) \
		B=$(B) sh tests/run.sh t_soak t_soak_signal; rc=$$?; \
		cat $(B)/test-logs/t_soak.log $(B)/test-logs/t_soak_signal.log; exit $$rc

# t_soak_signal is t_soak.c built for signal: alone.
$(B)/tests/t_soak_signal: tests/t_soak.c
