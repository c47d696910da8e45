#!/bin/sh
# Builds the x64 PE + PDB pairs kd's symbol tests read, from the C and C++
# sources in src/, with clang and lld-link (Debian: apt-get install clang
# lld llvm). No Windows headers or libraries are needed. The outputs are
# committed; rerun this after changing a source and commit the results.
#
#   kdtdrv.sys + kdtdrv.pdb  driver-like image (C and C++ objects)
#   kdtlib.dll + kdtlib.pdb  DLL-style image of the same C object
#
# /Brepro and -fdebug-compilation-dir make the output byte-for-byte
# reproducible: the same sources and tools give the same GUID and files.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang}
LLD=${LLD:-lld-link}
for t in "$CLANG" "$LLD"; do
	command -v "$t" >/dev/null 2>&1 || { echo "build.sh: $t not found (apt-get install clang lld)" >&2; exit 1; }
done
# Object files go to a fixed relative directory: their paths are recorded
# in the PDB, and a random temporary name would change every build.
TMP=obj
rm -rf "$TMP" && mkdir "$TMP"
trap 'rm -rf "$TMP"' EXIT INT TERM

CFLAGS="--target=x86_64-pc-windows-msvc -O1 -g -gcodeview -fdebug-compilation-dir=. -ffreestanding -fno-stack-protector -fno-builtin"
"$CLANG" $CFLAGS -c src/kdtdrv.c -o "$TMP/kdtdrv.obj"
"$CLANG" $CFLAGS -fno-rtti -fno-exceptions -c src/kdtcls.cpp -o "$TMP/kdtcls.obj"

"$LLD" /nologo /brepro /driver /subsystem:native /entry:DriverEntry /nodefaultlib \
	/pdbsourcepath:C:\\kdt /debug /pdb:kdtdrv.pdb /pdbaltpath:kdtdrv.pdb /out:kdtdrv.sys \
	"$TMP/kdtdrv.obj" "$TMP/kdtcls.obj"
"$LLD" /nologo /brepro /dll /noentry /export:KdtMiddle /export:KdtLeaf /nodefaultlib \
	/pdbsourcepath:C:\\kdt /debug /pdb:kdtlib.pdb /pdbaltpath:kdtlib.pdb /out:kdtlib.dll \
	"$TMP/kdtdrv.obj"
rm -f kdtlib.lib kdtlib.exp
ls -l kdtdrv.sys kdtdrv.pdb kdtlib.dll kdtlib.pdb
