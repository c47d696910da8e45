#!/usr/bin/env bash
# make vm-smoke: kd against kdsim inside a real QEMU virtual machine.
#
# The guest is Debian's kernel (scripts/vm/kernel.sh) and an initramfs
# that kdsim-init writes: kdsim-init as /init runs kdsim on the guest's
# COM1 (/dev/ttyS0, an emulated 16550) and reboots the guest for real when
# kd sends .reboot. COM2 carries the guest console to a log file. Three
# legs, each with its own VM:
#   1. COM1 as -serial unix:PATH,server=on,wait=off and
#      kd -k com:pipe,port=PATH,resets=0,reconnect: the scripted session of
#      make smoke (vertarget, r, CTRL+R, db, g, DbgPrint, CTRL+C), a large
#      read for the payload rate, then .reboot through a real guest reboot;
#   2. COM1 as -serial tcp:127.0.0.1:PORT,server=on,wait=off and
#      kd -k com:ipport=PORT,port=127.0.0.1: the session, then QEMU is killed
#      (pulling the plug): kd must say the link is lost and exit 3;
#   3. kd first, the VM ten seconds later (reconnect waits for the socket);
#      then QEMU is killed and started again: kd reconnects and resumes.
# It prints the VM boot time, the time to the first prompt and the payload
# rate through the UART at 115200 baud.
#
#   KD_VM_ACCEL=tcg|kvm   force an accelerator (default: KVM when /dev/kvm
#                         opens and boots a guest, else TCG)
#   KD_VM_KERNEL=FILE     the guest kernel (see scripts/vm/kernel.sh)
#   KD_VM_KEEP=1          keep the work directory (logs, transcripts)
#   KD_VM_LEGS="1 3"      run only these legs (default all three)
#   KD_VM_SERIAL=1        run the legs one after another (default: side by side)
#   KD_VM_SETTLE=D        kdsim's --settle in the guest (default 300ms): QEMU
#                         holds what kd sends while the guest boots and
#                         delivers it when kdsim opens ttyS0; kdsim throws
#                         that backlog away. KD_VM_SETTLE=0 keeps it (kd may
#                         then fail with "cut off by a RESET twice").
# Fails, never skips, when QEMU cannot start or the guest does not boot.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
GO=${GO:-go}
VMDIR=$BIN/vm
T0=$(date +%s%3N)
BOOT_TIMEOUT=${KD_VM_BOOT_TIMEOUT:-300} # seconds, per boot (TCG: 5 s idle, over 180 s on a 2-core machine at load 30)
STEP_TIMEOUT=120 # seconds, per wait for kd's output
KVM_PROBE_TIMEOUT=30                   # seconds for a KVM boot before TCG takes over

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kd-vm-smoke.XXXXXX")
QPID= KDPID= LEG=
cleanup() {
	exec 3>&- 2>/dev/null || true
	for p in $QPID $KDPID; do
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ -n "${KD_VM_KEEP:-}" ]; then
		echo "vm-smoke: logs kept in $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

now() { date +%s%3N; }
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); } # ms -> s.mmm
say() { echo "vm-smoke: $*"; }

# fail prints the reason and the current leg's logs, and exits 1.
fail() {
	echo "vm-smoke: FAIL${LEG:+ (leg $LEG)}: $*" >&2
	if [ -n "$LEG" ]; then
		for f in "$TMP/$LEG.transcript" "$TMP/$LEG.console" "$TMP/$LEG.qemu"; do
			[ -f "$f" ] || continue
			echo "---- $(basename "$f") (last 40 lines) ----" >&2
			tail -n 40 "$f" | cut -c1-200 >&2
		done
	fi
	exit 1
}

# waitfor FILE PATTERN [COUNT [TIMEOUT]]: wait until FILE has COUNT lines
# matching the extended regexp PATTERN; fail after TIMEOUT seconds or when
# QEMU or kd, if they should be running, have died.
waitfor() {
	local file=$1 pat=$2 count=${3:-1} timeout=${4:-$STEP_TIMEOUT} n
	local deadline=$(($(now) + timeout * 1000))
	while :; do
		n=$(grep -c -E -- "$pat" "$file" 2>/dev/null || true)
		[ "${n:-0}" -ge "$count" ] && return 0
		[ "$(now)" -lt "$deadline" ] || fail "no '$pat' (×$count) in $(basename "$file") after ${timeout}s"
		sleep 0.1
	done
}

# ------------------------------------------------------------------ build
command -v qemu-system-x86_64 >/dev/null ||
	fail "qemu-system-x86_64 not found (hint: apt-get install qemu-system-x86)"
mkdir -p "$VMDIR"
"$GO" build -o "$BIN/" ./cmd/kd
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 "$GO" build -trimpath -ldflags='-s -w' -o "$VMDIR/" ./cmd/kdsim ./cmd/kdsim-init
"$VMDIR/kdsim-init" pack --kdsim "$VMDIR/kdsim" -o "$VMDIR/initramfs.cpio" >/dev/null
KERNEL=$(scripts/vm/kernel.sh) || fail "no guest kernel"
say "guest: $KERNEL + $VMDIR/initramfs.cpio ($(($(wc -c <"$VMDIR/initramfs.cpio") / 1024)) KiB)"

# ------------------------------------------------------------ accelerator
ACCEL=tcg
case ${KD_VM_ACCEL:-auto} in
tcg) say "accelerator: TCG (forced by KD_VM_ACCEL=tcg)" ;;
kvm)
	{ : <>/dev/kvm; } 2>/dev/null || fail "KD_VM_ACCEL=kvm but /dev/kvm does not open"
	ACCEL=kvm
	say "accelerator: KVM (forced by KD_VM_ACCEL=kvm)"
	;;
auto)
	if ! { : <>/dev/kvm; } 2>/dev/null; then
		say "accelerator: TCG (/dev/kvm does not open)"
	elif [ -d /sys/module/kvm_pvm ]; then
		say "accelerator: TCG (/dev/kvm is kvm-pvm, which runs only PVM guest kernels: Debian's kernel hangs at its first instruction)"
	else
		ACCEL=kvm
		say "accelerator: KVM (/dev/kvm opened; TCG if the first boot stalls)"
	fi
	;;
*) fail "KD_VM_ACCEL must be tcg or kvm, not '$KD_VM_ACCEL'" ;;
esac

# vm_start SERIAL: boot the guest with COM1 on SERIAL (a QEMU chardev
# spec) and COM2 appended to $LEG.console. Sets QPID and VM_T0.
vm_start() {
	local accel=$ACCEL
	[ "$ACCEL" = tcg ] && accel=tcg,tb-size=256
	VM_T0=$(now)
	qemu-system-x86_64 -name "kd-vm-smoke-$LEG" -accel "$accel" -m 256 -smp 1 \
		-nodefaults -no-user-config -display none -nic none \
		-kernel "$KERNEL" -initrd "$VMDIR/initramfs.cpio" \
		-append "console=ttyS1 quiet panic=-1 mitigations=off nokaslr tsc=reliable no_timer_check lpj=4000000 audit=0 apparmor=0 -- --print-every 1s --settle ${KD_VM_SETTLE:-300ms}" \
		-serial "$1" -chardev "file,id=con,path=$TMP/$LEG.console,append=on" -serial chardev:con \
		>>"$TMP/$LEG.qemu" 2>&1 3>&- &  # 3>&-: QEMU must not hold kd's stdin open
	QPID=$!
}

# vm_kill: pull the plug (SIGKILL: QEMU gets no chance to tidy up).
vm_kill() {
	kill -9 "$QPID" 2>/dev/null || true
	wait "$QPID" 2>/dev/null || true
	QPID=
}

# vm_ready N [TIMEOUT]: wait for the guest's Nth "kdsim: serial port" line;
# sets BOOT_MS (from the last vm_start). Returns 1 after TIMEOUT seconds
# (default BOOT_TIMEOUT); fails at once if QEMU exits.
vm_ready() {
	local n=$1 deadline=$(($(now) + ${2:-$BOOT_TIMEOUT} * 1000)) got
	while :; do
		got=$(grep -c '^kdsim: serial port /dev/ttyS0' "$TMP/$LEG.console" 2>/dev/null || true)
		[ "${got:-0}" -ge "$n" ] && break
		kill -0 "$QPID" 2>/dev/null || fail "QEMU exited (status $(wait "$QPID"; echo $?)): $(tail -n 3 "$TMP/$LEG.qemu" | tr '\n' ' ')"
		[ "$(now)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
	BOOT_MS=$(($(now) - VM_T0))
}

# kd_start ARGS...: start kd with its stdin on a FIFO (fd 3 writes to it)
# and its output in $LEG.transcript.
kd_start() {
	mkfifo "$TMP/$LEG.in"
	"$BIN/kd" --wait-timeout 600s --trace="$TMP/$LEG.trace" "$@" <"$TMP/$LEG.in" >"$TMP/$LEG.transcript" 2>&1 &
	KDPID=$!
	exec 3>"$TMP/$LEG.in"
}
send() { printf '%s\n' "$@" >&3; }

# kd_end WANT: close kd's input and wait (30 s) for its exit status WANT.
kd_end() {
	exec 3>&-
	local deadline=$(($(now) + 30000)) rc
	while kill -0 "$KDPID" 2>/dev/null; do
		if [ "$(now)" -ge "$deadline" ]; then
			kill -QUIT "$KDPID" 2>/dev/null || true # Go prints every goroutine's stack
			sleep 1
			fail "kd did not exit in 30 s (its goroutines are at the end of the transcript)"
		fi
		sleep 0.1
	done
	rc=0
	wait "$KDPID" || rc=$?
	KDPID=
	[ "$rc" -eq "$1" ] || fail "kd exited with status $rc, want $1"
}

# seen PATTERN: how many transcript lines match PATTERN so far.
seen() { grep -c -E -- "$1" "$TMP/$LEG.transcript" 2>/dev/null || true; }

# connected PATTERN COUNT: wait (BOOT_TIMEOUT) for the first prompt's
# PATTERN. kd connected while the guest booted gets the RESETs it sent
# meanwhile all at once (QEMU held them) and can give up on its first
# request ("cut off by a RESET twice", see docs/ci.md): then do what a user
# would, .restart once, and say so.
connected() {
	local deadline=$(($(now) + BOOT_TIMEOUT * 1000)) restarted=
	while [ "$(seen "$1")" -lt "$2" ]; do
		if [ -z "$restarted" ] && grep -q -E '^kd: error: [A-Za-z]+: the request was cut off by a RESET' "$TMP/$LEG.transcript"; then
			say "leg $LEG: kd gave up on a RESET backlog ($(grep -m1 '^kd: error: ' "$TMP/$LEG.transcript")); sending .restart"
			send .restart
			restarted=1
		fi
		[ "$(now)" -lt "$deadline" ] || fail "no '$1' (×$2) in $LEG.transcript after ${BOOT_TIMEOUT}s"
		sleep 0.1
	done
}

# check PATTERN WHAT: the transcript has a line matching PATTERN.
check() { grep -q -E -- "$1" "$TMP/$LEG.transcript" || fail "transcript lacks $2"; }

# session: the scripted session of make smoke, one step at a time: each
# line is sent once the previous one has shown its result. (Sent all at
# once, the CTRL+R line acts while r is still in flight, and the RESET can
# cross the GetContext reply; see docs/ci.md.)
session() {
	local n box ticks
	n=$(seen '^rax=[0-9a-f]{16} rbx=')
	box=$(seen 'You are seeing this message because you pressed either')
	ticks=$(seen 'simdrv: timer tick [0-9]+')
	send vertarget
	connected 'kd> vertarget$' 1
	waitfor "$TMP/$LEG.transcript" '^Windows 10 Kernel Version 19041 MP \(2 procs\) Free x64$' 2
	send r
	waitfor "$TMP/$LEG.transcript" '^rax=[0-9a-f]{16} rbx=' $((n + 1))
	send $'\x12'
	waitfor "$TMP/$LEG.transcript" '^Resync complete \([0-9]+ ms, [0-9]+ RESET packets\)\.$'
	send r
	waitfor "$TMP/$LEG.transcript" '^rax=[0-9a-f]{16} rbx=' $((n + 2))
	send 'db @rsp'
	waitfor "$TMP/$LEG.transcript" '^[0-9a-f]{8}`[0-9a-f]{8}  ([0-9a-f?]{2}[ -]){15}[0-9a-f?]{2}  '
	send g
	waitfor "$TMP/$LEG.transcript" 'simdrv: timer tick [0-9]+' $((ticks + 1))
	send $'\x03'
	waitfor "$TMP/$LEG.transcript" 'You are seeing this message because you pressed either' $((box + 1))
	send r
	waitfor "$TMP/$LEG.transcript" '^rax=[0-9a-f]{16} rbx=' $((n + 3))
	check '^nt!DbgBreakPointWithStatus:$' "the stop's symbol"
	check '^Kernel Debugger connection established\.  \(Initial Breakpoint requested\)$' "the established line"
}

# ---------------------------------------------- leg 1: unix socket, reboot
leg1() {
	LEG=unix
	SOCK=$TMP/com1.sock
	vm_start "unix:$SOCK,server=on,wait=off"
	vm_ready 1 || fail "the guest did not boot in ${BOOT_TIMEOUT}s"
	say "leg 1: VM boot (QEMU start to kdsim on ttyS0): $(secs "$BOOT_MS") s [$ACCEL]; guest kernel: $(sed -n 's/^kdsim-init: up \(.*\) after the kernel started.*/\1/p' "$TMP/$LEG.console" | head -n1)"
	kd_start -b -k "com:pipe,port=$SOCK,resets=0,reconnect"
	send version
	waitfor "$TMP/$LEG.transcript" 'kd> version'
	say "leg 1: time to first prompt: $(secs $(($(now) - VM_T0))) s from QEMU start, $(secs $(($(now) - VM_T0 - BOOT_MS))) s after kdsim was up"
	session

	# Payload rate through the UART: .writemem of nt's image (24 KiB) when kd
	# has it, else a db of the same bytes (target-to-host reads either way,
	# at most 3944 bytes a packet).
	base=$(sed -n 's/^Kernel base = 0x\([0-9a-f`]*\) .*/\1/p' "$TMP/$LEG.transcript" | head -n1)
	[ -n "$base" ] || fail "no kernel base in the transcript"
	size=$((0x6000))
	if "$BIN/kd" -k sim -c .help </dev/null 2>/dev/null | grep -q '^ *\.writemem '; then
		how=.writemem
		n=$(seen 'kd> r$')
		t=$(now)
		send ".writemem $TMP/nt.bin $base L6000" r
		waitfor "$TMP/$LEG.transcript" 'kd> r$' $((n + 1))
		ms=$(($(now) - t))
		[ "$(wc -c <"$TMP/nt.bin" 2>/dev/null || echo 0)" -eq "$size" ] || fail ".writemem wrote no $size-byte file"
	else
		how="db (kd has no .writemem yet)"
		n=$(seen 'kd> r$')
		t=$(now)
		send "db $base L6000" r
		waitfor "$TMP/$LEG.transcript" 'kd> r$' $((n + 1))
		ms=$(($(now) - t))
		lines=$(grep -c -E "^${base:0:8}\`" "$TMP/$LEG.transcript" || true)
		[ "$lines" -ge $((size / 16)) ] || fail "db printed $lines lines of $((size / 16))"
	fi
	say "leg 1: payload rate: $how of $size bytes in $(secs "$ms") s = $((size * 1000 / ms)) bytes/s (115200 baud 8N1 carries 11520 bytes/s)"

	# .reboot: kdsim exits 4, kdsim-init calls reboot(2), QEMU resets the
	# machine and keeps the socket; kd waits, breaks in (-b) on the new boot.
	n=$(seen 'kd> r$')
	t=$(now)
	send .reboot r
	waitfor "$TMP/$LEG.transcript" '^Shutdown occurred at \(.*\)\.\.\.unloading all symbol tables\.$'
	waitfor "$TMP/$LEG.console" '^kdsim-init: the debugger rebooted the target: rebooting'
	VM_T0=$t
	vm_ready 2 || fail "the guest did not come back from the reboot in ${BOOT_TIMEOUT}s"
	waitfor "$TMP/$LEG.transcript" '^Connected to Windows 10 19041 x64 target' 2 "$BOOT_TIMEOUT"
	waitfor "$TMP/$LEG.transcript" 'kd> r$' $((n + 1))
	say "leg 1: .reboot to the new boot's prompt: $(secs $(($(now) - t))) s (guest reboot $(secs "$BOOT_MS") s)"
	send q
	waitfor "$TMP/$LEG.transcript" '^quit:$'
	kd_end 0
	check '^Waiting to reconnect\.\.\.$' "the reconnect line"
	[ "$(grep -c '^Waiting to reconnect\.\.\.$' "$TMP/$LEG.transcript")" -ge 2 ] || fail "no 'Waiting to reconnect...' after the reboot"
	# Fresh packet ids: the first state change after the Reboot request
	# carries the initial id with the sync bit, 0x80800800.
	first=$(awk '/ Reboot /{seen=1; next} seen && /^<- STATE_CHANGE64 /{print $3; exit}' "$TMP/$LEG.trace")
	[ "$first" = id=80800800 ] || fail "the new boot's first state change has ${first:-no id}, want id=80800800"
	vm_kill
	say "leg 1: ok: session, DbgPrint, break-in, resync and a real guest reboot behind the open socket (fresh ids)"
}

# ------------------------------------------- leg 2: TCP, pulling the plug
leg2() {
	LEG=tcp
	port=$((20000 + $$ % 20000))
	for try in 1 2 3 4 5; do
		vm_start "tcp:127.0.0.1:$port,server=on,wait=off"
		hex=$(printf '%04X' "$port")
		deadline=$(($(now) + 10000))
		while ! grep -q -E "^ *[0-9]+: 0100007F:$hex 00000000:0000 0A " /proc/net/tcp 2>/dev/null; do
			kill -0 "$QPID" 2>/dev/null || break
			[ "$(now)" -lt "$deadline" ] || fail "QEMU does not listen on 127.0.0.1:$port"
			sleep 0.1
		done
		kill -0 "$QPID" 2>/dev/null && break
		grep -q -i 'address already in use' "$TMP/$LEG.qemu" || fail "QEMU exited: $(tail -n 3 "$TMP/$LEG.qemu" | tr '\n' ' ')"
		QPID=
		port=$((port + 1))
		[ "$try" -lt 5 ] || fail "no free TCP port for QEMU"
	done
	kd_start -b -k "com:ipport=$port,port=127.0.0.1"
	vm_ready 1 || fail "the guest did not boot in ${BOOT_TIMEOUT}s"
	say "leg 2: VM boot: $(secs "$BOOT_MS") s [$ACCEL]"
	session
	vm_kill
	waitfor "$TMP/$LEG.transcript" '^kd: error: connection to the target lost' 1 30
	kd_end 3
	say "leg 2: ok: the session over TCP; killing QEMU gave '$(grep -m1 '^kd: error: connection to the target lost' "$TMP/$LEG.transcript" | cut -c1-100)' and exit 3"
}

# -------------------------------- leg 3: kd first, the VM ten seconds later
leg3() {
	LEG=late
	SOCK=$TMP/com1-late.sock
	kd_start -b -k "com:pipe,port=$SOCK,resets=0,reconnect"
	waitfor "$TMP/$LEG.transcript" "^Waiting for pipe $SOCK\$"
	sleep 10 # the point of this leg: the VM starts ten seconds after kd
	vm_start "unix:$SOCK,server=on,wait=off"
	send r
	vm_ready 1 || fail "the guest did not boot in ${BOOT_TIMEOUT}s"
	connected 'kd> r$' 1
	waitfor "$TMP/$LEG.transcript" '^rax=[0-9a-f]{16} rbx=' 1 # r done: no request in flight when the plug is pulled
	say "leg 3: kd waited 10 s for the socket; VM boot $(secs "$BOOT_MS") s; prompt $(secs $(($(now) - VM_T0))) s after QEMU started"
	# Pull the plug under reconnect, then plug it back in: kd resumes.
	vm_kill
	waitfor "$TMP/$LEG.transcript" "^Connection to $SOCK lost \(.*\); reconnecting\.\.\.\$" 1 30
	vm_start "unix:$SOCK,server=on,wait=off"
	vm_ready 2 || fail "the restarted guest did not boot in ${BOOT_TIMEOUT}s"
	waitfor "$TMP/$LEG.transcript" "^Reconnected to $SOCK\$" 1 "$BOOT_TIMEOUT"
	# kd does not notice by itself that the machine behind the socket is a
	# new boot (it keeps the old stop; see docs/ci.md): .restart drops the
	# protocol state and connects afresh, breaking in again under -b.
	box=$(seen 'You are seeing this message because you pressed either')
	send .restart
	waitfor "$TMP/$LEG.transcript" '^Restarting the kernel connection\.\.\.$'
	waitfor "$TMP/$LEG.transcript" 'You are seeing this message because you pressed either' $((box + 1)) "$BOOT_TIMEOUT"
	n=$(seen '^rax=[0-9a-f]{16} rbx=')
	send r
	waitfor "$TMP/$LEG.transcript" '^rax=[0-9a-f]{16} rbx=' $((n + 1))
	send q
	waitfor "$TMP/$LEG.transcript" '^quit:$'
	kd_end 0
	vm_kill
	say "leg 3: ok: reconnect waited for the VM, and resumed after QEMU was killed and started again"
}

# ----------------------------------------------------------------- main
# A KVM that opens is not always a KVM that boots a stock kernel: boot the
# guest once (COM1 unconnected) and fall back to TCG if it stalls.
if [ "$ACCEL" = kvm ] && [ "${KD_VM_ACCEL:-auto}" = auto ]; then
	LEG=probe
	vm_start null
	if vm_ready 1 "$KVM_PROBE_TIMEOUT"; then
		say "accelerator: KVM boots the guest in $(secs "$BOOT_MS") s"
	else
		ACCEL=tcg
		say "accelerator: TCG after all (a KVM boot did not reach kdsim in ${KVM_PROBE_TIMEOUT}s)"
	fi
	vm_kill
	LEG=
fi

# The legs run side by side (each has its own VM, sockets and kd), unless
# KD_VM_SERIAL=1: on a busy machine three VMs get three shares of the CPU.
pids=
for leg in ${KD_VM_LEGS:-1 2 3}; do
	case $leg in
	1 | 2 | 3) ;;
	*) fail "KD_VM_LEGS: no leg '$leg' (legs are 1, 2 and 3)" ;;
	esac
	if [ -n "${KD_VM_SERIAL:-}" ]; then
		("leg$leg") || fail "leg $leg failed"
	else
		(
			trap 'exec 3>&- 2>/dev/null; for p in $QPID $KDPID; do kill -9 "$p" 2>/dev/null; done' EXIT
			trap 'exit 1' INT TERM
			"leg$leg"
		) &
		pids="$pids $!"
	fi
done
failed=0
for p in $pids; do
	wait "$p" || failed=$((failed + 1))
done
[ "$failed" -eq 0 ] || fail "$failed leg(s) failed"
say "ok: legs ${KD_VM_LEGS:-1 2 3} in $(secs $(($(now) - T0))) s [$ACCEL]"
