package pe

import (
	"bytes"
	dpe "debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Layout says how an image's RVAs map onto offsets of its reader.
type Layout int

const (
	// Memory is a loaded image: offset 0 is the image base, an RVA is an offset.
	Memory Layout = iota
	// File is an image file: RVAs map to file offsets through the section table.
	File
)

// String names the layout.
func (l Layout) String() string {
	switch l {
	case Memory:
		return "memory"
	case File:
		return "file"
	}
	return fmt.Sprintf("layout(%d)", int(l))
}

// Limits on what an image may make the reader allocate or walk.
const (
	// MaxImageSize is the largest image (and image file) Open accepts.
	MaxImageSize = 1 << 30
	// MaxSections is the most section headers read.
	MaxSections = 96
	// MaxHeaderSize is the most header bytes read at once.
	MaxHeaderSize = 64 << 10
	// MaxNameLen is the longest name (export, forwarder, PDB path) kept.
	MaxNameLen = 1024
)

// Machine types the readers know by name.
const (
	MachineI386  = dpe.IMAGE_FILE_MACHINE_I386
	MachineAMD64 = dpe.IMAGE_FILE_MACHINE_AMD64
	MachineARM64 = dpe.IMAGE_FILE_MACHINE_ARM64
)

// ErrNotPE reports data that does not start with a PE image's headers.
var ErrNotPE = errors.New("not a PE image")

// Section is one entry of the section table.
type Section struct {
	Name            string // up to 8 characters, sanitised
	VirtualAddress  uint32 // RVA of the section
	VirtualSize     uint32
	RawOffset       uint32 // PointerToRawData: file offset of the section's data
	RawSize         uint32 // SizeOfRawData
	Characteristics uint32
}

// Contains reports whether rva falls inside the section once loaded.
func (s Section) Contains(rva uint32) bool {
	size := s.VirtualSize
	if size == 0 {
		size = s.RawSize
	}
	return rva >= s.VirtualAddress && rva-s.VirtualAddress < size
}

// DataDirectory is one entry of the optional header's data directory.
type DataDirectory struct {
	RVA  uint32
	Size uint32
}

// Data directory indexes used by this package.
const (
	DirExport    = dpe.IMAGE_DIRECTORY_ENTRY_EXPORT
	DirException = dpe.IMAGE_DIRECTORY_ENTRY_EXCEPTION
	DirDebug     = dpe.IMAGE_DIRECTORY_ENTRY_DEBUG
)

// Image is an opened PE image. Its header fields are decoded by Open; the
// directories are read on demand by the methods.
type Image struct {
	r      io.ReaderAt
	layout Layout
	limit  int64 // reads never reach at or beyond this offset

	Machine         uint16
	PE32Plus        bool   // optional header magic 0x20B
	TimeDateStamp   uint32 // file header timestamp, also half of the image's symbol-store key
	Characteristics uint16
	ImageBase       uint64 // preferred base from the optional header
	SizeOfImage     uint32
	SizeOfHeaders   uint32
	CheckSum        uint32
	EntryPoint      uint32 // RVA
	Subsystem       uint16
	Sections        []Section
	Directories     []DataDirectory
}

// Open reads the headers of the image in r. size bounds every read: for the
// Memory layout it is the loaded size (the loader's SizeOfImage), for the
// File layout the file's length.
func Open(r io.ReaderAt, size int64, layout Layout) (*Image, error) {
	if layout != Memory && layout != File {
		return nil, fmt.Errorf("unknown image layout %d", int(layout))
	}
	if size <= 0 {
		return nil, fmt.Errorf("image size %d: nothing to read", size)
	}
	if size > MaxImageSize {
		return nil, fmt.Errorf("image size %#x is over the %#x limit", size, MaxImageSize)
	}
	im := &Image{r: r, layout: layout, limit: size}
	dos, err := im.readAt(0, 0x40)
	if err != nil {
		return nil, fmt.Errorf("read dos header: %w", err)
	}
	if dos[0] != 'M' || dos[1] != 'Z' {
		return nil, fmt.Errorf("%w: no MZ signature", ErrNotPE)
	}
	lfanew := int64(binary.LittleEndian.Uint32(dos[0x3C:]))
	if lfanew > MaxHeaderSize {
		return nil, fmt.Errorf("%w: nt headers offset %#x is out of range", ErrNotPE, lfanew)
	}
	nt, err := im.readAt(lfanew, 4+20)
	if err != nil {
		return nil, fmt.Errorf("read nt headers at %#x: %w", lfanew, err)
	}
	if string(nt[:4]) != "PE\x00\x00" {
		return nil, fmt.Errorf("%w: no PE signature at %#x", ErrNotPE, lfanew)
	}
	var fh dpe.FileHeader
	if err := binary.Read(bytes.NewReader(nt[4:]), binary.LittleEndian, &fh); err != nil {
		return nil, fmt.Errorf("decode file header: %w", err)
	}
	im.Machine = fh.Machine
	im.TimeDateStamp = fh.TimeDateStamp
	im.Characteristics = fh.Characteristics
	if fh.NumberOfSections > MaxSections {
		return nil, fmt.Errorf("%d sections is over the limit of %d", fh.NumberOfSections, MaxSections)
	}
	optOff := lfanew + 24
	if err := im.decodeOptional(optOff, int(fh.SizeOfOptionalHeader)); err != nil {
		return nil, err
	}
	secOff := optOff + int64(fh.SizeOfOptionalHeader)
	if err := im.decodeSections(secOff, int(fh.NumberOfSections)); err != nil {
		return nil, err
	}
	if layout == Memory && int64(im.SizeOfImage) > size {
		return nil, fmt.Errorf("headers claim SizeOfImage %#x, more than the %#x bytes mapped", im.SizeOfImage, size)
	}
	return im, nil
}

// decodeOptional decodes the optional header at off.
func (im *Image) decodeOptional(off int64, size int) error {
	if size < 2 {
		return fmt.Errorf("optional header size %d is too small", size)
	}
	b, err := im.readAt(off, size)
	if err != nil {
		return fmt.Errorf("read optional header: %w", err)
	}
	var nDirs uint32
	var dd [16]dpe.DataDirectory
	switch magic := binary.LittleEndian.Uint16(b); magic {
	case 0x20B:
		var oh dpe.OptionalHeader64
		const fixed = 112 // OptionalHeader64 without its DataDirectory array
		if size < fixed {
			return fmt.Errorf("PE32+ optional header is %d bytes, want at least %d", size, fixed)
		}
		if err := decodePadded(b, &oh); err != nil {
			return err
		}
		im.PE32Plus = true
		im.ImageBase = oh.ImageBase
		im.SizeOfImage, im.SizeOfHeaders, im.CheckSum = oh.SizeOfImage, oh.SizeOfHeaders, oh.CheckSum
		im.EntryPoint, im.Subsystem = oh.AddressOfEntryPoint, oh.Subsystem
		nDirs, dd = min(oh.NumberOfRvaAndSizes, uint32(size-fixed)/8), oh.DataDirectory
	case 0x10B:
		var oh dpe.OptionalHeader32
		const fixed = 96
		if size < fixed {
			return fmt.Errorf("PE32 optional header is %d bytes, want at least %d", size, fixed)
		}
		if err := decodePadded(b, &oh); err != nil {
			return err
		}
		im.ImageBase = uint64(oh.ImageBase)
		im.SizeOfImage, im.SizeOfHeaders, im.CheckSum = oh.SizeOfImage, oh.SizeOfHeaders, oh.CheckSum
		im.EntryPoint, im.Subsystem = oh.AddressOfEntryPoint, oh.Subsystem
		nDirs, dd = min(oh.NumberOfRvaAndSizes, uint32(size-fixed)/8), oh.DataDirectory
	default:
		return fmt.Errorf("%w: optional header magic %#x", ErrNotPE, magic)
	}
	// The loader ignores entries past the 16 it knows.
	nDirs = min(nDirs, 16)
	im.Directories = make([]DataDirectory, nDirs)
	for i := range im.Directories {
		im.Directories[i] = DataDirectory{RVA: dd[i].VirtualAddress, Size: dd[i].Size}
	}
	return nil
}

// decodePadded decodes b into the fixed-size header v, zero-filling what b lacks.
func decodePadded(b []byte, v any) error {
	buf := make([]byte, binary.Size(v))
	copy(buf, b)
	if err := binary.Read(bytes.NewReader(buf), binary.LittleEndian, v); err != nil {
		return fmt.Errorf("decode optional header: %w", err)
	}
	return nil
}

// decodeSections decodes n section headers at off.
func (im *Image) decodeSections(off int64, n int) error {
	if n == 0 {
		return nil
	}
	b, err := im.readAt(off, 40*n)
	if err != nil {
		return fmt.Errorf("read section table: %w", err)
	}
	r := bytes.NewReader(b)
	im.Sections = make([]Section, n)
	for i := range im.Sections {
		var sh dpe.SectionHeader32
		if err := binary.Read(r, binary.LittleEndian, &sh); err != nil {
			return fmt.Errorf("decode section header %d: %w", i, err)
		}
		name := sh.Name[:]
		if j := bytes.IndexByte(name, 0); j >= 0 {
			name = name[:j]
		}
		im.Sections[i] = Section{
			Name:            Clean(name),
			VirtualAddress:  sh.VirtualAddress,
			VirtualSize:     sh.VirtualSize,
			RawOffset:       sh.PointerToRawData,
			RawSize:         sh.SizeOfRawData,
			Characteristics: sh.Characteristics,
		}
	}
	return nil
}

// Layout reports how the image is read.
func (im *Image) Layout() Layout { return im.layout }

// Directory returns data directory i, or a zero entry when the image has none.
func (im *Image) Directory(i int) DataDirectory {
	if i < 0 || i >= len(im.Directories) {
		return DataDirectory{}
	}
	return im.Directories[i]
}

// Section returns the section holding rva, if any.
func (im *Image) Section(rva uint32) (Section, bool) {
	for _, s := range im.Sections {
		if s.Contains(rva) {
			return s, true
		}
	}
	return Section{}, false
}

// ImageKey is the symbol-store key of the image file itself: the timestamp
// as eight hex digits followed by SizeOfImage in hex, both upper case.
func (im *Image) ImageKey() string {
	return fmt.Sprintf("%08X%X", im.TimeDateStamp, im.SizeOfImage)
}

// ReadRVA reads n bytes of the loaded image at rva.
func (im *Image) ReadRVA(rva uint32, n int) ([]byte, error) {
	off, err := im.offset(rva, n)
	if err != nil {
		return nil, err
	}
	return im.readAt(off, n)
}

// offset maps [rva, rva+n) to an offset of the reader.
func (im *Image) offset(rva uint32, n int) (int64, error) {
	if n < 0 {
		return 0, fmt.Errorf("negative read length %d", n)
	}
	end := uint64(rva) + uint64(n)
	if im.layout == Memory {
		if end > uint64(im.limit) {
			return 0, fmt.Errorf("rva %#x+%#x is outside the %#x-byte image", rva, n, im.limit)
		}
		return int64(rva), nil
	}
	if end <= uint64(im.SizeOfHeaders) {
		return int64(rva), nil
	}
	for _, s := range im.Sections {
		if rva < s.VirtualAddress || rva-s.VirtualAddress >= s.RawSize {
			continue
		}
		if end-uint64(s.VirtualAddress) > uint64(s.RawSize) {
			return 0, fmt.Errorf("rva %#x+%#x runs past the file data of section %s", rva, n, s.Name)
		}
		return int64(s.RawOffset) + int64(rva-s.VirtualAddress), nil
	}
	return 0, fmt.Errorf("rva %#x is not backed by file data", rva)
}

// readAt reads exactly n bytes at off, within the image's bound.
func (im *Image) readAt(off int64, n int) ([]byte, error) {
	if n < 0 || off < 0 || off > im.limit || int64(n) > im.limit-off {
		return nil, fmt.Errorf("read of %#x bytes at %#x is outside the %#x-byte image", n, off, im.limit)
	}
	b := make([]byte, n)
	got, err := im.r.ReadAt(b, off)
	if got == n {
		return b, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, fmt.Errorf("read %#x bytes at %#x: %w", n, off, err)
}

// Clean turns bytes from an image into text that is safe to print: printable
// ASCII is kept, every other byte becomes \xNN, and the result is cut at
// MaxNameLen bytes of input.
func Clean(b []byte) string {
	if len(b) > MaxNameLen {
		b = b[:MaxNameLen]
	}
	var sb strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7F && c != '\\' {
			sb.WriteByte(c)
			continue
		}
		if c == '\\' {
			sb.WriteByte('\\')
			continue
		}
		fmt.Fprintf(&sb, `\x%02x`, c)
	}
	return sb.String()
}

// cString reads a NUL-terminated string of at most MaxNameLen bytes at rva.
// A string cut by the end of the image or the length limit is an error.
func (im *Image) cString(rva uint32) (string, error) {
	const chunk = 128
	var out []byte
	for len(out) < MaxNameLen {
		n := chunk
		avail, err := im.available(rva + uint32(len(out)))
		if err != nil {
			return "", err
		}
		if avail < n {
			n = avail
		}
		if n == 0 {
			return "", fmt.Errorf("string at rva %#x runs off the image", rva)
		}
		b, err := im.ReadRVA(rva+uint32(len(out)), n)
		if err != nil {
			return "", err
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			return Clean(append(out, b[:i]...)), nil
		}
		out = append(out, b...)
	}
	return "", fmt.Errorf("string at rva %#x is longer than %d bytes", rva, MaxNameLen)
}

// available reports how many bytes can be read from rva onwards in one piece.
func (im *Image) available(rva uint32) (int, error) {
	if im.layout == Memory || uint64(rva) < uint64(im.SizeOfHeaders) {
		lim := im.limit
		if im.layout == File && int64(im.SizeOfHeaders) < lim {
			lim = int64(im.SizeOfHeaders)
		}
		if int64(rva) >= lim {
			return 0, nil
		}
		return int(min(lim-int64(rva), MaxNameLen)), nil
	}
	for _, s := range im.Sections {
		if rva >= s.VirtualAddress && rva-s.VirtualAddress < s.RawSize {
			return int(min(int64(s.RawSize-(rva-s.VirtualAddress)), MaxNameLen)), nil
		}
	}
	return 0, fmt.Errorf("rva %#x is not backed by file data", rva)
}
