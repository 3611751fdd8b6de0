#!/bin/sh
# t_cli_send.sh - ipckit send / recv / relay between real processes, raw
# interop with plain shell tools, exit codes and error lines.
set -u
D=$IPCK_TEST_DIR
K=$IPCK_BIN
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
# Wait until a path exists (a listener is up).
await() { i=0; while [ ! -e "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done; }
# A path exists from bind(2) on, a moment before listen(2): retry a refused send.
send_retry() {
	i=0
	while ! $K send "$@" 2>"$D/send.err"; do
		grep -q ECONNREFUSED "$D/send.err" && [ $i -lt 50 ] || { cat "$D/send.err" >&2; return 1; }
		sleep 0.1; i=$((i + 1))
	done
}
expect() {  # expect NAME FILE EXPECTED-CONTENT
	got=$(cat "$2")
	[ "$got" = "$3" ] || fail "$1: got [$got], want [$3]"
}

# 1. arguments as messages, over unix:
$K recv -l -n 3 -t 30000 "unix:$D/s" >"$D/out1" 2>"$D/err1" & rp=$!
await "$D/s"
send_retry "unix:$D/s" alpha "two words" "" || fail "send args: exit $?"
wait $rp || fail "recv args: exit $? ($(cat "$D/err1"))"
expect "args" "$D/out1" "$(printf 'alpha\ntwo words\n')"
[ ! -e "$D/s" ] || fail "recv -l left its socket behind"

# 2. stdin lines, --hex, over unix-seqpacket
$K recv -l --hex -t 30000 "unix-seqpacket:$D/q" >"$D/out2" & rp=$!
await "$D/q"
printf 'hi\nyo\n' >"$D/in2"
send_retry "unix-seqpacket:$D/q" <"$D/in2" || fail "send stdin: exit $?"
wait $rp || fail "recv hex: exit $?"
expect "hex" "$D/out2" "$(printf '6869\n796f')"

# 3. raw: a shell's echo into a FIFO that ipckit listens on
$K recv -l --raw -n 2 -t 30000 "fifo:$D/f" >"$D/out3" 2>"$D/err3" & rp=$!
await "$D/f"
if [ -p "$D/f" ]; then
	printf 'line one\nline two\n' >"$D/f"
	wait $rp || fail "recv raw fifo: exit $? ($(cat "$D/err3"))"
	expect "raw fifo" "$D/out3" "$(printf 'line one\nline two')"
else
	kill $rp 2>/dev/null; wait $rp 2>/dev/null
	fail "no FIFO at $D/f ($(cat "$D/err3"))"
fi

# 4. relay unix -> tcp-free path: unix:in -> unix-dgram:out, ends when the sender ends
$K recv -l -n 2 -t 30000 "unix-dgram:$D/out" >"$D/out4" & rp=$!
await "$D/out"
$K relay --stats -t 30000 "unix:$D/in" "unix-dgram:$D/out" 2>"$D/stats4" & lp=$!
await "$D/in"
send_retry "unix:$D/in" m1 m2 || fail "send to relay: exit $?"
wait $lp || fail "relay: exit $? ($(cat "$D/stats4"))"
wait $rp || fail "recv from relay: exit $?"
expect "relay" "$D/out4" "$(printf 'm1\nm2')"
grep -q "total 2 messages, 4 bytes" "$D/stats4" || fail "relay --stats totals: $(cat "$D/stats4")"

# 5. a message the next scheme cannot carry stops the relay: nothing is cut
head -c 100000 /dev/zero >"$D/big"
$K recv -l -t 5000 "unix-dgram:$D/out5" >"$D/got5" 2>/dev/null & rp=$!
await "$D/out5"
$K relay -t 30000 "unix:$D/in5" "unix-dgram:$D/out5" 2>"$D/err5" & lp=$!
await "$D/in5"
send_retry --file "$D/big" "unix:$D/in5"
wait $lp; rc=$?
[ $rc = 1 ] || fail "relay of a too-large message: exit $rc, want 1"
grep -q "EMSGSIZE" "$D/err5" || fail "relay error does not name EMSGSIZE: $(cat "$D/err5")"
wait $rp
[ ! -s "$D/got5" ] || fail "a cut message was delivered"

# 6. usage and runtime errors
$K send 2>/dev/null; [ $? = 2 ] || fail "send without URL: want exit 2"
$K send "nosuch:/x" hi 2>"$D/e6"; [ $? = 2 ] || fail "bad scheme: want exit 2"
grep -q "nosuch:/x.*EINVAL" "$D/e6" || fail "bad URL message: $(cat "$D/e6")"
$K send "unix:$D/nobody" hi 2>"$D/e7"; [ $? = 1 ] || fail "no listener: want exit 1"
grep -q "unix:$D/nobody: connect: ECONNREFUSED" "$D/e7" || fail "no listener message: $(cat "$D/e7")"
$K recv -n x "unix:$D/s" 2>/dev/null; [ $? = 2 ] || fail "bad count: want exit 2"
$K relay "unix:$D/a" 2>/dev/null; [ $? = 2 ] || fail "relay with one URL: want exit 2"
$K send --help | grep -q "usage: ipckit send" || fail "send --help"

# 7. SIGINT ends a waiting listener and removes what it made
$K recv -l "unix:$D/int" & rp=$!
await "$D/int"
kill -INT $rp
wait $rp; rc=$?
[ $rc = 130 ] || fail "recv after SIGINT: exit $rc, want 130"
[ ! -e "$D/int" ] || fail "SIGINT left the socket file behind"

# 8. descriptor passing: the receiver prints what the descriptor points to
echo "some bytes" >"$D/payload"
$K recv -l --fd -n 1 -t 30000 "unix-seqpacket:$D/fdp" >"$D/out8" 2>"$D/err8" & rp=$!
await "$D/fdp"
send_retry --fd "$D/payload" "unix-seqpacket:$D/fdp" "take this" || fail "send --fd: exit $?"
wait $rp || fail "recv --fd: exit $? ($(cat "$D/err8"))"
expect "recv --fd" "$D/out8" "$(printf 'take this\nfd: %s file 11' "$D/payload")"
$K send --fd "$D/payload" "tcp://127.0.0.1:1" x 2>"$D/e8"; [ $? = 1 ] || fail "--fd over tcp: want exit 1"

exit $((fails > 0))
