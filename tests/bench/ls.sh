#!/bin/sh
# ls.sh - the `ipckit ls` benchmark: with NSYSV (10,000) System V segments and
# NPOSIX (1,000) POSIX objects present, time `ipckit ls --json` RUNS times and
# print the median.  Raises kernel.shmmni for the run if it must (root) and
# puts it back; removes every object it made, even when interrupted.
#   make bench-ls        (runs this under flock /work/wt/bench.lock when that exists)
set -u
B=${B:-build}
NSYSV=${NSYSV:-10000}
NPOSIX=${NPOSIX:-1000}
RUNS=${RUNS:-7}
KEYBASE=${KEYBASE:-0x7f5e0000}      # outside the tests' 0x7e...... keys
PREFIX=/ipckbench-$$
FILL=$B/bench/ls_fill
IPCK=$B/ipckit

shmmni=$(cat /proc/sys/kernel/shmmni)
used=$(($(wc -l < /proc/sysvipc/shm) - 1))
need=$((used + NSYSV + 512))
restore=
if [ "$shmmni" -lt "$need" ]; then
	if ! echo "$need" > /proc/sys/kernel/shmmni 2>/dev/null; then
		echo "bench-ls: kernel.shmmni is $shmmni, $used in use: $NSYSV more need root to raise it" >&2
		exit 1
	fi
	restore=$shmmni
fi
cleanup() {
	"$FILL" remove "$NSYSV" "$NPOSIX" "$KEYBASE" "$PREFIX"
	[ -n "$restore" ] && echo "$restore" > /proc/sys/kernel/shmmni
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

"$FILL" create "$NSYSV" "$NPOSIX" "$KEYBASE" "$PREFIX" || exit 1
n=$("$IPCK" ls --json 2>/dev/null | grep -c '"kind"')
echo "objects listed: $n (svshm: $("$IPCK" ls svshm --json 2>/dev/null | grep -c '"kind"'), posix: $("$IPCK" ls posix --json --name "$PREFIX-*" 2>/dev/null | grep -c '"kind"'))"

times=""
i=0
while [ $i -lt "$RUNS" ]; do
	t0=$(date +%s%N)
	"$IPCK" ls --json >/dev/null 2>&1 || { echo "ipckit ls failed" >&2; exit 1; }
	t1=$(date +%s%N)
	times="$times $(( (t1 - t0) / 1000000 ))"
	i=$((i + 1))
done
sorted=$(printf '%s\n' $times | sort -n | tr '\n' ' ')
median=$(printf '%s\n' $times | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
echo "ipckit ls --json, $NSYSV System V segments + $NPOSIX POSIX objects: runs (ms): $sorted"
echo "median: $median ms (target: under 1000 ms)"
[ "$median" -lt 1000 ]
