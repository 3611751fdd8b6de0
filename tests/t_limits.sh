#!/bin/sh
# t_limits.sh - ipckit limits shows the values /proc/sys holds, with a use
# and a percentage where one means something, as a table and as --json.
set -u
IPCK=$IPCK_BIN
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

$IPCK limits --help | grep -q -- '--json' || fail "limits --help"
$IPCK limits bogus >/dev/null 2>&1; [ $? = 2 ] || fail "an argument is not a usage error"
tab=$($IPCK limits) || fail "limits exit $?"
js=$($IPCK limits --json) || fail "limits --json exit $?"
row() { printf '%s\n' "$tab" | awk -v n="$1" '$1 == n {print $3}'; }
obj() { printf '%s\n' "$js" | grep "^{\"name\":\"$1\"" | head -n1; }

for n in msgmni msgmax msgmnb shmmni shmall shmmax; do
	want=$(cat /proc/sys/kernel/$n)
	[ "$(row $n)" = "$want" ] || fail "$n: table $(row $n), /proc $want"
	case $(obj $n) in *"\"limit\":$want,"*|*"\"limit\":$want}"*) ;; *) fail "$n json: $(obj $n)" ;; esac
done
set -- $(cat /proc/sys/kernel/sem)
[ "$(row semmsl)" = "$1" ] && [ "$(row semmns)" = "$2" ] && [ "$(row semopm)" = "$3" ] &&
	[ "$(row semmni)" = "$4" ] || fail "sem limits: $tab"
for n in queues_max msg_max msgsize_max; do
	[ "$(row $n)" = "$(cat /proc/sys/fs/mqueue/$n)" ] || fail "$n"
done
[ "$(row pipe-max-size)" = "$(cat /proc/sys/fs/pipe-max-size)" ] || fail pipe-max-size
[ "$(row max_dgram_qlen)" = "$(cat /proc/sys/net/unix/max_dgram_qlen)" ] || fail max_dgram_qlen
[ "$(row shmmin)" = 1 ] && [ "$(row semvmx)" = 32767 ] || fail "shmmin/semvmx"
q=$(ulimit -q 2>/dev/null || echo x)
case $q in
unlimited) [ "$(row rlimit_msgqueue)" = unlimited ] || fail rlimit ;;
[0-9]*) [ "$(row rlimit_msgqueue)" = "$q" ] || [ "$(row rlimit_msgqueue)" = $((q * 512)) ] ||
	fail "rlimit_msgqueue $(row rlimit_msgqueue) vs ulimit -q $q" ;;
esac

# Use and percentage: counted for segments, not for a size limit.
case $(obj shmmni) in *'"used":'*'"percent":'*) ;; *) fail "shmmni use: $(obj shmmni)" ;; esac
case $(obj shmmax) in *'"used"'*) fail "shmmax has a use: $(obj shmmax)" ;; esac
printf '%s\n' "$tab" | awk '$1 == "shmmni" && $5 ~ /%$/ {ok=1} END {exit !ok}' || fail "shmmni %"
if command -v jq >/dev/null; then
	printf '%s\n' "$js" | jq -e 'length >= 20 and all(.[]; .name and .group)' >/dev/null ||
		fail "jq does not read --json"
fi
[ $fails = 0 ]
