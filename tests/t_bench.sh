#!/bin/sh
# t_bench.sh - `ipckit bench`: a tiny run over pipe and socketpair gives one
# JSON row per scheme and size with every field, positive figures; --csv has
# the same columns; --svg writes a whole chart; a size no scheme carries is
# reported and replaced by the largest it does; a stop by signal removes
# everything; bad options exit 2.  No timing is asserted.
B=$IPCK_BIN
D=$IPCK_TEST_DIR
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# The engine makes its private directory under TMPDIR: the runner checks it.
export TMPDIR=$D
quick="--quick --rounds 200 --reps 2 --schemes pipe,socketpair --sizes 64,1K"

# ---- JSON: 4 rows, every field, positive figures
$B bench $quick --json >"$D/out.json" 2>"$D/err" || fail "json run exited $?: $(cat "$D/err")"
[ "$(head -n1 "$D/out.json")" = "[" ] && [ "$(tail -n1 "$D/out.json")" = "]" ] ||
	fail "json is not one array"
rows=$(grep -c '^{' "$D/out.json")
[ "$rows" = 4 ] || fail "json: $rows rows, want 4"
awk '
/^\{/ {
	n = split("rtt_p50_ns rtt_p99_ns rtt_p999_ns msgs_per_s mb_per_s cpu_ns_per_msg", k, " ")
	for (i = 1; i <= n; i++) {
		if (!match($0, "\"" k[i] "\":[0-9.e+-]+")) { print "missing or null " k[i] ": " $0; bad = 1; continue }
		v = substr($0, RSTART + length(k[i]) + 3, RLENGTH - length(k[i]) - 3) + 0
		if (v <= 0) { print "not positive " k[i] "=" v; bad = 1 }
	}
	if (!match($0, /"scheme":"(pipe|socketpair)","size":(64|1024),/)) { print "scheme/size: " $0; bad = 1 }
	if (!match($0, /"wait":"kernel","pinned":false,"noisy":(true|false)\},?$/)) { print "wait/pinned: " $0; bad = 1 }
}
END { exit bad }' "$D/out.json" || fail "json fields"
for s in pipe socketpair; do
	for z in 64 1024; do
		grep -q "^{\"scheme\":\"$s\",\"size\":$z," "$D/out.json" || fail "json: no row $s $z"
	done
done
if command -v jq >/dev/null; then
	jq -e 'length == 4 and all(.[]; .rtt_p50_ns <= .rtt_p99_ns and .rtt_p99_ns <= .rtt_p999_ns)' \
		"$D/out.json" >/dev/null || fail "jq: not 4 rows with p50 <= p99 <= p99.9"
fi

# ---- CSV: the same columns
$B bench $quick --csv >"$D/out.csv" 2>"$D/err" || fail "csv run exited $?"
[ "$(head -n1 "$D/out.csv")" = "scheme,size,rtt_p50_ns,rtt_p99_ns,rtt_p999_ns,msgs_per_s,mb_per_s,cpu_ns_per_msg,wait,pinned,noisy" ] ||
	fail "csv header: $(head -n1 "$D/out.csv")"
awk -F, 'NR > 1 { if (NF != 11 || $3 <= 0 || $6 <= 0 || $2 !~ /^(64|1024)$/) { print "csv row: " $0; bad = 1 } n++ }
	END { if (n != 4) { print "csv rows: " n; bad = 1 } exit bad }' "$D/out.csv" || fail "csv rows"

# ---- table and SVG, pinned to the first CPU we may use
cpu=$(awk '/^Cpus_allowed_list/ {split($2, a, "[-,]"); print a[1]}' /proc/self/status)
$B bench $quick --pin "$cpu,$cpu" --svg "$D/chart.svg" >"$D/table" 2>"$D/err" || fail "svg run exited $?"
grep -q '^64 B messages' "$D/table" && grep -q '^  pipe ' "$D/table" && grep -q '^  socketpair ' "$D/table" ||
	fail "table: $(cat "$D/table")"
grep -q ', pinned$' "$D/table" || fail "table does not say pinned"
head -c 5 "$D/chart.svg" | grep -q '<?xml' || fail "svg: no xml declaration"
tail -n1 "$D/chart.svg" | grep -q '^</svg>$' || fail "svg: not closed"
for w in '<svg xmlns="http://www.w3.org/2000/svg"' '>pipe</text>' '>socketpair</text>' '>64 B</text>' \
	'>1 KiB</text>' 'cores, Linux'; do
	grep -qF "$w" "$D/chart.svg" || fail "svg lacks $w"
done
[ "$(grep -c '<text' "$D/chart.svg")" = "$(grep -c '</text>' "$D/chart.svg")" ] || fail "svg: unbalanced text"
if command -v xmllint >/dev/null; then
	xmllint --noout "$D/chart.svg" || fail "svg is not well-formed XML"
fi

# ---- --place one: every row placed (pinned), and the header says so
$B bench $quick --place one --json >"$D/place.json" 2>"$D/err" || fail "--place one exited $?"
[ "$(grep -c '"pinned":true' "$D/place.json")" = 4 ] || fail "--place one: not 4 placed rows"

# ---- a size larger than socketpair carries: said, and its largest measured instead
$B bench --quick --rounds 50 --reps 1 --schemes socketpair --sizes 1M --json >"$D/big.json" 2>"$D/err" ||
	fail "big run exited $?"
grep -q 'socketpair (kernel): 1 MiB not measured: larger than its largest message' "$D/err" ||
	fail "no note for 1 MiB: $(cat "$D/err")"
grep -q '^{"scheme":"socketpair","size":[0-9]*,' "$D/big.json" || fail "no row at the largest size"

# ---- a stop by signal: exit 1, nothing left in our TMPDIR
$B bench --schemes pipe,raw,ref >/dev/null 2>"$D/err" &
pid=$!
sleep 1
kill -INT $pid
wait $pid
rc=$?
[ $rc = 1 ] || fail "stopped run exited $rc, want 1"
grep -q 'stopped by signal' "$D/err" || fail "no stop message: $(cat "$D/err")"
left=$(ls -A "$D" | grep '^ipckb')
[ -z "$left" ] || fail "left behind: $left"

# ---- bad usage: exit 2
for args in "--sizes 0" "--sizes 64,x" "--sizes 65M" "--schemes nope" "--schemes pipe,,x" "--pin 0" \
	"--pin a,b" "--place" "--place three" "--rounds 0" "--reps 0" "--reps 65" "--bogus" "--svg" "--schemes"; do
	# shellcheck disable=SC2086
	$B bench $args >/dev/null 2>&1
	rc=$?
	[ $rc = 2 ] || fail "'bench $args' exited $rc, want 2"
done
$B bench --list >"$D/list" || fail "--list exited $?"
for t in pipe socketpair raw-pipe bare-ring cacheline memcpy; do
	grep -qx "$t" "$D/list" || fail "--list lacks $t"
done
$B bench --help | grep -q '^usage: ipckit bench' || fail "--help"

[ $fails = 0 ] && echo "t_bench: all passed"
[ $fails = 0 ]
