package pe

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

// readFile returns a committed test image.
func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// load lays an image file out as the loader would: headers, then each
// section's raw data at its RVA.
func load(t testing.TB, file []byte) []byte {
	t.Helper()
	im, err := Open(bytes.NewReader(file), int64(len(file)), File)
	if err != nil {
		t.Fatalf("open file: %v", err)
	}
	mem := make([]byte, im.SizeOfImage)
	copy(mem, file[:im.SizeOfHeaders])
	for _, s := range im.Sections {
		n := min(s.RawSize, s.VirtualSize)
		copy(mem[s.VirtualAddress:], file[s.RawOffset:s.RawOffset+n])
	}
	return mem
}

// openMem opens a loaded image.
func openMem(t testing.TB, mem []byte) *Image {
	t.Helper()
	im, err := Open(bytes.NewReader(mem), int64(len(mem)), Memory)
	if err != nil {
		t.Fatalf("open memory: %v", err)
	}
	return im
}

// patch32 returns a copy of b with a u32 written at off.
func patch32(b []byte, off int, v uint32) []byte {
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint32(c[off:], v)
	return c
}
