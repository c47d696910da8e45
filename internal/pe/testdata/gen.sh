#!/bin/sh
# Rebuilds the test images from src/ with clang and lld-link (Debian:
# apt-get install clang lld llvm). The outputs are committed; run this only
# after changing src/. /Brepro and /pdbaltpath keep the outputs independent
# of time and build directory.
set -eu
cd "$(dirname "$0")"
# A fixed build directory: its path ends up in the PDB, whose hash /Brepro
# turns into the timestamp and GUID.
tmp=/tmp/kd-pe-testdata
rm -rf "$tmp" && mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
clang --target=x86_64-pc-windows-msvc -O1 -gcodeview -g -fdebug-compilation-dir=. -c src/drv.c -o "$tmp/drv.obj"
clang --target=x86_64-pc-windows-msvc -c src/unw.s -o "$tmp/unw.obj"
lld-link /dll /noentry /nodefaultlib /machine:x64 /Brepro /debug /pdb:"$tmp/unw.pdb" /pdbaltpath:unw.pdb \
	/export:Root /export:DriverEntry /export:Leaf,@7,NONAME /export:Middle \
	/export:KdFwd=ntoskrnl.KeBugCheckEx /export:TrapStub /export:TrapStubErr \
	/export:TrapStub_epi /export:TrapStubErr_epi /export:LeafNoPdata /export:GlobalObj,DATA \
	/out:unw.sys "$tmp/drv.obj" "$tmp/unw.obj"
clang --target=i686-pc-windows-msvc -O1 -c src/x86.c -o "$tmp/x86.obj"
lld-link /dll /noentry /nodefaultlib /machine:x86 /Brepro /out:x86.dll "$tmp/x86.obj"
rm -f unw.lib unw.exp x86.lib x86.exp
