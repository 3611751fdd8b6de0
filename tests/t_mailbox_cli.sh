#!/bin/sh
# t_mailbox_cli.sh - ipckit recv -l --from on a mailbox (?mailbox=1) with
# three ipckit send processes writing into it at once: every message once,
# in order per sender, each line led by that sender's pid; and --from on an
# ordinary connection gives the peer's pid.
set -u
D=$IPCK_TEST_DIR
K=$IPCK_BIN
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
# The mailbox may not be there yet: retry a refused send.
send_retry() {
	i=0
	while ! $K send "$@" 2>"$D/send.err.$$"; do
		grep -q ECONNREFUSED "$D/send.err.$$" && [ $i -lt 100 ] || { cat "$D/send.err.$$" >&2; return 1; }
		sleep 0.05; i=$((i + 1))
	done
}

T=$(printf '\t')
mailbox() {  # mailbox URL
	u=$1
	$K recv -l --from -n 7 -t 30000 "$u" >"$D/out" 2>"$D/err" & rp=$!
	send_retry "$u" probe || fail "$u: no mailbox came up"
	pids=""
	for w in a b c; do
		$K send "$u" "$w-1" "$w-2" & pids="$pids $!"
	done
	for p in $pids; do wait "$p" || fail "$u: a sender failed"; done
	wait $rp || fail "$u: recv: exit $? ($(cat "$D/err"))"
	[ "$(wc -l <"$D/out")" -eq 7 ] || fail "$u: not 7 lines: [$(cat "$D/out")]"
	set -- $pids
	for w in a b c; do
		l1=$(grep -n "^$1$T$w-1\$" "$D/out" | cut -d: -f1)
		l2=$(grep -n "^$1$T$w-2\$" "$D/out" | cut -d: -f1)
		[ -n "$l1" ] && [ -n "$l2" ] && [ "$l1" -lt "$l2" ] ||
			fail "$u: $w from $1, in order: [$(cat "$D/out")]"
		shift
	done
}

mailbox "unix-dgram:$D/mb?mailbox=1"
mailbox "svmsg:$(printf '0x%x' $((IPCK_TEST_KEY + 1)))?mailbox=1"
mailbox "pmsg:/$IPCK_TEST_TAG-mb?mailbox=1&msgsize=64"
[ ! -e "$D/mb" ] || fail "recv -l left the mailbox's socket behind"

# --from on a connection: the client's pid
$K recv -l --from -n 1 -t 30000 "unix:$D/s" >"$D/out" & rp=$!
i=0; while [ ! -e "$D/s" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
$K send "unix:$D/s" hello & sp=$!
wait $sp || fail "send to unix: exit $?"
wait $rp || fail "recv --from unix: exit $?"
[ "$(cat "$D/out")" = "$(printf '%s\thello' $sp)" ] || fail "unix --from: [$(cat "$D/out")], sender $sp"

# mailbox=1 where it is not: bad usage
$K recv -l "fifo:$D/f?mailbox=1" 2>"$D/err"; rc=$?
[ $rc -eq 2 ] || fail "fifo mailbox: exit $rc, want 2"

[ $fails -eq 0 ] || exit 1
echo "mailbox CLI ok"
