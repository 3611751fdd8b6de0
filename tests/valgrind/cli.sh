#!/bin/sh
# cli.sh - the CLI under valgrind (make ci-extra-valgrind): a few commands
# with --leak-check=full; any memory error or byte definitely lost fails.
#   B=build sh tests/valgrind/cli.sh
B=${B:-build}
bin=$B/ipckit
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --suppressions=tests/valgrind/ipckit.supp --log-file=$dir/vg.%p"
fail=0
# Errors and leaks come as "==PID== ..." lines (with -q, nothing else does);
# "--PID--" notes, such as a system call valgrind does not know, are not.
reports() { cat "$dir"/vg.* 2>/dev/null | grep -q '^==[0-9]*=='; }
run() {   # run NAME ARGS...: expect exit 0 and a clean valgrind log
	name=$1; shift
	$vg "$@" > "$dir/out" 2>&1
	rc=$?
	if [ $rc -ne 0 ] || reports; then
		echo "FAIL $name (exit $rc)"; cat "$dir"/vg.* "$dir/out" | tail -n 40; fail=1
	else
		echo "ok   $name"
	fi
	rm -f "$dir"/vg.*
}
run "ipckit --help" $bin --help
run "ipckit ls" $bin ls
run "ipckit ls --json" $bin ls --json
run "ipckit limits" $bin limits
run "ipckit recv --help" $bin recv --help
# send and recv over unix, each under valgrind, the receiver listening
$vg $bin recv -l -n 3 -t 10000 "unix:$dir/s" > "$dir/got" 2>&1 &
rpid=$!
i=0
while [ ! -S "$dir/s" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
run "ipckit send unix:" $bin send "unix:$dir/s" one two three
wait $rpid; rc=$?
if [ $rc -ne 0 ] || reports || [ "$(cat "$dir/got")" != "$(printf 'one\ntwo\nthree')" ]; then
	echo "FAIL ipckit recv -l unix: (exit $rc)"; cat "$dir"/vg.* "$dir/got" | tail -n 40; fail=1
else
	echo "ok   ipckit recv -l unix:"
fi
[ $fail -eq 0 ] && echo "valgrind: 0 errors, 0 bytes definitely lost"
exit $fail
