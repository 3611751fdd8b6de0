#!/bin/sh
# socat.sh - ipckit's raw mode against a real socat (Debian's), over Unix
# and TCP sockets, both directions.  Run by `make ci-extra-interop`, which
# installs socat; make test does not need it.
set -u
K=${IPCK_BIN:-build/ipckit}
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
await() { i=0; while [ ! -e "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done; }
port() { echo $(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000 )); }

# socat writes lines into a Unix socket ipckit listens on
$K recv -l --raw -n 2 -t 10000 "unix:$D/s" >"$D/o1" & rp=$!
await "$D/s"; sleep 0.2
printf 'one\ntwo\n' | socat - "UNIX-CONNECT:$D/s" || fail "socat unix connect"
wait $rp || fail "recv --raw unix: exit $?"
[ "$(cat "$D/o1")" = "$(printf 'one\ntwo')" ] || fail "unix: got [$(cat "$D/o1")]"

# ipckit sends lines to a TCP socket socat listens on
p=$(port)
socat -u "TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr" "OPEN:$D/o2,creat,trunc" & sp=$!
sleep 0.3
$K send --raw -t 5000 "tcp://127.0.0.1:$p" alpha beta || fail "send --raw tcp: exit $?"
wait $sp || fail "socat tcp listen: exit $?"
[ "$(cat "$D/o2")" = "$(printf 'alpha\nbeta')" ] || fail "tcp: got [$(cat "$D/o2")]"

# socat sends a datagram to a raw unix-dgram listener: one message, whole
$K recv -l --raw -n 1 -t 10000 "unix-dgram:$D/d" >"$D/o3" & rp=$!
await "$D/d"; sleep 0.2
(printf 'y z'; sleep 1) | socat -u - "UNIX-SENDTO:$D/d,bind=$D/c1" || fail "socat sendto"   # alive while accepted
wait $rp || fail "recv --raw unix-dgram: exit $?"
[ "$(cat "$D/o3")" = "y z" ] || fail "unix-dgram: got [$(cat "$D/o3")]"

echo "interop with socat: $fails failed"
exit $((fails > 0))
