#!/bin/sh
# End-to-end smoke test: kd against kdsim on a Unix socket, the way kd
# talks to a VM's serial port. Runs a scripted session (connect,
# vertarget, r, CTRL+R resync, r, db, g, CTRL+C, r, q), checks the
# transcript and the simulator's event log, and always stops kdsim.
set -eu

cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
GO=${GO:-go}

mkdir -p "$BIN"
"$GO" build -o "$BIN/" ./cmd/kd ./cmd/kdsim

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kd-smoke.XXXXXX")
SIM_PID=
cleanup() {
	if [ -n "$SIM_PID" ]; then
		kill "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

SOCK=$TMP/kd.sock
EVENTS=$TMP/ev.jsonl
"$BIN/kdsim" --listen "unix:$SOCK" --events "$EVENTS" >"$TMP/kdsim.log" 2>&1 &
SIM_PID=$!

# Wait (at most 10 s) for the socket, like a VM creating its pipe.
i=0
while [ ! -S "$SOCK" ]; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$SIM_PID" 2>/dev/null; then
		echo "smoke: kdsim did not create $SOCK" >&2
		cat "$TMP/kdsim.log" >&2
		exit 1
	fi
	sleep 0.1
done

TIMEOUT=
if command -v timeout >/dev/null 2>&1; then
	TIMEOUT="timeout 60"
fi

status=0
printf 'vertarget\nr\n\022\nr\ndb @rsp\ng\n\003\nr\nq\n' |
	$TIMEOUT "$BIN/kd" -b -k "com:pipe,port=$SOCK" >"$TMP/transcript.txt" 2>&1 || status=$?

fail=0
check() { # check DESCRIPTION GREP-ARGS...
	what=$1
	shift
	if ! grep "$@" "$TMP/transcript.txt" >/dev/null; then
		echo "smoke: FAIL: transcript lacks $what" >&2
		fail=1
	fi
}
count() { # count DESCRIPTION PATTERN MIN
	n=$(grep -c -- "$2" "$TMP/transcript.txt" || true)
	if [ "$n" -lt "$3" ]; then
		echo "smoke: FAIL: transcript has $n × $1, want at least $3" >&2
		fail=1
	fi
}

if [ "$status" -ne 0 ]; then
	echo "smoke: FAIL: kd exited with status $status, want 0" >&2
	fail=1
fi
check "the Opened line" -F "Opened $SOCK"
check "Waiting to reconnect..." -Fx "Waiting to reconnect..."
check "the Connected line" -E '^Connected to Windows 10 19041 x64 target at \(.*\), ptr64 TRUE$'
check "the established line" -Fx "Kernel Debugger connection established.  (Initial Breakpoint requested)"
check "the vertarget block" -E '^Windows 10 Kernel Version 19041 MP \(2 procs\) Free x64$'
check "the kernel base line" -E '^Kernel base = 0x[0-9a-f]{8}`[0-9a-f]{8} PsLoadedModuleList = 0x'
count "register displays" '^rax=[0-9a-f]\{16\} rbx=' 2
check "the resync" -E '^Resync complete \([0-9]+ ms, [0-9]+ RESET packets\)\.$'
check "the db line" -E '^[0-9a-f]{8}`[0-9a-f]{8}  ([0-9a-f?]{2}[ -]){15}[0-9a-f?]{2}  '
check "the break-in box" -F "You are seeing this message because you pressed either"
check "the stop location" -E '^[0-9a-f]{8}`[0-9a-f]{8} cc +int +3$'
check "the stop's symbol (from nt's PE export directory)" -Fx "nt!DbgBreakPointWithStatus:"
check "the quit" -Fx "quit:"

if ! grep -F '"kind":"reset"' "$EVENTS" >/dev/null; then
	echo "smoke: FAIL: kdsim's events show no RESET exchange" >&2
	fail=1
fi
if ! grep -F '"kind":"breakin"' "$EVENTS" >/dev/null; then
	echo "smoke: FAIL: kdsim's events show no break-in" >&2
	fail=1
fi

if [ "$fail" -ne 0 ]; then
	echo "---- kd transcript ----" >&2
	cat "$TMP/transcript.txt" >&2
	echo "---- kdsim events (last 30) ----" >&2
	tail -n 30 "$EVENTS" >&2 || true
	echo "---- kdsim log ----" >&2
	cat "$TMP/kdsim.log" >&2
	exit 1
fi

resets=$(grep -c -F '"kind":"reset"' "$EVENTS")
echo "smoke: ok: kd connected, resynchronized and broke in ($resets RESET exchanges in kdsim's events)"

# KDNET leg: the same session over loopback UDP with KDNET's encryption,
# plus a reboot that makes kdsim offer with a new nonce and kd re-key.
kill "$SIM_PID" 2>/dev/null || true
wait "$SIM_PID" 2>/dev/null || true
SIM_PID=
PORT=$((50000 + $$ % 9000))
KEY=smoke.kd.net.key1
"$BIN/kdsim" --kdnet "127.0.0.1:$PORT" --key "$KEY" --offer-every 300ms --events "$EVENTS.net" >"$TMP/kdsim-net.log" 2>&1 &
SIM_PID=$!
status=0
printf 'vertarget\nr\n\022\nr\ndb @rsp\ng\n\003\nr\n.reboot\n\003\nr\nq\n' |
	$TIMEOUT "$BIN/kd" -b -k "net:port=$PORT,key=$KEY" >"$TMP/transcript.txt" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
	echo "smoke: FAIL: kd over KDNET exited with status $status, want 0" >&2
	fail=1
fi
check "Using NET for debugging" -Fx "Using NET for debugging"
check "Opened WinSock 2.0" -Fx "Opened WinSock 2.0"
count "KDNET Connected lines (boot and reboot)" "^Connected to target 127.0.0.1 on port $PORT on local IP 127.0.0.1.\$" 2
count "register displays" '^rax=[0-9a-f]\{16\} rbx=' 4
check "the resync" -E '^Resync complete \([0-9]+ ms, [0-9]+ RESET packets\)\.$'
check "the db line" -E '^[0-9a-f]{8}`[0-9a-f]{8}  ([0-9a-f?]{2}[ -]){15}[0-9a-f?]{2}  '
check "the break-in box" -F "You are seeing this message because you pressed either"
check "the quit" -Fx "quit:"
if grep -F "$KEY" "$TMP/transcript.txt" "$TMP/kdsim-net.log" >/dev/null; then
	echo "smoke: FAIL: the KDNET key appears in kd's or kdsim's output" >&2
	fail=1
fi
if [ "$fail" -ne 0 ]; then
	echo "---- kd transcript (KDNET) ----" >&2
	cat "$TMP/transcript.txt" >&2
	echo "---- kdsim log (KDNET) ----" >&2
	cat "$TMP/kdsim-net.log" >&2
	exit 1
fi
echo "smoke: ok: KDNET session over loopback UDP with a reboot and a re-key"
