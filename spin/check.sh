#!/bin/sh
# check.sh - check spin/ring.pml exhaustively (mk/spin.mk: make spin).
#   B=build sh spin/check.sh [full]
# Each run: spin's defines, gcc's defines, pan's flags; pan's states and
# errors are printed.  The runs must find nothing; each mutant (a barrier,
# a look at the peer or at the ring taken out) must make pan find an error.
set -e
B=${B:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/$B/spin
safe="-DNOCLAIM -DCOLLAPSE"
live="-DCOLLAPSE -DNFAIR=3"
fails=0

# run NAME EXPECT(ok|fail) SPIN_DEFS GCC_DEFS PAN_FLAGS
run() {
	d=$out/$1
	mkdir -p "$d"
	cp "$top/spin/ring.pml" "$d/"
	t0=$(date +%s)
	(cd "$d" && spin -a $3 ring.pml >/dev/null && gcc -O2 $4 -o pan pan.c &&
		./pan -m200000 $5 >pan.out 2>&1) || true
	errs=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$d/pan.out")
	states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$d/pan.out")
	printf '  %-10s %-22s %-6s states %9s  errors %s  %ss\n' "$1" "$3" "$5" "$states" \
		"${errs:-?}" $(($(date +%s) - t0))
	if [ "$2" = ok ] && [ "$errs" != 0 ]; then
		grep -m3 'pan:' "$d/pan.out" || tail -n 5 "$d/pan.out"
		fails=$((fails + 1))
	elif [ "$2" = fail ] && { [ -z "$errs" ] || [ "$errs" = 0 ]; }; then
		echo "  mutant $1: pan found nothing"
		fails=$((fails + 1))
	fi
}

command -v spin >/dev/null || { echo "spin is not installed (apt-get install spin)"; exit 1; }
echo "spin/ring.pml: safety (assertions, invalid end states), liveness (-a -f: both sides end)"
run safe       ok   "-DLIGHT=0"             "$safe" ""
run safe-light ok   "-DLIGHT=1"             "$safe" ""
run live       ok   "-DLIGHT=0"             "$live" "-a -f"
[ "$1" = full ] && run live-light ok "-DLIGHT=1" "$live" "-a -f"
echo "mutants (each must fail):"
run mutant1    fail "-DMUTANT=1"            "$safe" ""
run mutant2    fail "-DLIGHT=1 -DMUTANT=2"  "$safe" ""
run mutant3    fail "-DMUTANT=3"            "$live" "-a -f"
run mutant4    fail "-DMUTANT=4"            "$safe" ""
[ $fails = 0 ] && echo "spin: all passed" || { echo "spin: $fails failed"; exit 1; }
