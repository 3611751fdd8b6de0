#!/bin/sh
# t_demo.sh - `ipckit demo`: the list; a pair run with both processes'
# lines labelled, the client started only once the server waits, not at
# all when the server failed; programs
# found next to the binary, through IPCKIT_EXAMPLES and in an installed
# tree (bin/ + libexec/ipckit/examples/); bad names and a missing directory
# refused; SIGTERM passed on so the server removes its object.
I=${IPCK_BIN:?run through tests/run.sh} E=$IPCK_BUILD/examples
D=${IPCK_TEST_DIR:?} TAG=${IPCK_TEST_TAG:?} KEY=${IPCK_TEST_KEY:?}
failures=0
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
key() { printf '0x%x' $((KEY + $1)); }
has() { grep -qxF -- "$2" "$1" || { bad "no line '$2' in:"; sed 's/^/    | /' "$1"; }; }

"$I" demo >"$D/list" 2>&1 || bad "ipckit demo: exit $?"
for n in sm shm semdemo msg bounded_buffer pipe fifo pmsg unix mmap signal; do
	grep -q "^$n " "$D/list" || bad "the list has no demo $n"
done
grep -q "^programs in $E;" "$D/list" || bad "the list does not name $E"

k=$(key 1)
timeout 30 "$I" demo --arg "$k" shm >"$D/shm" 2>&1 || { bad "demo shm: exit $?"; cat "$D/shm"; }
has "$D/shm" "[server] step: semget($k, 2, IPC_CREAT|IPC_EXCL|0600)"
has "$D/shm" '[client] client: read "abcdefghijklmnopqrstuvwxyz"'
has "$D/shm" '[server] server: the client replied "ABCDEFGHIJKLMNOPQRSTUVWXYZ"'
has "$D/shm" '[server] exited 0'
has "$D/shm" '[client] exited 0'
# The client starts after the server is in its wait.
first_client=$(grep -n '^\[client\]' "$D/shm" | head -1 | cut -d: -f1)
server_waits=$(grep -n '^\[server\] step: semop(.*{done, -1}) waits$' "$D/shm" | cut -d: -f1)
[ -n "$first_client" ] && [ -n "$server_waits" ] && [ "$server_waits" -lt "$first_client" ] ||
	bad "the client started before the server waited (lines $server_waits, $first_client)"

# By program name, with programs from IPCKIT_EXAMPLES, a path argument.
IPCKIT_EXAMPLES=$E timeout 30 "$I" demo --arg "$D/fifo" fifo_writer >"$D/fifo.out" 2>&1 ||
	{ bad "demo fifo_writer: exit $?"; cat "$D/fifo.out"; }
has "$D/fifo.out" '[reader] reader: end of file after 14 bytes'
has "$D/fifo.out" '[writer] writer: 3 lines written'
timeout 30 "$I" demo --arg "/$TAG-demo" pmsg >"$D/pmsg" 2>&1 || { bad "demo pmsg: exit $?"; cat "$D/pmsg"; }
has "$D/pmsg" '[receiver] receiver: priority 0: "end"'

# An installed tree: PREFIX/bin/ipckit finds PREFIX/libexec/ipckit/examples.
mkdir -p "$D/inst/bin" "$D/inst/libexec/ipckit"
cp "$I" "$D/inst/bin/ipckit" && ln -s "$E" "$D/inst/libexec/ipckit/examples"
timeout 30 "$D/inst/bin/ipckit" demo pipe >"$D/pipe" 2>&1 || { bad "installed demo pipe: exit $?"; cat "$D/pipe"; }
has "$D/pipe" '[pipe_fork] parent: the child read everything and exited 0'

# A server that fails at once: its message whole (written in three pieces),
# the client never started, exit 1.
"$I" demo --arg nokey msg >"$D/nokey" 2>&1 && bad "demo --arg nokey msg: exit 0"
has "$D/nokey" "[receiver] msgrecv: 'nokey' is neither a positive key nor a path"
grep -q '^\[sender\]' "$D/nokey" && bad "the sender was started after the receiver failed"

"$I" demo nosuch >/dev/null 2>&1; [ $? = 2 ] || bad "demo nosuch: not exit 2"
IPCKIT_EXAMPLES=$D/none "$I" demo pipe >"$D/none" 2>&1; rc=$?
[ $rc = 1 ] || bad "demo with a missing IPCKIT_EXAMPLES: exit $rc, not 1"
grep -q 'example programs not found' "$D/none" || bad "no 'not found' message"

# SIGTERM while the receiver waits: passed on, the queue removed, exit 1.
# The sender here sends nothing, so the receiver is surely still waiting.
# (Signalled directly, not through timeout(1): demo's own limit bounds it.)
mkdir "$D/mute" && ln -s "$E/msgrecv" "$D/mute/msgrecv"
printf '#!/bin/sh\nexit 0\n' >"$D/mute/msgsend" && chmod +x "$D/mute/msgsend"
k=$(key 2)
IPCKIT_EXAMPLES=$D/mute "$I" demo --arg "$k" msg >"$D/term" 2>&1 &
pid=$!
i=0; while ! grep -q 'step: msgrcv' "$D/term" && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
kill -TERM $pid
wait $pid; rc=$?
[ $rc = 1 ] || bad "demo msg after SIGTERM: exit $rc, not 1"
has "$D/term" '[receiver] msgrecv: msgrcv: interrupted (Terminated)'
has "$D/term" '[receiver] exited 1'
awk -v k=$((k)) '$1 == k {f=1} END {exit !f}' /proc/sysvipc/msg && bad "the queue survived SIGTERM"

echo "$failures failures"
[ $failures = 0 ]
