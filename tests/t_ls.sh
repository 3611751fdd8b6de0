#!/bin/sh
# t_ls.sh - ipckit ls: the table and --json for objects made from the shell
# (a FIFO held open by a sleep, a POSIX segment in /dev/shm), column choice,
# the filters, and usage errors.
set -u
IPCK=$IPCK_BIN
TAG=$IPCK_TEST_TAG
DIR=$IPCK_TEST_DIR
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
has() { case $1 in *"$2"*) return 0 ;; esac; return 1; }

$IPCK ls --help | grep -q -- '--json' || fail "ls --help"
$IPCK ls nosuchkind >/dev/null 2>&1; [ $? = 2 ] || fail "unknown kind is not a usage error"
$IPCK ls -o nosuchcol >/dev/null 2>&1; [ $? = 2 ] || fail "unknown column is not a usage error"

# A FIFO held by a process, a segment held by nobody.
mkfifo -m 600 "$DIR/fifo" || exit 1
sleep 30 <>"$DIR/fifo" &
SLEEP=$!
head -c 4096 /dev/zero >"/dev/shm/$TAG-seg" && chmod 640 "/dev/shm/$TAG-seg"
trap 'kill $SLEEP 2>/dev/null; rm -f "/dev/shm/$TAG-seg"' EXIT
# Wait until the sleep has the FIFO open.
i=0
while [ $i -lt 100 ] && ! ls -l /proc/$SLEEP/fd 2>/dev/null | grep -q "$DIR/fifo"; do
	sleep 0.05; i=$((i + 1))
done

out=$($IPCK ls --json fifo pshm --name "*$TAG*") || fail "ls --json exit $?"
[ "$(printf '%s\n' "$out" | head -n1)" = "[" ] || fail "--json does not start an array: $out"
[ "$(printf '%s\n' "$out" | tail -n1)" = "]" ] || fail "--json does not end the array: $out"
fifo=$(printf '%s\n' "$out" | grep '"kind":"fifo"')
has "$fifo" "\"name\":\"$DIR/fifo\"" || fail "fifo name: $fifo"
has "$fifo" '"mode":384' || fail "fifo mode as a number: $fifo"
has "$fifo" "\"uid\":$(id -u)," || fail "fifo uid: $fifo"
has "$fifo" "\"holders\":[{\"pid\":$SLEEP,\"command\":\"sleep\"" || fail "fifo holder: $fifo"
has "$fifo" "\"url\":\"fifo:$DIR/fifo\"" || fail "fifo url: $fifo"
seg=$(printf '%s\n' "$out" | grep '"kind":"pshm"')
has "$seg" "\"name\":\"/$TAG-seg\"" || fail "pshm name: $seg"
has "$seg" '"size":4096,' || fail "pshm size: $seg"
has "$seg" '"mode":416,' || fail "pshm mode: $seg"
has "$seg" '"stale":false' || fail "pshm stale: $seg"
has "$seg" '"holders":[]' || fail "pshm holders: $seg"
[ "$(printf '%s\n' "$out" | grep -c '"kind"')" = 2 ] || fail "--json lists other objects: $out"
if command -v jq >/dev/null; then
	printf '%s\n' "$out" | jq -e 'length == 2 and (.[1].mtime | type) == "number"' >/dev/null ||
		fail "jq does not read --json: $out"
fi

# The table: header, aligned columns, human sizes; -o picks columns.
tab=$($IPCK ls pshm --name "/$TAG-seg")
[ "$(printf '%s\n' "$tab" | head -n1 | awk '{print $1, $2}')" = "KIND ID" ] || fail "table header: $tab"
printf '%s\n' "$tab" | tail -n1 | grep -q "^pshm .* /$TAG-seg .* 0640 *4K " || fail "table row: $tab"
tab=$($IPCK ls pshm --name "/$TAG-seg" -o name,size,user)
[ "$(printf '%s\n' "$tab" | head -n1)" = "NAME            SIZE USER" ] ||
	[ "$(printf '%s\n' "$tab" | head -n1 | tr -s ' ')" = "NAME SIZE USER" ] || fail "-o header: $tab"
[ "$(printf '%s\n' "$tab" | tail -n1 | tr -s ' ')" = "/$TAG-seg 4K $(id -un)" ] || fail "-o row: $tab"
js=$($IPCK ls --json pshm --name "/$TAG-seg" -o name,size)
[ "$(printf '%s\n' "$js" | sed -n 2p)" = "{\"name\":\"/$TAG-seg\",\"size\":4096}" ] || fail "-o json: $js"

# Filters.
[ "$($IPCK ls --json pshm --name "/$TAG-seg" --user "$(id -u)" | grep -c pshm)" = 1 ] || fail "--user uid"
[ "$($IPCK ls --json pshm --name "/$TAG-seg" --user "$(id -un)" | grep -c pshm)" = 1 ] || fail "--user name"
[ "$($IPCK ls --json pshm --name "/$TAG-seg" --user 54321 | grep -c pshm)" = 0 ] || fail "--user other"
[ "$($IPCK ls --json --stale --name "*$TAG*")" = "[]" ] || fail "--stale shows live objects"
$IPCK ls --user no-such-user-here >/dev/null 2>&1; [ $? = 2 ] || fail "unknown user is not a usage error"

# Unprivileged, without /dev/mqueue: one line says what may be missing.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && [ ! -e /dev/mqueue ]; then
	err=$(setpriv --reuid=65534 --regid=65534 --clear-groups $IPCK ls pmsg --json 2>&1 >/dev/null)
	st=$?
	[ $st = 0 ] || fail "ls as nobody: exit $st"
	case $err in
	*"note: POSIX queues: only those held open are listed"*) ;;
	*) fail "ls as nobody does not say queues may be missing: $err" ;;
	esac
fi

kill $SLEEP
wait $SLEEP 2>/dev/null
rm -f "/dev/shm/$TAG-seg" "$DIR/fifo"
[ $fails = 0 ]
