#!/bin/sh
# t_relay.sh - ipckit relay between real processes: shared memory (relayed
# in place) to a queue, a socket to a FIFO (batched), a queue to a socket,
# a message too large for TO,
# SIGTERM in the middle (totals, exit 130, FROM removed), --both.
set -u
D=$IPCK_TEST_DIR
K=$IPCK_BIN
T=$IPCK_TEST_TAG
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
# The relay may not listen yet: retry a refused send (or a missing object).
send_retry() {
	i=0
	while ! $K send "$@" 2>"$D/send.err"; do
		grep -qE "ECONNREFUSED|ENOENT" "$D/send.err" && [ $i -lt 100 ] ||
			{ cat "$D/send.err" >&2; return 1; }
		sleep 0.05; i=$((i + 1))
	done
}
# Wait until the recv -l on URL is up: a relay connecting earlier is refused.
await_url() { i=0; while ! $K ls 2>/dev/null | grep -qF "$1" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done; }

# 1. pshm -> pmsg: 3000 lines, every one once and in order; the relay ends
#    with its sender (exit 0) and removes what it created
seq 1 3000 >"$D/lines"
$K recv -l -n 3000 -t 30000 "pmsg:/$T-q1" >"$D/out1" 2>"$D/rerr1" & rp=$!
await_url "$T-q1"
$K relay -t 30000 "pshm:/$T-s1" "pmsg:/$T-q1" 2>"$D/err1" & lp=$!
send_retry "pshm:/$T-s1" <"$D/lines" || fail "send into pshm relay: exit $?"
wait $lp || fail "relay pshm -> pmsg: exit $? ($(cat "$D/err1"))"
wait $rp || fail "recv from pmsg: exit $? ($(cat "$D/rerr1"))"
cmp -s "$D/lines" "$D/out1" || fail "pshm -> pmsg: $(wc -l <"$D/out1") lines, not 1..3000 in order"
[ ! -e "/dev/shm/$T-s1" ] || fail "the relay left pshm:/$T-s1 behind"

# 1b. unix -> fifo (a framed stream: what waits in FROM goes in one write)
$K recv -l -n 3000 -t 30000 "fifo:$D/f1" >"$D/out1b" 2>"$D/rerr1b" & rp=$!
await_url "$D/f1"
$K relay -t 30000 "unix:$D/u1" "fifo:$D/f1" 2>"$D/err1b" & lp=$!
send_retry "unix:$D/u1" <"$D/lines" || fail "send into unix relay: exit $?"
wait $lp || fail "relay unix -> fifo: exit $? ($(cat "$D/err1b"))"
wait $rp || fail "recv from fifo: exit $? ($(cat "$D/rerr1b"))"
cmp -s "$D/lines" "$D/out1b" || fail "unix -> fifo: $(wc -l <"$D/out1b") lines, not 1..3000 in order"

# 2. a message too large for the queue stops the relay; nothing is cut
head -c 20000 /dev/zero >"$D/big"
$K recv -l -t 3000 "pmsg:/$T-q2" >"$D/out2" 2>/dev/null & rp=$!
await_url "$T-q2"
$K relay -t 30000 "pshm:/$T-s2" "pmsg:/$T-q2" 2>"$D/err2" & lp=$!
send_retry --file "$D/big" "pshm:/$T-s2" || fail "send big: exit $?"
wait $lp; rc=$?
[ $rc = 1 ] || fail "relay of a too-large message: exit $rc, want 1"
grep -q "pmsg:/$T-q2: message 1 has 20000 bytes.*EMSGSIZE" "$D/err2" ||
	fail "relay error: $(cat "$D/err2")"
wait $rp
[ ! -s "$D/out2" ] || fail "a cut message was delivered"

# 3. pmsg -> unix, then SIGTERM while the sender is still there: totals,
#    exit 130, FROM removed
$K recv -l -t 30000 "unix:$D/u3" >"$D/out3" 2>/dev/null & rp=$!
await_url "$D/u3"
$K relay -t 30000 "pmsg:/$T-q3" "unix:$D/u3" 2>"$D/err3" & lp=$!
await_url "$T-q3"
mkfifo "$D/in3"
$K send "pmsg:/$T-q3" <"$D/in3" 2>/dev/null & sp=$!
exec 3>"$D/in3"
printf 'one\ntwo\nthree\n' >&3
i=0; while [ "$(wc -l <"$D/out3")" -lt 3 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $lp
wait $lp; rc=$?
exec 3>&-
rm -f "$D/in3"
wait $sp
[ $rc = 130 ] || fail "relay after SIGTERM: exit $rc, want 130 ($(cat "$D/err3"))"
grep -q "total 3 messages, 11 bytes" "$D/err3" || fail "totals after SIGTERM: $(cat "$D/err3")"
wait $rp
expect3=$(printf 'one\ntwo\nthree')
[ "$(cat "$D/out3")" = "$expect3" ] || fail "pmsg -> unix: got [$(cat "$D/out3")]"
$K ls 2>/dev/null | grep -qF "$T-q3" && fail "the relay left pmsg:/$T-q3 behind"

# 4. --both, in place and through sockets: the benchmark's ping-pong runs
#    through `relay --both` (cmd_relay in a third process)
$K bench --schemes relay-pshm,relay-unix --quick --sizes 64 --reps 1 --json >"$D/b4" 2>"$D/e4" ||
	fail "bench through relay --both: exit $? ($(cat "$D/e4"))"
for s in relay-pshm relay-unix; do
	grep -q "\"scheme\":\"$s\",\"size\":64,\"rtt_p50_ns\":[1-9]" "$D/b4" ||
		fail "$s: no measured row: $(cat "$D/b4")"
done

[ $fails = 0 ] || exit 1
echo "relay: pshm -> pmsg in order, too large stops, SIGTERM totals, --both"
