#!/usr/bin/env bash
# Prints the path of the guest kernel for make vm-smoke, fetching it first
# if need be: the kernel of Debian's linux-image package for this machine,
# taken with `apt-get download` and `dpkg-deb` (no install, so no postinst
# hooks), and unpacked to an uncompressed ELF vmlinux. QEMU boots that
# directly through its PVH entry point, which skips the real-mode set-up
# and the decompressor: under TCG that saves 20-30 s per boot.
#
#   KD_VM_KERNEL=FILE   use FILE (a vmlinux, or a bzImage to unpack) instead
#   KD_VM_DIR=DIR       where to keep it (default bin/vm)
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${KD_VM_DIR:-bin/vm}
mkdir -p "$DIR"

die() {
	echo "vm-smoke: error: $1" >&2
	[ -n "${2:-}" ] && echo "vm-smoke: hint: $2" >&2
	exit 1
}

# unpack BZIMAGE OUT: find the compressed payload in a bzImage and
# decompress it (xz, zstd or gzip, whichever magic comes first).
unpack() {
	local in=$1 out=$2 best= tool= off
	for m in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
		off=$(LC_ALL=C grep -abo -m1 -P "${m#*:}" "$in" 2>/dev/null | head -n1 | cut -d: -f1 || true)
		if [ -n "$off" ] && { [ -z "$best" ] || [ "$off" -lt "$best" ]; }; then
			best=$off tool=${m%%:*}
		fi
	done
	[ -n "$best" ] || die "no compressed kernel found in $in" "give an uncompressed vmlinux in KD_VM_KERNEL"
	command -v "$tool" >/dev/null || die "$tool is needed to unpack $in" "apt-get install ${tool/xz/xz-utils}"
	case $tool in
	xz) tail -c +$((best + 1)) "$in" | xz --single-stream -dc >"$out.tmp" 2>/dev/null || true ;;
	zstd) tail -c +$((best + 1)) "$in" | zstd -dcq >"$out.tmp" 2>/dev/null || true ;;
	gzip) tail -c +$((best + 1)) "$in" | gzip -dc >"$out.tmp" 2>/dev/null || true ;;
	esac
	# (tail dies of SIGPIPE once the stream ends: the ELF magic is the check.)
	[ "$(head -c 4 "$out.tmp" | od -An -c | tr -d ' ')" = '177ELF' ] || die "unpacking $in gave no ELF kernel"
	mv "$out.tmp" "$out"
}

if [ -n "${KD_VM_KERNEL:-}" ]; then
	[ -f "$KD_VM_KERNEL" ] || die "KD_VM_KERNEL=$KD_VM_KERNEL is not a file"
	if [ "$(head -c 4 "$KD_VM_KERNEL" | od -An -c | tr -d ' ')" = '177ELF' ]; then
		echo "$KD_VM_KERNEL"
		exit 0
	fi
	unpack "$KD_VM_KERNEL" "$DIR/vmlinux-custom"
	echo "$DIR/vmlinux-custom"
	exit 0
fi

command -v apt-cache >/dev/null || die "no kernel: apt-cache not found" "set KD_VM_KERNEL to a Linux x86-64 kernel with the 8250 UART built in"
arch=$(dpkg --print-architecture)
pkg=$(apt-cache depends "linux-image-$arch" 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
[ -n "$pkg" ] || die "apt knows no linux-image-$arch" "run apt-get update, or set KD_VM_KERNEL"
out=$DIR/vmlinux-${pkg#linux-image-}
if [ -s "$out" ]; then
	echo "$out"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kd-kernel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>"$tmp/apt.err") ||
	die "apt-get download $pkg failed: $(tail -n1 "$tmp/apt.err")" "run apt-get update, or set KD_VM_KERNEL"
dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
unpack "$(ls "$tmp"/boot/vmlinuz-*)" "$out"
echo "$out"
