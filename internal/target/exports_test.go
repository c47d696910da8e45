package target

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"testing"
)

// testImage is an image in memory for the export parser, with a log of
// its reads.
type testImage struct {
	mem   []byte
	reads [][2]uint32 // rva, n
}

func (im *testImage) read(rva uint32, n int) ([]byte, error) {
	im.reads = append(im.reads, [2]uint32{rva, uint32(n)})
	if uint64(rva) >= uint64(len(im.mem)) || n <= 0 {
		return nil, nil
	}
	return im.mem[rva:min(uint64(len(im.mem)), uint64(rva)+uint64(n))], nil
}

// newTestImage returns size bytes of PE32+ headers (e_lfanew 0x80) whose
// export directory entry is dirRVA, dirSize.
func newTestImage(size, dirRVA, dirSize uint32) *testImage {
	b := make([]byte, size)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3C:], 0x80)
	copy(b[0x80:], "PE\x00\x00")
	opt := b[0x80+24:]
	binary.LittleEndian.PutUint16(opt, 0x20B)
	binary.LittleEndian.PutUint32(opt[0x38:], size)
	binary.LittleEndian.PutUint32(opt[0x70:], dirRVA)
	binary.LittleEndian.PutUint32(opt[0x74:], dirSize)
	return &testImage{mem: b}
}

// hostileImage lays its export data out as no linker does: the tables
// apart from the directory and from each other, outside the region; the
// strings in reverse name order, one of them outside the region and one
// the tail of another (so the length its neighbour suggests is wrong).
// Function 2 has no name, function 3 is a forwarder, function 1 has two
// names.
func hostileImage() *testImage {
	const dir, region = 0x1000, 0x400
	im := newTestImage(0x3000, dir, region)
	le := binary.LittleEndian
	put := func(rva uint32, s string) uint32 { copy(im.mem[rva:], s+"\x00"); return rva }
	funcs := []uint32{0x500, 0x600, 0x700, put(0x1300, "OTHER.Func"), 0x800, 0x900}
	// In name order: Alpha, Beta, Bravo, Fwd, Zulu, lu (the tail of Zulu).
	names := []uint32{put(0x1180, "Alpha"), put(0x1170, "Beta"), put(0x1160, "Bravo"), put(0x1150, "Fwd"), put(0x2800, "Zulu"), 0x2802}
	ords := []uint16{0, 1, 1, 3, 4, 5}
	d := im.mem[dir:]
	le.PutUint32(d[0x10:], 1)                  // Base
	le.PutUint32(d[0x14:], uint32(len(funcs))) // NumberOfFunctions
	le.PutUint32(d[0x18:], uint32(len(names))) // NumberOfNames
	le.PutUint32(d[0x1C:], 0x2000)             // AddressOfFunctions
	le.PutUint32(d[0x20:], 0x2200)             // AddressOfNames
	le.PutUint32(d[0x24:], 0x2400)             // AddressOfNameOrdinals
	for i, f := range funcs {
		le.PutUint32(im.mem[0x2000+4*i:], f)
	}
	for i, n := range names {
		le.PutUint32(im.mem[0x2200+4*i:], n)
		le.PutUint16(im.mem[0x2400+2*i:], ords[i])
	}
	return im
}

// The tables are read where the directory says, one read each when they
// are apart; names are found whatever the order of the strings, with a
// bounded read where the neighbour's RVA gives no length or a wrong one.
// Forwarders and functions without a name are never named, and at one
// address the greatest name wins, as in the sorted list.
func TestExportIndexFallbacks(t *testing.T) {
	im := hostileImage()
	x, err := readExportIndex(im.read, uint32(len(im.mem)))
	if err != nil || x == nil || x.whole {
		t.Fatalf("index %+v, %v", x, err)
	}
	want := [][2]uint32{{0, 0x1B0}, {0x1000, 40 + 0x400*10/27}, {0x2000, 24}, {0x2200, 24}, {0x2400, 12}}
	if !slices.Equal(im.reads, want) {
		t.Fatalf("reads %x, want %x", im.reads, want)
	}
	for _, tc := range []struct {
		rva  uint32
		name string
		at   uint32
		read [][2]uint32 // the name reads
	}{
		{0x4FF, "", 0, nil},
		{0x500, "Alpha", 0x500, [][2]uint32{{0x1180, nameProbe}}}, // the next name lies before it: no length
		{0x650, "Bravo", 0x600, [][2]uint32{{0x1160, nameProbe}, {0x1170, nameProbe}}},
		{0x7FF, "Bravo", 0x600, nil},                                     // 0x700 has no name; the names are known
		{0x8FF, "Zulu", 0x800, [][2]uint32{{0x2800, 2}, {0x2800, 1024}}}, // "lu" follows at +2: no NUL, read on
		{0x1000, "lu", 0x900, [][2]uint32{{0x2802, 256}}},                // the last name, outside the region
	} {
		im.reads = nil
		e, ok, full, err := x.below(im.read, tc.rva)
		if err != nil || full || ok != (tc.name != "") || e.name != tc.name || ok && uint32(e.addr) != tc.at {
			t.Errorf("below(%#x) = %+v, %v, full %v, %v; want %s at %#x", tc.rva, e, ok, full, err, tc.name, tc.at)
		}
		if !slices.Equal(im.reads, tc.read) {
			t.Errorf("below(%#x) read %x, want %x", tc.rva, im.reads, tc.read)
		}
	}
	all, err := x.all(im.read)
	if err != nil {
		t.Fatal(err)
	}
	sortExports(all)
	wantAll := []export{{0x500, "Alpha"}, {0x600, "Beta"}, {0x600, "Bravo"}, {0x800, "Zulu"}, {0x900, "lu"}}
	if !slices.Equal(all, wantAll) {
		t.Fatalf("all %+v, want %+v", all, wantAll)
	}
}

// An alias with an empty name, or more aliases than are worth reading one
// by one, leave the answer to the whole list.
func TestExportIndexNeedsList(t *testing.T) {
	im := hostileImage()
	copy(im.mem[0x1170:], "\x00") // Beta's name is empty
	x, err := readExportIndex(im.read, uint32(len(im.mem)))
	if err != nil || x == nil {
		t.Fatal(err)
	}
	if _, _, full, err := x.below(im.read, 0x600); !full || err != nil {
		t.Fatalf("an empty alias: full %v, %v", full, err)
	}
	x.byAddr = x.byAddr[:0]
	for range maxAliases + 1 {
		x.byAddr = append(x.byAddr, 1) // Beta, again and again
	}
	if _, _, full, _ := x.below(im.read, 0x600); !full {
		t.Fatal("too many aliases read one by one")
	}
}

// A small region costs less read whole than as tables and a name: it is
// read in one request and says so.
func TestExportIndexSmallRegionWhole(t *testing.T) {
	for _, tc := range []struct {
		size  uint32
		whole bool
	}{{40, true}, {300, true}, {373, true}, {400, false}, {1748, false}, {100 << 10, false}} {
		n, whole := firstExportRead(tc.size)
		if whole != tc.whole || whole && n != tc.size || !whole && (n >= tc.size || n < 40) {
			t.Errorf("firstExportRead(%d) = %d, %v", tc.size, n, whole)
		}
	}
}

// FuzzExportIndex parses hostile images: no panic, every read inside the
// image and bounded, counts within maxExports, and the export below an
// address found from the tables and one name is the one the whole list
// gives (unless it says the list must decide).
func FuzzExportIndex(f *testing.F) {
	f.Add(hostileImage().mem, uint32(0x650))
	small := newTestImage(0x600, 0x200, 0x100)
	copy(small.mem[0x200+0x14:], []byte{2, 0, 0, 0, 2, 0, 0, 0, 0x40, 2, 0, 0, 0x48, 2, 0, 0, 0x50, 2, 0, 0})
	copy(small.mem[0x240:], []byte{0x00, 5, 0, 0, 0x10, 5, 0, 0, 0x60, 2, 0, 0, 0x64, 2, 0, 0, 1, 0, 0, 0})
	copy(small.mem[0x260:], "Bb\x00Aa\x00")
	f.Add(small.mem, uint32(0x508))
	f.Add(newTestImage(0x200, 0x1000, 0x40).mem, uint32(0))
	f.Fuzz(func(t *testing.T, mem []byte, rva uint32) {
		if len(mem) > 1<<16 {
			return
		}
		im := &testImage{mem: mem}
		rd := func(r uint32, n int) ([]byte, error) {
			if uint64(r)+uint64(n) > uint64(len(mem)) {
				t.Fatalf("read %#x:%d of a %d-byte image", r, n, len(mem))
			}
			return im.read(r, n)
		}
		x, err := readExportIndex(rd, uint32(len(mem)))
		if err != nil || x == nil {
			return
		}
		if len(x.funcs) > maxExports || len(x.nameRVAs) > maxExports || len(x.byAddr) > len(x.nameRVAs) {
			t.Fatalf("%d functions, %d names", len(x.funcs), len(x.nameRVAs))
		}
		e, ok, full, _ := x.below(rd, rva)
		list, _ := (&exportIndex{dirRVA: x.dirRVA, dirSize: x.dirSize, size: x.size, funcs: x.funcs,
			nameRVAs: x.nameRVAs, ords: x.ords, byAddr: x.byAddr, names: map[int]string{}}).all(rd)
		if full {
			return
		}
		sortExports(list)
		j := sort.Search(len(list), func(k int) bool { return list[k].addr > uint64(rva) }) - 1
		if ok != (j >= 0) || ok && e != list[j] {
			t.Fatalf("below(%#x) = %+v, %v; the list has %+v", rva, e, ok, list[max(j, 0):])
		}
	})
}

// linkerImage lays its exports out as link and lld-link do: the
// directory, the address, name pointer and ordinal tables, then the DLL
// name and the names in name order. Function i is at 0x1000+0x10*i and
// named names[i] (sorted).
func linkerImage(names []string) *testImage {
	const dir = 0x400
	n := uint32(len(names))
	strs := dir + exportDirSize + 10*n
	size := strs + 8
	for _, s := range names {
		size += uint32(len(s)) + 1
	}
	im := newTestImage(0x1000+0x10*n+0x10, dir, size-dir)
	le := binary.LittleEndian
	d := im.mem[dir:]
	le.PutUint32(d[0x14:], n)
	le.PutUint32(d[0x18:], n)
	le.PutUint32(d[0x1C:], dir+exportDirSize)
	le.PutUint32(d[0x20:], dir+exportDirSize+4*n)
	le.PutUint32(d[0x24:], dir+exportDirSize+8*n)
	at := strs + uint32(copy(im.mem[strs:], "dll.sys\x00"))
	for i, s := range names {
		le.PutUint32(im.mem[dir+exportDirSize+4*uint32(i):], 0x1000+0x10*uint32(i))
		le.PutUint32(im.mem[dir+exportDirSize+4*n+4*uint32(i):], at)
		le.PutUint16(im.mem[dir+exportDirSize+8*n+2*uint32(i):], uint16(i))
		at += uint32(copy(im.mem[at:], s+"\x00"))
	}
	return im
}

// In a linker's layout the first read holds the directory and the
// tables, and a name is read with its exact length, NUL included.
func TestExportIndexLinkerLayout(t *testing.T) {
	var names []string
	for i := range 40 {
		names = append(names, fmt.Sprintf("Name%02d_%09d", i, i*7919)) // 16 characters
	}
	im := linkerImage(names)
	x, err := readExportIndex(im.read, uint32(len(im.mem)))
	if err != nil || x == nil || x.whole || len(x.byAddr) != 40 {
		t.Fatalf("index %+v, %v", x, err)
	}
	first := im.reads[1]
	for _, r := range im.reads[2:] { // served by the page cache in kd
		if r[0] < first[0] || r[0]+r[1] > first[0]+first[1] {
			t.Fatalf("tables read at %x beyond the first read %x", r, first)
		}
	}
	im.reads = nil
	e, ok, full, err := x.below(im.read, 0x1000+0x10*7+3)
	if err != nil || !ok || full || e.name != names[7] || e.addr != 0x1070 {
		t.Fatalf("below = %+v, %v, %v, %v", e, ok, full, err)
	}
	if want := [][2]uint32{{x.nameRVAs[7], 17}}; !slices.Equal(im.reads, want) {
		t.Fatalf("name reads %x, want %x", im.reads, want)
	}
	im.reads = nil
	if e, ok, _, _ := x.below(im.read, 0x1000+0x10*39+0x20); !ok || e.name != names[39] || !slices.Equal(im.reads, [][2]uint32{{x.nameRVAs[39], 17}}) {
		t.Fatalf("the last name: %+v, reads %x", e, im.reads)
	}
}

// The header read covers an e_lfanew up to 0x120; a larger one costs one
// more read, of the headers as far as the export directory entry.
func TestExportDirEntryLargeLfanew(t *testing.T) {
	for _, tc := range []struct {
		lfanew uint32
		reads  [][2]uint32
	}{
		{0x120, [][2]uint32{{0, 0x1B0}}},
		{0x180, [][2]uint32{{0, 0x1B0}, {0, 0x180 + 0x90}}},
	} {
		im := &testImage{mem: make([]byte, 0x1000)}
		copy(im.mem, "MZ")
		binary.LittleEndian.PutUint32(im.mem[0x3C:], tc.lfanew)
		copy(im.mem[tc.lfanew:], "PE\x00\x00")
		binary.LittleEndian.PutUint16(im.mem[tc.lfanew+24:], 0x20B)
		binary.LittleEndian.PutUint32(im.mem[tc.lfanew+24+0x70:], 0x800)
		binary.LittleEndian.PutUint32(im.mem[tc.lfanew+24+0x74:], 0x123)
		rva, n, err := exportDirEntry(im.read, 0x1000)
		if err != nil || rva != 0x800 || n != 0x123 || !slices.Equal(im.reads, tc.reads) {
			t.Errorf("e_lfanew %#x: %#x, %#x, %v; reads %x, want %x", tc.lfanew, rva, n, err, im.reads, tc.reads)
		}
	}
}
