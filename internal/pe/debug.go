package pe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Debug directory entry types this package names.
const (
	DebugTypeCodeView = 2  // IMAGE_DEBUG_TYPE_CODEVIEW
	DebugTypeRepro    = 16 // IMAGE_DEBUG_TYPE_REPRO
)

// maxDebugEntries bounds the debug directory; real images have a handful.
const maxDebugEntries = 64

// ErrNoCodeView reports an image without a CodeView debug record.
var ErrNoCodeView = errors.New("image has no codeview debug record")

// DebugEntry is one IMAGE_DEBUG_DIRECTORY entry.
type DebugEntry struct {
	TimeDateStamp    uint32
	MajorVersion     uint16
	MinorVersion     uint16
	Type             uint32
	SizeOfData       uint32
	AddressOfRawData uint32 // RVA of the data when it is mapped, else 0
	PointerToRawData uint32 // file offset of the data
}

// DebugDirectory reads the debug directory entries.
func (im *Image) DebugDirectory() ([]DebugEntry, error) {
	dd := im.Directory(DirDebug)
	if dd.RVA == 0 || dd.Size == 0 {
		return nil, nil
	}
	n := int(dd.Size / 28)
	if n > maxDebugEntries {
		return nil, fmt.Errorf("debug directory has %d entries, over the limit of %d", n, maxDebugEntries)
	}
	b, err := im.ReadRVA(dd.RVA, 28*n)
	if err != nil {
		return nil, fmt.Errorf("read debug directory: %w", err)
	}
	le := binary.LittleEndian
	out := make([]DebugEntry, n)
	for i := range out {
		e := b[28*i:]
		out[i] = DebugEntry{
			TimeDateStamp:    le.Uint32(e[4:]),
			MajorVersion:     le.Uint16(e[8:]),
			MinorVersion:     le.Uint16(e[10:]),
			Type:             le.Uint32(e[12:]),
			SizeOfData:       le.Uint32(e[16:]),
			AddressOfRawData: le.Uint32(e[20:]),
			PointerToRawData: le.Uint32(e[24:]),
		}
	}
	return out, nil
}

// GUID is a GUID as its 16 bytes are stored: Data1 (u32), Data2 and Data3
// (u16) little-endian, then Data4's 8 bytes.
type GUID [16]byte

// String formats g as {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}.
func (g GUID) String() string {
	le := binary.LittleEndian
	return fmt.Sprintf("{%08X-%04X-%04X-%02X%02X-%X}", le.Uint32(g[0:]), le.Uint16(g[4:]), le.Uint16(g[6:]), g[8], g[9], g[10:16])
}

// Hex is the GUID as 32 upper-case hex digits with Data1-3 printed as numbers,
// the form symbol stores use.
func (g GUID) Hex() string {
	le := binary.LittleEndian
	return fmt.Sprintf("%08X%04X%04X%X", le.Uint32(g[0:]), le.Uint16(g[4:]), le.Uint16(g[6:]), g[8:16])
}

// CodeView is an RSDS ("PDB 7.0") record: what PDB matches the image.
type CodeView struct {
	GUID GUID
	Age  uint32
	Path string // PDB path as the linker wrote it, sanitised
}

// PDBName is the file-name part of the PDB path, split on both kinds of slash.
func (cv CodeView) PDBName() string {
	p := cv.Path
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		p = p[i+1:]
	}
	return p
}

// Key is the symbol-store key of the PDB: GUID hex digits then the age in
// hex without padding, as in drv.pdb/9E69679735E3CCB74C4C44205044422E1/drv.pdb.
func (cv CodeView) Key() string {
	return fmt.Sprintf("%s%X", cv.GUID.Hex(), cv.Age)
}

// CodeView finds the CodeView entry of the debug directory and decodes its
// RSDS record. An image without one gives ErrNoCodeView.
func (im *Image) CodeView() (CodeView, error) {
	entries, err := im.DebugDirectory()
	if err != nil {
		return CodeView{}, err
	}
	for _, e := range entries {
		if e.Type != DebugTypeCodeView {
			continue
		}
		return im.decodeCodeView(e)
	}
	return CodeView{}, ErrNoCodeView
}

// decodeCodeView reads and decodes the record e points at.
func (im *Image) decodeCodeView(e DebugEntry) (CodeView, error) {
	if e.SizeOfData < 24 {
		return CodeView{}, fmt.Errorf("codeview record is %d bytes, too short for RSDS", e.SizeOfData)
	}
	size := int(min(e.SizeOfData, 24+MaxNameLen+1))
	var b []byte
	var err error
	switch {
	case im.layout == File && e.PointerToRawData != 0:
		b, err = im.readAt(int64(e.PointerToRawData), size)
	case e.AddressOfRawData != 0:
		b, err = im.ReadRVA(e.AddressOfRawData, size)
	default:
		return CodeView{}, errors.New("codeview record is not mapped into the loaded image")
	}
	if err != nil {
		return CodeView{}, fmt.Errorf("read codeview record: %w", err)
	}
	switch string(b[:4]) {
	case "RSDS":
	case "NB10":
		return CodeView{}, errors.New("codeview record is NB10 (PDB 2.0), which is not supported")
	default:
		return CodeView{}, fmt.Errorf("codeview record has unknown signature %q", Clean(b[:4]))
	}
	var cv CodeView
	copy(cv.GUID[:], b[4:20])
	cv.Age = binary.LittleEndian.Uint32(b[20:])
	name := b[24:]
	for i, c := range name {
		if c == 0 {
			name = name[:i]
			break
		}
	}
	cv.Path = Clean(name)
	return cv, nil
}
