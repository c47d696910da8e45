package pe

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// bigPdata is a memory image whose exception directory holds n entries,
// as large as ntoskrnl's.
func bigPdata(b *testing.B, n int) *Image {
	b.Helper()
	mem := load(b, readFile(b, "unw.sys"))
	im := openMem(b, mem)
	dirOff := 0x78 + 24 + 112 + 8*DirException // e_lfanew of these images, then the optional header's directory
	start := len(mem)
	for i := 0; i < n; i++ {
		mem = binary.LittleEndian.AppendUint32(mem, uint32(0x1000+16*i))
		mem = binary.LittleEndian.AppendUint32(mem, uint32(0x1000+16*i+12))
		mem = binary.LittleEndian.AppendUint32(mem, 0x2188)
	}
	binary.LittleEndian.PutUint32(mem[dirOff:], uint32(start))
	binary.LittleEndian.PutUint32(mem[dirOff+4:], uint32(12*n))
	binary.LittleEndian.PutUint32(mem[0x78+24+56:], uint32(len(mem))) // SizeOfImage
	if im.Directory(DirException).RVA != 0x4000 {
		b.Fatal("unexpected test image layout")
	}
	big, err := Open(bytes.NewReader(mem), int64(len(mem)), Memory)
	if err != nil {
		b.Fatal(err)
	}
	return big
}

// BenchmarkRuntimeFunctions reads a 50000-entry .pdata (ntoskrnl-sized).
func BenchmarkRuntimeFunctions(b *testing.B) {
	im := bigPdata(b, 50000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ft, err := im.RuntimeFunctions()
		if err != nil || len(ft) != 50000 {
			b.Fatalf("%d entries, %v", len(ft), err)
		}
	}
}

// BenchmarkLookup finds functions in a 50000-entry table.
func BenchmarkLookup(b *testing.B) {
	ft, err := bigPdata(b, 50000).RuntimeFunctions()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := ft.Lookup(uint32(0x1000 + 16*(i%50000) + 4)); !ok {
			b.Fatal("miss")
		}
	}
}
