#!/bin/sh
# t_kill.sh - `ipckit kill --value` reaches a process waiting in
# `ipckit signals --wait`, which prints the sender's pid and uid and the
# value; `ipckit signals` lists 1..SIGRTMAX; bad names and dead pids fail.
B=${IPCK_BIN:?run through tests/run.sh}
d=${IPCK_TEST_DIR:?}
fail() { echo "FAIL: $*"; [ -f "$d/out" ] && cat "$d/out" "$d/err"; exit 1; }
uid=$(id -u)

# Start a waiter and wait for its "ready" line.
start_waiter() {
	"$B" signals --wait "$@" >"$d/out" 2>"$d/err" &
	w=$!
	i=0
	until grep -q "waiting as pid $w" "$d/err" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 200 ] && fail "the waiter never got ready"
		sleep 0.05
	done
}

# Send from a process whose pid we know: the shell execs into ipckit kill.
send() {
	sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$d/kpid" "$B" kill "$@" || fail "kill $*"
	cat "$d/kpid"
}

start_waiter --count 3 --timeout 20000 USR1 RTMIN+3
k1=$(send -s USR1 --value 42 "$w")
k2=$(send -RTMIN+3 --value -7 "$w")
kill -USR1 "$w"
wait "$w" || fail "the waiter exited $?"
grep -Eq "^ +10 +SIGUSR1 +$k1 +$uid +42 +sigqueue\$" "$d/out" || fail "USR1 with value 42 from $k1"
grep -Eq "^ +[0-9]+ +SIGRTMIN\\+3 +$k2 +$uid +-7 +sigqueue\$" "$d/out" || fail "RTMIN+3 with value -7 from $k2"
grep -Eq "SIGUSR1 +$$ +$uid +- +kill\$" "$d/out" || fail "plain kill from the shell $$"
[ "$(wc -l <"$d/out")" = 4 ] || fail "header and 3 lines expected"

start_waiter --json --count 1 --timeout 20000 SIGRTMAX
k=$(send -s RTMAX --value 2147483647 "$w")
wait "$w" || fail "the json waiter exited $?"
grep -q "^{\"number\": [0-9]*, \"name\": \"SIGRTMAX\", \"pid\": $k, \"uid\": $uid, \"value\": 2147483647, \"code\": \"sigqueue\"}\$" "$d/out" ||
	fail "json line"

# A waiter that gets nothing gives up with status 1.
"$B" signals --wait --count 1 --timeout 100 USR2 >/dev/null 2>"$d/err" && fail "timeout should fail"
grep -q "no signal in 100 ms" "$d/err" || fail "timeout message"

# Errors: an unknown name is a usage error (2), a dead pid a failure (1).
"$B" kill -s NOPE 1 2>"$d/err"; [ $? = 2 ] || fail "unknown signal: exit 2"
grep -q "unknown signal 'NOPE'" "$d/err" || fail "unknown signal message"
"$B" signals --wait NOPE 2>"$d/err"; [ $? = 2 ] || fail "wait for unknown signal: exit 2"
sh -c 'exit 0' & dead=$!
wait $dead
"$B" kill -s USR1 "$dead" 2>"$d/err"; [ $? = 1 ] || fail "dead pid: exit 1"
grep -q "$dead: ESRCH" "$d/err" || fail "dead pid message"
"$B" kill --value 1.5 1 2>/dev/null; [ $? = 2 ] || fail "bad value: exit 2"
"$B" kill -s USR1 0 2>/dev/null; [ $? = 2 ] || fail "pid 0: exit 2"
"$B" kill -0 $$ || fail "kill -0 on a live pid"

# The list: every number 1..SIGRTMAX once, in order, with its action.
"$B" signals >"$d/list" || fail "signals"
max=$(tail -n 1 "$d/list" | awk '{print $1}')
[ "$(tail -n +2 "$d/list" | awk '{print $1}' | tr '\n' ' ')" = "$(seq 1 "$max" | tr '\n' ' ')" ] ||
	fail "numbers 1..$max"
[ "$(tail -n 1 "$d/list" | awk '{print $2}')" = SIGRTMAX ] || fail "last is SIGRTMAX"
grep -Eq '^ +9 +SIGKILL +term ' "$d/list" || fail "SIGKILL term"
grep -Eq '^ +19 +SIGSTOP +stop ' "$d/list" || fail "SIGSTOP stop"
grep -Eq '^ +17 +SIGCHLD +ign ' "$d/list" || fail "SIGCHLD ign"
"$B" signals --json >"$d/json" || fail "signals --json"
[ "$(grep -c '"number"' "$d/json")" = "$max" ] || fail "json has $max entries"
grep -q '{"number": 2, "name": "SIGINT", "action": "term", "description": ' "$d/json" || fail "json SIGINT"
exit 0
