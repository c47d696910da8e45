package pe

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// MaxExports is the most export address table entries or names read.
const MaxExports = 1 << 16

// maxExportNameBytes bounds the names of one export directory together
// (ntoskrnl's come to under 100 KB).
const maxExportNameBytes = 16 << 20

// Export is one exported function or variable.
type Export struct {
	Name      string // "" when exported by ordinal only
	Ordinal   uint32 // the biased ordinal: the directory's Base plus the table index
	RVA       uint32 // 0 for a forwarder
	Forwarder string // "DLL.Name" or "DLL.#Ordinal" when the export is forwarded
}

// Exports is an image's export directory.
type Exports struct {
	DLLName       string // the name the image was linked as
	TimeDateStamp uint32
	Base          uint32   // ordinal of the first address table entry
	List          []Export // named exports first, in name-table order, then ordinal-only ones
}

// Exports reads the export directory. An image without one gives an empty
// Exports and no error.
func (im *Image) Exports() (*Exports, error) {
	dd := im.Directory(DirExport)
	if dd.RVA == 0 || dd.Size == 0 {
		return &Exports{}, nil
	}
	hdr, err := im.ReadRVA(dd.RVA, 40)
	if err != nil {
		return nil, fmt.Errorf("read export directory: %w", err)
	}
	le := binary.LittleEndian
	ex := &Exports{TimeDateStamp: le.Uint32(hdr[4:]), Base: le.Uint32(hdr[16:])}
	nFuncs, nNames := le.Uint32(hdr[20:]), le.Uint32(hdr[24:])
	funcsRVA, namesRVA, ordsRVA := le.Uint32(hdr[28:]), le.Uint32(hdr[32:]), le.Uint32(hdr[36:])
	if nFuncs > MaxExports || nNames > MaxExports {
		return nil, fmt.Errorf("export directory lists %d functions and %d names, over the limit of %d", nFuncs, nNames, MaxExports)
	}
	if nNames > nFuncs {
		return nil, fmt.Errorf("export directory has %d names for %d functions", nNames, nFuncs)
	}
	if nameRVA := le.Uint32(hdr[12:]); nameRVA != 0 {
		if ex.DLLName, err = im.cString(nameRVA); err != nil {
			return nil, fmt.Errorf("read export dll name: %w", err)
		}
	}
	funcs, err := im.ReadRVA(funcsRVA, int(nFuncs)*4)
	if err != nil {
		return nil, fmt.Errorf("read export address table: %w", err)
	}
	names, err := im.ReadRVA(namesRVA, int(nNames)*4)
	if err != nil {
		return nil, fmt.Errorf("read export name table: %w", err)
	}
	ords, err := im.ReadRVA(ordsRVA, int(nNames)*2)
	if err != nil {
		return nil, fmt.Errorf("read export ordinal table: %w", err)
	}
	named := make([]bool, nFuncs)
	nameBytes := 0
	export := func(idx uint32, name string) (Export, error) {
		e := Export{Name: name, Ordinal: ex.Base + idx, RVA: le.Uint32(funcs[4*idx:])}
		// An address inside the export directory is a forwarder string.
		if e.RVA >= dd.RVA && e.RVA-dd.RVA < dd.Size {
			fw, err := im.cString(e.RVA)
			if err != nil {
				return e, fmt.Errorf("read forwarder of export %d: %w", e.Ordinal, err)
			}
			e.RVA, e.Forwarder = 0, fw
		}
		return e, nil
	}
	for i := uint32(0); i < nNames; i++ {
		idx := uint32(le.Uint16(ords[2*i:]))
		if idx >= nFuncs {
			return nil, fmt.Errorf("export name %d points at ordinal index %d of %d", i, idx, nFuncs)
		}
		name, err := im.cString(le.Uint32(names[4*i:]))
		if err != nil {
			return nil, fmt.Errorf("read export name %d: %w", i, err)
		}
		if nameBytes += len(name); nameBytes > maxExportNameBytes {
			return nil, fmt.Errorf("export names exceed %d bytes", maxExportNameBytes)
		}
		e, err := export(idx, name)
		if err != nil {
			return nil, err
		}
		named[idx] = true
		ex.List = append(ex.List, e)
	}
	for idx := uint32(0); idx < nFuncs; idx++ {
		if named[idx] || le.Uint32(funcs[4*idx:]) == 0 {
			continue // unused slots in the address table are zero
		}
		e, err := export(idx, "")
		if err != nil {
			return nil, err
		}
		ex.List = append(ex.List, e)
	}
	return ex, nil
}

// ByAddress returns the exports that have an address (no forwarders),
// sorted by RVA and then by name.
func (ex *Exports) ByAddress() []Export {
	var out []Export
	for _, e := range ex.List {
		if e.Forwarder == "" {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].RVA != out[j].RVA {
			return out[i].RVA < out[j].RVA
		}
		return out[i].Name < out[j].Name
	})
	return out
}
