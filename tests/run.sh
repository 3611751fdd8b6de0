#!/bin/sh
# run.sh - run every test of ipckit, each in its own process under a timeout,
# with a unique tag for the objects it makes; fail any test that leaves an
# IPC object behind.  Ends with "N passed, N failed[, N skipped]".
#   B=build sh tests/run.sh [NAME...]      (make test sets B)
#   TEST_TIMEOUT=seconds (default 120)
B=${B:-build}
T=${TEST_TIMEOUT:-120}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
logs=$B/test-logs
mkdir -p "$logs"
pass=0 fail=0 skip=0 failed=""

# POSIX message queues are visible only through an mqueue mount.  When
# /dev/mqueue is not mounted and we are root, look through a private mount
# namespace; otherwise say that this check is off.
mq_list() {
	if grep -q ' /dev/mqueue mqueue ' /proc/mounts 2>/dev/null; then
		ls -a /dev/mqueue
	elif [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
		d=$(mktemp -d) && unshare -m sh -c "mount -t mqueue none $d && ls -a $d" 2>/dev/null
		rmdir "$d" 2>/dev/null
	fi
}
if [ -z "$(mq_list)" ]; then
	echo "note: POSIX queues cannot be listed here (no /dev/mqueue, not root): their leak check is off"
fi

sysv_all() { for k in shm msg sem; do awk -v k=$k '$1 == "0" && $2 ~ /^[0-9]+$/ {print k" id="$2" key=0"}' /proc/sysvipc/$k; done | sort; }

# Objects named after the tag (or in the key range, or in the test's dir).
leftovers() {
	tag=$1 key=$2 dir=$3
	ls /dev/shm 2>/dev/null | grep -F "$tag" | sed 's|^|/dev/shm/|'
	mq_list | grep -F "$tag" | sed 's|^|mqueue /|'
	for k in shm msg sem; do
		awk -v lo=$((key)) -v k=$k '$1 ~ /^-?[0-9]+$/ && $1 >= lo && $1 < lo + 256 {print "sysv " k " key=" $1 " id=" $2}' /proc/sysvipc/$k
	done
	grep -F "@$tag" /proc/net/unix 2>/dev/null | awk '{print "abstract socket " $NF}'
	[ -d "$dir" ] && find "$dir" \( -type p -o -type s \) 2>/dev/null | sed 's|^|object |'
}

run_one() {
	name=$1 path=$2
	rnd=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	tag="ipckt$$x$rnd"
	key=$(printf '0x7e%04x00' "$rnd")
	dir=$(mktemp -d "${TMPDIR:-/tmp}/$tag.XXXXXX")
	case $path in
	*.sh) cmd="sh $path" ;;
	*) cmd=$path ;;
	esac
	IPCK_TEST_TAG=$tag IPCK_TEST_DIR=$dir IPCK_TEST_KEY=$key IPCK_BIN=$top/$B/ipckit \
		IPCK_BUILD=$top/$B IPCK_TOP=$top \
		timeout -k 5 "$T" $cmd >"$logs/$name.log" 2>&1
	rc=$?
	left=$(leftovers "$tag" "$key" "$dir")
	rm -rf "$dir"
	if [ -n "$left" ]; then
		printf 'FAIL %-28s left objects behind:\n%s\n' "$name" "$left"
		ipcrm_left "$left"
		fail=$((fail + 1)); failed="$failed $name"; return
	fi
	case $rc in
	0) printf 'PASS %s\n' "$name"; pass=$((pass + 1)) ;;
	77) printf 'SKIP %-28s %s\n' "$name" "$(grep -m1 '^SKIP' "$logs/$name.log")"; skip=$((skip + 1)) ;;
	124|137) printf 'FAIL %-28s timed out after %ss\n' "$name" "$T"; tail -n 20 "$logs/$name.log"
	   fail=$((fail + 1)); failed="$failed $name" ;;
	*) printf 'FAIL %-28s exit %s\n' "$name" "$rc"; tail -n 30 "$logs/$name.log"
	   fail=$((fail + 1)); failed="$failed $name" ;;
	esac
}

# Remove what a failed test left, so later tests and the machine stay clean.
ipcrm_left() {
	echo "$1" | while read -r a b c d; do
		case "$a $b" in
		"sysv shm") ipcrm -m "${d#id=}" ;; "sysv msg") ipcrm -q "${d#id=}" ;;
		"sysv sem") ipcrm -s "${d#id=}" ;;
		esac
		case $a in /dev/shm/*) rm -f "$a" ;; esac
	done 2>/dev/null
}

before=$(sysv_all)
list=""
for f in $B/tests/t_* tests/t_*.sh; do
	[ -e "$f" ] || continue
	n=$(basename "$f"); n=${n%.sh}
	if [ $# -gt 0 ]; then
		want=0; for a; do [ "$a" = "$n" ] && want=1; done
		[ $want = 1 ] || continue
	fi
	run_one "$n" "$f"
done
# Private (key 0) objects cannot be traced to a test: they are compared
# before and after the whole run, which only means something when nothing
# else on the machine makes them meanwhile.  CI sets IPCK_STRICT_LEAKS=1.
after=$(sysv_all)
new=$(printf '%s\n' "$after" | grep -vxF "$before" | grep -v '^$')
if [ -n "$new" ] && [ "${IPCK_STRICT_LEAKS:-0}" = 1 ]; then
	printf 'FAIL %-28s private (key 0) System V objects made during the run survive:\n%s\n' "sysv-leak-check" "$new"
	fail=$((fail + 1)); failed="$failed sysv-leak-check"
fi
[ -n "$failed" ] && echo "failed:$failed"
if [ $skip -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ $fail -eq 0 ]
