#!/bin/sh
# t_examples.sh - every program of examples/ runs as its header says: the
# server (reader, receiver) first, then the client; both exit 0 by
# themselves within a timeout, print the lines the exchange must produce,
# and leave nothing behind (the runner checks the keys, the tag and the
# directory; POSIX queues are checked by running the pair twice on one name,
# since a leftover queue would make the second run fail with EEXIST).
# The same checks run over examples/with-ipckit/ for each program there.
# Also: objects are made 0600, a second server on a busy key fails with
# EEXIST without removing the first one's object, and a server stopped by
# SIGTERM removes its object.
E=${IPCK_BUILD:?run through tests/run.sh}/examples
D=${IPCK_TEST_DIR:?} TAG=${IPCK_TEST_TAG:?} KEY=${IPCK_TEST_KEY:?}
T=20   # seconds for one program; the pairs finish in well under one
failures=0

bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
key() { printf '0x%x' $((KEY + $1)); }

# expect FILE LINE...: each LINE is a whole line of FILE.
expect() {
	f=$1; shift
	for l; do
		grep -qxF -- "$l" "$f" || { bad "$(basename "$f"): no line '$l'"; sed 's/^/    | /' "$f"; }
	done
}

# expect_seq FILE PREFIX LINE...: the lines starting with PREFIX are exactly LINE... in order.
expect_seq() {
	f=$1 p=$2; shift 2
	want=$(printf '%s\n' "$@")
	got=$(grep -F -- "$p" "$f")
	[ "$got" = "$want" ] || { bad "$(basename "$f"): lines '$p' are"; echo "$got"; echo "  expected"; echo "$want"; }
}

# pair DIR SERVER CLIENT ARG: run both with ARG; outputs in $D/SERVER.out, $D/CLIENT.out.
pair() {
	dir=$1 srv=$2 cli=$3 arg=$4
	so=$D/$srv.out co=$D/$cli.out
	timeout $T "$E/$dir$srv" "$arg" >"$so" 2>&1 &
	spid=$!
	timeout $T "$E/$dir$cli" "$arg" >"$co" 2>&1
	crc=$?
	wait $spid
	src=$?
	[ $src = 0 ] || { bad "$dir$srv $arg: exit $src"; sed 's/^/    | /' "$so"; }
	[ $crc = 0 ] || { bad "$dir$cli $arg: exit $crc"; sed 's/^/    | /' "$co"; }
}

# single DIR PROG ARG: one program that forks its own peer; output in $D/PROG.out.
single() {
	o=$D/$2.out
	timeout $T "$E/$1$2" ${3:+"$3"} >"$o" 2>&1
	rc=$?
	[ $rc = 0 ] || { bad "$1$2 ${3:-}: exit $rc"; sed 's/^/    | /' "$o"; }
}

check_sm() {
	pair "$1" sm_server sm_client "$(key 1)"
	expect "$D/sm_server.out" 'server: the client has read it'
	expect "$D/sm_client.out" 'client: read "abcdefghijklmnopqrstuvwxyz"'
}

check_shm() {
	pair "$1" shmserver shmclient "$(key 2)"
	expect "$D/shmclient.out" 'client: read "abcdefghijklmnopqrstuvwxyz"'
	expect "$D/shmserver.out" 'server: the client replied "ABCDEFGHIJKLMNOPQRSTUVWXYZ"'
}

# The raw receiver picks the urgent type first; the library's keeps the order.
check_msg() {
	pair "$1" msgrecv msgsend "$(key 3)"
	if [ -z "$1" ]; then
		expect_seq "$D/msgrecv.out" 'receiver:' \
			'receiver: type 2, 22 bytes: "urgent: read me first"' \
			'receiver: type 1, 6 bytes: "hello"' \
			'receiver: type 1, 6 bytes: "world"' \
			'receiver: type 3, 4 bytes: "end"'
	else
		expect_seq "$D/msgrecv.out" 'receiver:' \
			'receiver: 5 bytes: "hello"' \
			'receiver: 21 bytes: "urgent: read me first"' \
			'receiver: 5 bytes: "world"' \
			'receiver: the sender is done after 3 messages'
	fi
}

check_fifo() {
	pair "$1" fifo_reader fifo_writer "$D/fifo"
	expect "$D/fifo_reader.out" 'reader: end of file after 14 bytes'
	expect "$D/fifo_writer.out" 'writer: 3 lines written'
}

# Twice on one name: a queue left by the first run fails the second.  The
# raw receiver takes the highest priority first; the library's keeps the order.
check_pmsg() {
	for run in 1 2; do
		pair "$1" pmsg_recv pmsg_send "/$TAG-pmsg"
		if [ -n "$1" ]; then
			expect_seq "$D/pmsg_recv.out" 'receiver: "' \
				'receiver: "low"' 'receiver: "high"' 'receiver: "middle"'
			expect "$D/pmsg_recv.out" 'receiver: notified: a message is waiting' \
				'receiver: the sender is done'
			continue
		fi
		grep -q '^receiver: notified' "$D/pmsg_recv.out" || continue   # raced mq_notify: order not fixed
		expect_seq "$D/pmsg_recv.out" 'receiver: priority' \
			'receiver: priority 9: "high"' 'receiver: priority 5: "middle"' \
			'receiver: priority 1: "low"' 'receiver: priority 0: "end"'
	done
}

check_unix() {
	pair "$1" unix_server unix_client "$D/sock"
	expect "$D/unix_server.out" 'server: read 21 bytes "hello from the client"'
	expect "$D/unix_client.out" 'client: read 21 bytes "HELLO FROM THE CLIENT"'
}

# solo DIR PROG ARG LINE...: a program that forks its own peer, if DIR has it.
solo() {
	dir=$1 p=$2 arg=$3; shift 3
	[ -x "$E/$dir$p" ] || return 0
	single "$dir" "$p" "$arg"
	expect "$D/$p.out" "$@"
}

check_singles() {
	solo "$1" semdemo "$(key 4)" 'parent: got the lock the child died holding (SEM_UNDO)' \
		'parent: counter is 10 = 2 x 5, no update lost'
	solo "$1" bounded_buffer "$(key 5)" 'parent: all 600 items consumed exactly once'
	solo "$1" pipe_fork "" 'child: end of file after 14 bytes' \
		'parent: the child read everything and exited 0'
	solo "$1" sig_demo "$D/sig" 'parent: 3 values in order from the child'
	solo "$1" mmap_share "$D/mapped" 'parent: the file and the mapping agree'
}

# Runs CHECK for DIR if DIR holds every program it needs.
variant() {
	dir=$1 check=$2; shift 2
	for p; do [ -x "$E/$dir$p" ] || return 0; done
	$check "$dir"
}

# mode_of KIND KEY: the octal mode of a System V object, from /proc/sysvipc.
mode_of() { awk -v k=$(($2)) '$1 == k {print $3}' /proc/sysvipc/$1; }

# A server's objects are 0600, and a second server on the same key or path
# fails with EEXIST and leaves the first one's object alone.
check_private() {
	k=$(key 9)
	timeout $T "$E/shmserver" "$k" >"$D/first.out" 2>&1 &
	spid=$!
	i=0; while [ -z "$(mode_of shm "$k")" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
	[ "$(mode_of shm "$k")" = 600 ] || bad "shmserver: segment mode '$(mode_of shm "$k")', not 600"
	[ "$(mode_of sem "$k")" = 600 ] || bad "shmserver: semaphore mode '$(mode_of sem "$k")', not 600"
	timeout $T "$E/shmserver" "$k" >"$D/second.out" 2>&1 && bad "a second shmserver on $k succeeded"
	grep -q '^shmserver: semget: EEXIST' "$D/second.out" || { bad "second shmserver: no EEXIST"; cat "$D/second.out"; }
	timeout $T "$E/shmclient" "$k" >/dev/null 2>&1 || bad "the first shmserver's objects were damaged"
	wait $spid || bad "the first shmserver failed"

	timeout $T "$E/fifo_reader" "$D/f2" >/dev/null 2>&1 &
	spid=$!
	i=0; while [ ! -p "$D/f2" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
	[ "$(stat -c %a "$D/f2")" = 600 ] || bad "fifo_reader: mode $(stat -c %a "$D/f2"), not 600"
	timeout $T "$E/fifo_writer" "$D/f2" >/dev/null 2>&1 || bad "fifo_writer failed"
	wait $spid || bad "fifo_reader failed"

	timeout $T "$E/unix_server" "$D/s2" >/dev/null 2>&1 &
	spid=$!
	i=0; while [ ! -S "$D/s2" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
	[ "$(stat -c %a "$D/s2")" = 600 ] || bad "unix_server: mode $(stat -c %a "$D/s2"), not 600"
	timeout $T "$E/unix_client" "$D/s2" >/dev/null 2>&1 || bad "unix_client failed"
	wait $spid || bad "unix_server failed"

	# SIGTERM (or Ctrl-C) while waiting: exit 1, say so, remove the queue.
	# (Signalled directly, not through timeout(1), which under load dies
	# of a SIGTERM it should pass on; msgrecv's own deadline bounds it.)
	k=$(key 10)
	"$E/msgrecv" "$k" >"$D/term.out" 2>&1 &
	spid=$!
	i=0; while ! grep -q '^step: msgrcv' "$D/term.out" 2>/dev/null && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
	kill -TERM $spid
	wait $spid
	rc=$?
	[ $rc = 1 ] || bad "msgrecv: exit $rc after SIGTERM, not 1"
	grep -q '^msgrecv: msgrcv: interrupted (Terminated)$' "$D/term.out" || { bad "msgrecv: no 'interrupted'"; cat "$D/term.out"; }
	[ -z "$(mode_of msg "$k")" ] || bad "msgrecv left its queue after SIGTERM"
}

# The libipckit servers wait in slices, so SIGTERM ends the wait too and
# closing the listener removes the socket file.
check_lib_stop() {
	[ -x "$E/with-ipckit/unix_server" ] || return 0
	"$E/with-ipckit/unix_server" "$D/s3" >"$D/lterm.out" 2>&1 &
	spid=$!
	i=0; while [ ! -S "$D/s3" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
	[ "$(stat -c %a "$D/s3")" = 600 ] || bad "with-ipckit unix_server: mode $(stat -c %a "$D/s3"), not 600"
	kill -TERM $spid
	wait $spid && bad "with-ipckit unix_server exited 0 after SIGTERM"
	grep -q '^unix_server: ipck_accept: EINTR' "$D/lterm.out" || { bad "no EINTR line"; cat "$D/lterm.out"; }
	[ -e "$D/s3" ] && bad "with-ipckit unix_server left $D/s3"
}

for dir in "" with-ipckit/; do
	variant "$dir" check_sm sm_server sm_client
	variant "$dir" check_shm shmserver shmclient
	variant "$dir" check_msg msgrecv msgsend
	variant "$dir" check_fifo fifo_reader fifo_writer
	variant "$dir" check_pmsg pmsg_recv pmsg_send
	variant "$dir" check_unix unix_server unix_client
	check_singles "$dir"
done
check_private
check_lib_stop
echo "$failures failures"
[ $failures = 0 ]
