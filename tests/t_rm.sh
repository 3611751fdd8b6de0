#!/bin/sh
# t_rm.sh - ipckit rm: no target is a usage error that removes nothing; a
# word that is not a URL too; --dry-run keeps; each removal prints one line;
# a failure names the target and the errno and exits 1.
set -u
IPCK=$IPCK_BIN
TAG=$IPCK_TEST_TAG
DIR=$IPCK_TEST_DIR
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

seg=/dev/shm/$TAG-rm
head -c 100 /dev/zero >"$seg" || exit 1
mkfifo -m 600 "$DIR/f" || exit 1
trap 'rm -f "$seg"' EXIT

$IPCK rm --help | grep -q -- '--stale' || fail "rm --help"
err=$($IPCK rm 2>&1 >/dev/null); st=$?
[ $st = 2 ] || fail "rm with no target: exit $st"
case $err in *"nothing to remove"*) ;; *) fail "rm with no target says: $err" ;; esac
$IPCK rm --dry-run >/dev/null 2>&1; [ $? = 2 ] || fail "rm --dry-run alone is not a usage error"
$IPCK rm "pshm:/$TAG-rm" oops >/dev/null 2>&1; [ $? = 2 ] || fail "a word that is not a URL"
[ -e "$seg" ] || fail "a usage error removed something"
$IPCK rm --user root "pshm:/$TAG-rm" >/dev/null 2>&1; [ $? = 2 ] || fail "--user without --stale"
[ -e "$seg" ] || fail "a usage error removed something"

out=$($IPCK rm --dry-run "pshm:/$TAG-rm" "fifo:$DIR/f") || fail "dry run exit $?"
[ "$out" = "would remove pshm:/$TAG-rm
would remove fifo:$DIR/f" ] || fail "dry run says: $out"
[ -e "$seg" ] && [ -p "$DIR/f" ] || fail "--dry-run removed something"

out=$($IPCK rm "pshm:/$TAG-rm" "fifo:$DIR/f") || fail "rm exit $?"
[ "$out" = "removed pshm:/$TAG-rm
removed fifo:$DIR/f" ] || fail "rm says: $out"
[ ! -e "$seg" ] && [ ! -e "$DIR/f" ] || fail "rm left them"

err=$($IPCK rm "pshm:/$TAG-rm" 2>&1); st=$?
[ $st = 1 ] || fail "removing what is gone: exit $st"
[ "$err" = "ipckit rm: pshm:/$TAG-rm: ENOENT (No such file or directory)" ] || fail "says: $err"
err=$($IPCK rm "pipe:" 2>&1); st=$?
[ $st = 1 ] && case $err in *"pipe:: "*"not supported"*) true ;; *) false ;; esac || fail "rm pipe: says $err ($st)"
# --stale with a pattern nothing matches removes nothing and succeeds.
out=$($IPCK rm --stale --name "/$TAG-none*" 2>/dev/null); st=$?
[ $st = 0 ] && [ -z "$out" ] || fail "rm --stale of nothing: $st '$out'"
[ $fails = 0 ]
