#!/bin/sh
# Builds a large PE + PDB pair with clang and lld-link for benchmarking
# internal/pdb against the linker's own layout (the committed pairs are
# small). Not committed: the output goes to the directory given.
#
#   ./large.sh /tmp/kdlarge [FUNCS] [STRUCTS]
#   KD_BENCH_PDB=/tmp/kdlarge/kdtlarge.pdb KD_BENCH_SYMBOL=KdtLargeFunc00001 \
#     KD_BENCH_TYPE=_KDT_LARGE_00001 go test -run '^$' -bench . ./internal/pdb
set -eu
OUT=${1:?usage: large.sh OUTDIR [FUNCS] [STRUCTS]}
FUNCS=${2:-40000}
STRUCTS=${3:-20000}
CLANG=${CLANG:-clang}
LLD=${LLD:-lld-link}
mkdir -p "$OUT"
SRC=$OUT/kdtlarge.c
awk -v F="$FUNCS" -v S="$STRUCTS" 'BEGIN {
	for (i = 0; i < S; i++) {
		printf "struct _KDT_LARGE_%05d { struct _KDT_LARGE_%05d *Next; unsigned int Count; unsigned short Flags : 3, Kind : 5;", i, i
		if (i > 0) printf " struct _KDT_LARGE_%05d Prev; char Name[%d];", i - 1, 8 + i % 32
		printf " };\n"
		printf "struct _KDT_LARGE_%05d KdtLargeData%05d;\n", i, i
	}
	for (i = 0; i < F; i++)
		printf "__declspec(noinline) int KdtLargeFunc%05d(int x) { return x * %d + (int)KdtLargeData%05d.Count; }\n", i, i + 1, i % S
	printf "int KdtLargeEntry(void) { return KdtLargeFunc00000(1); }\n"
}' > "$SRC"
"$CLANG" --target=x86_64-pc-windows-msvc -O1 -g -gcodeview -ffreestanding -c "$SRC" -o "$OUT/kdtlarge.obj"
"$LLD" /nologo /dll /noentry /export:KdtLargeEntry /nodefaultlib /debug /opt:noref \
	/pdb:"$OUT/kdtlarge.pdb" /out:"$OUT/kdtlarge.dll" "$OUT/kdtlarge.obj"
ls -l "$OUT/kdtlarge.dll" "$OUT/kdtlarge.pdb"
