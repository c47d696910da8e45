package target

import (
	"encoding/binary"
	"sort"

	"github.com/gokd/kd/internal/safetext"
)

// An image's export names are read in two steps. Naming one address (the
// stop banner, u, k) needs the export directory's tables and the one name
// nearest below the address; the list of every name (x, ln, lm v,
// module!name) needs all the strings. On a serial line every byte counts:
// ntoskrnl's export region is about 100 KB, nine seconds at 115200 baud,
// while its tables and one name are a third of that or less.

// imageReader reads an image's memory for the export parser: the readable
// prefix of [rva, rva+n) (shorter, or nil, where the target refuses or
// the range leaves the image). Only a link error is returned.
type imageReader func(rva uint32, n int) ([]byte, error)

const (
	exportDirSize = 40   // sizeof(IMAGE_EXPORT_DIRECTORY)
	maxNameLen    = 1024 // the longest export name read
	nameProbe     = 256  // a name read when its length is not known
	maxAliases    = 8    // names at one address read before reading all

	// Line cost in characters of a read of n bytes: request 73, ACK 16,
	// reply 73+n, ACK 16.
	requestChars = 178
	// An export name averages about 16 characters and its NUL.
	avgNameChars = 17
)

// exportIndex is an export directory's tables without its strings: enough
// to find the export nearest an address, whose one name is then read. It
// is kept on the module (an image's exports do not change while it is
// loaded), with the names read so far.
type exportIndex struct {
	dirRVA, dirSize uint32
	size            uint32   // SizeOfImage: no read leaves the image
	whole           bool     // the whole region was read at once
	funcs           []uint32 // AddressOfFunctions, by function index
	nameRVAs        []uint32 // AddressOfNames, in name order
	ords            []uint16 // AddressOfNameOrdinals: name index -> function index
	byAddr          []int    // name indexes of named non-forwarders, by address then index
	names           map[int]string
}

// peHeaderRead is how much of an image's start is read for its headers.
// What naming an address needs is e_lfanew (0x3C), SizeOfImage (optional
// header + 0x38) and the export directory entry (optional header + 0x70,
// 8 bytes): e_lfanew + 0x90 bytes. 0x1B0 covers an e_lfanew up to 0x120
// (link and lld-link put it at 0xC8-0x118; kdsim's is 0x100); a larger
// one costs one exact read of the rest.
const peHeaderRead = 0x1B0

// exportDirEntry returns the export data directory of the image's PE32+
// headers (zero when there is none or the headers are malformed).
func exportDirEntry(rd imageReader, size uint32) (rva, n uint32, err error) {
	hdr, err := rd(0, int(min(peHeaderRead, size)))
	if err != nil || len(hdr) < 0x40 || hdr[0] != 'M' || hdr[1] != 'Z' {
		return 0, 0, err
	}
	pe := binary.LittleEndian.Uint32(hdr[0x3C:])
	need := uint64(pe) + 24 + 0x78
	if pe == 0 || need > uint64(size) || need > 64<<10 {
		return 0, 0, nil
	}
	if need > uint64(len(hdr)) {
		if hdr, err = rd(0, int(need)); err != nil || uint64(len(hdr)) < need {
			return 0, 0, err
		}
	}
	opt := hdr[pe+24:]
	if string(hdr[pe:pe+4]) != "PE\x00\x00" || binary.LittleEndian.Uint16(opt) != 0x20B {
		return 0, 0, nil // not PE32+
	}
	return binary.LittleEndian.Uint32(opt[0x70:]), binary.LittleEndian.Uint32(opt[0x74:]), nil
}

// firstExportRead is how much of an export region of dirSize bytes the
// first read takes: the directory and, speculatively, what its tables
// usually take (link and lld-link put the address, name pointer and
// ordinal tables right after the directory, then the strings; with names
// of about 16 characters the tables are about 10/27 of the region), or
// the whole region when that costs no more line time than the tables and
// one name in two requests.
func firstExportRead(dirSize uint32) (n uint32, whole bool) {
	n = min(dirSize, exportDirSize+dirSize*10/27, exportDirSize+10*maxExports)
	if requestChars+dirSize <= 2*requestChars+n+avgNameChars {
		return dirSize, true
	}
	return n, false
}

// readExportIndex reads the export directory and its tables of the image
// of size bytes. A malformed or unreadable directory gives an index
// without exports (nil when there is none); only a link error is
// returned.
func readExportIndex(rd imageReader, size uint32) (*exportIndex, error) {
	dirRVA, dirSize, err := exportDirEntry(rd, size)
	if err != nil || dirRVA == 0 || dirSize < exportDirSize || dirSize > 1<<20 || uint64(dirRVA)+uint64(dirSize) > uint64(size) {
		return nil, err
	}
	x := &exportIndex{dirRVA: dirRVA, dirSize: dirSize, size: size, names: map[int]string{}}
	first, whole := firstExportRead(dirSize)
	dir, err := rd(dirRVA, int(first))
	if err != nil || len(dir) < exportDirSize {
		return nil, err
	}
	x.whole = whole && len(dir) == int(dirSize)
	nFuncs := binary.LittleEndian.Uint32(dir[0x14:])
	nNames := binary.LittleEndian.Uint32(dir[0x18:])
	if nFuncs > maxExports || nNames > maxExports || nNames == 0 {
		return x, nil // no names to find: the tables are not needed
	}
	tabs, err := x.readTables(rd, [3]uint32{
		binary.LittleEndian.Uint32(dir[0x1C:]),
		binary.LittleEndian.Uint32(dir[0x20:]),
		binary.LittleEndian.Uint32(dir[0x24:]),
	}, [3]uint32{4 * nFuncs, 4 * nNames, 2 * nNames})
	if err != nil || tabs[0] == nil {
		return x, err
	}
	x.funcs = make([]uint32, nFuncs)
	for i := range x.funcs {
		x.funcs[i] = binary.LittleEndian.Uint32(tabs[0][4*i:])
	}
	x.nameRVAs = make([]uint32, nNames)
	x.ords = make([]uint16, nNames)
	for i := range x.nameRVAs {
		x.nameRVAs[i] = binary.LittleEndian.Uint32(tabs[1][4*i:])
		x.ords[i] = binary.LittleEndian.Uint16(tabs[2][2*i:])
	}
	x.sortByAddr()
	return x, nil
}

// readTables reads the address, name pointer and ordinal tables (nil
// slices when one lies outside the image or cannot be read whole). Tables
// that lie together, as linkers put them, are read as one range, so that
// what the first read did not cover costs one request.
func (x *exportIndex) readTables(rd imageReader, rvas, lens [3]uint32) ([3][]byte, error) {
	var out [3][]byte
	lo, hi, sum := uint64(1)<<32, uint64(0), uint64(0)
	for i, r := range rvas {
		if uint64(r)+uint64(lens[i]) > uint64(x.size) {
			return out, nil
		}
		if lens[i] > 0 {
			lo, hi, sum = min(lo, uint64(r)), max(hi, uint64(r)+uint64(lens[i])), sum+uint64(lens[i])
		}
	}
	if hi-lo <= sum+64 { // together, with at most alignment between them
		span, err := rd(uint32(lo), int(hi-lo))
		if err != nil || uint64(len(span)) < hi-lo {
			return out, err
		}
		for i, r := range rvas {
			out[i] = []byte{}
			if lens[i] > 0 {
				out[i] = span[uint64(r)-lo : uint64(r)-lo+uint64(lens[i])]
			}
		}
		return out, nil
	}
	for i, r := range rvas {
		out[i] = []byte{}
		if lens[i] == 0 {
			continue
		}
		b, err := rd(r, int(lens[i]))
		if err != nil || len(b) < int(lens[i]) {
			return [3][]byte{}, err
		}
		out[i] = b
	}
	return out, nil
}

// inRegion reports whether rva lies in the export region. A function RVA
// there is a forwarder (a "DLL.Name" string, not code).
func (x *exportIndex) inRegion(rva uint32) bool {
	return rva >= x.dirRVA && rva-x.dirRVA < x.dirSize
}

// funcOf returns the function RVA of name index i.
func (x *exportIndex) funcOf(i int) uint32 { return x.funcs[x.ords[i]] }

// sortByAddr lists the named exports that are code or data here (not
// forwarders, not an ordinal outside the address table) by address.
func (x *exportIndex) sortByAddr() {
	x.byAddr = x.byAddr[:0]
	for i, o := range x.ords {
		if int(o) < len(x.funcs) && !x.inRegion(x.funcs[o]) {
			x.byAddr = append(x.byAddr, i)
		}
	}
	sort.SliceStable(x.byAddr, func(a, b int) bool { return x.funcOf(x.byAddr[a]) < x.funcOf(x.byAddr[b]) })
}

// nameEnd is where the name at rva must end at the latest: the region's
// end for a name inside it, else maxNameLen bytes on (and the image's end).
func (x *exportIndex) nameEnd(rva uint32) uint32 {
	end := min(uint64(rva)+maxNameLen, uint64(x.size))
	if x.inRegion(rva) {
		end = min(end, uint64(x.dirRVA)+uint64(x.dirSize))
	}
	return uint32(end)
}

// nameLenHint is the length of name i when the strings lie in name order,
// as link and lld-link write them: the next name's RVA minus this one's,
// less the NUL. The last name ends with the region. 0 when not known.
func (x *exportIndex) nameLenHint(i int) uint32 {
	rva := x.nameRVAs[i]
	next := x.dirRVA + x.dirSize
	if i+1 < len(x.nameRVAs) {
		next = x.nameRVAs[i+1]
	} else if !x.inRegion(rva) {
		return 0
	}
	if next <= rva+1 || next-rva-1 > maxNameLen {
		return 0
	}
	return next - rva - 1
}

// rawName returns name index i, raw (unsanitised, "" when unreadable),
// reading exactly its bytes when their length is known and at most
// nameEnd otherwise.
func (x *exportIndex) rawName(rd imageReader, i int) (string, error) {
	rva := x.nameRVAs[i]
	end := x.nameEnd(rva)
	if rva >= end {
		return "", nil
	}
	n := min(end-rva, nameProbe)
	if h := x.nameLenHint(i); h > 0 {
		n = min(end-rva, h+1)
	}
	b, err := rd(rva, int(n))
	if err != nil {
		return "", err
	}
	if s, ok := cutNUL(b); ok || len(b) < int(n) || n == end-rva {
		return s, nil
	}
	// No NUL where one was expected: read on to the bound.
	if b, err = rd(rva, int(end-rva)); err != nil {
		return "", err
	}
	s, _ := cutNUL(b)
	return s, nil
}

// cutNUL returns b up to its first NUL, and whether there was one.
func cutNUL(b []byte) (string, bool) {
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), true
		}
	}
	return string(b), false
}

// nameOf returns name index i sanitised ("" when empty or unreadable),
// read once.
func (x *exportIndex) nameOf(rd imageReader, i int) (string, error) {
	if s, ok := x.names[i]; ok {
		return s, nil
	}
	raw, err := x.rawName(rd, i)
	if err != nil {
		return "", err
	}
	s := ""
	if raw != "" {
		s = safetext.Sanitize([]byte(raw))
	}
	x.names[i] = s
	return s, nil
}

// below returns the named export nearest at or below rva, reading only
// its name (and those of its aliases: at one address the greatest name
// wins, as in the sorted list). full is true when the answer needs the
// whole list: an empty name, or more aliases than are worth reading.
func (x *exportIndex) below(rd imageReader, rva uint32) (e export, ok, full bool, err error) {
	j := sort.Search(len(x.byAddr), func(k int) bool { return x.funcOf(x.byAddr[k]) > rva }) - 1
	if j < 0 {
		return export{}, false, false, nil
	}
	frva := x.funcOf(x.byAddr[j])
	for k := j; k >= 0 && x.funcOf(x.byAddr[k]) == frva; k-- {
		if j-k >= maxAliases {
			return export{}, false, true, nil
		}
		n, err := x.nameOf(rd, x.byAddr[k])
		if err != nil {
			return export{}, false, false, err
		}
		if n == "" {
			return export{}, false, true, nil
		}
		if !ok || n > e.name {
			e, ok = export{addr: uint64(frva), name: n}, true
		}
	}
	return e, ok, false, nil
}

// all returns every named export (addresses as RVAs), in name order. The
// strings inside the region that are not known yet are read as one range
// first, so that only the bytes not read before go on the wire.
func (x *exportIndex) all(rd imageReader) ([]export, error) {
	lo := x.dirRVA + x.dirSize
	for _, i := range x.byAddr {
		if _, known := x.names[i]; !known && x.inRegion(x.nameRVAs[i]) {
			lo = min(lo, x.nameRVAs[i])
		}
	}
	if end := x.dirRVA + x.dirSize; lo < end {
		if _, err := rd(lo, int(end-lo)); err != nil {
			return nil, err
		}
	}
	var ex []export
	for i := range x.nameRVAs {
		if int(x.ords[i]) >= len(x.funcs) || x.inRegion(x.funcOf(i)) {
			continue
		}
		n, err := x.nameOf(rd, i)
		if err != nil {
			return nil, err
		}
		if n != "" {
			ex = append(ex, export{addr: uint64(x.funcOf(i)), name: n})
		}
	}
	return ex, nil
}
