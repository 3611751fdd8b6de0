# spin.mk - the Spin model of the ring's index and wake-up protocol
# (spin/ring.pml, issue 9), checked exhaustively with pan built by gcc.
#
#   make spin             safety (assertions, invalid end states: no lost
#                         wake-up) with full fences and with membarrier
#                         (LIGHT=1), liveness (both sides end, under weak
#                         fairness) with full fences, then the mutants, which
#                         must fail (spin/check.sh)
#   make spin-full        also liveness with LIGHT=1 (8 million states, 1 GiB)
#   make ci-extra-spin    make spin; installs spin when missing (apt)

.PHONY: spin spin-full ci-extra-spin
spin:
	@B=$(B) sh spin/check.sh

spin-full:
	@B=$(B) sh spin/check.sh full

ci-extra-spin:
	@command -v spin >/dev/null || { apt-get update -qq && apt-get install -y -qq spin >/dev/null; }
	@B=$(B) sh spin/check.sh
