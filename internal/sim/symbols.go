package sim

import (
	"context"
	"embed"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// symbolID is the identity of one module's PDB.
type symbolID struct {
	guid [16]byte
	age  uint32
}

// symbolFiles are the simulated modules' PDBs (ntkrnlmp.pdb, hal.pdb,
// kdcom.pdb, simdrv.pdb), built from the simulator's own code by
// TestSymbolFiles -gensyms with clang and lld-link.
//
//go:embed testdata/symbols/*.pdb
var symbolFiles embed.FS

// SymbolFiles returns the simulated modules' PDBs, by file name.
func SymbolFiles() fs.FS {
	sub, err := fs.Sub(symbolFiles, "testdata/symbols")
	if err != nil {
		panic(err) // the embedded tree is static
	}
	return sub
}

// WriteSymbolStore writes the simulated modules' PDBs under dir in symbol
// store layout (NAME/GUIDAGE/NAME), so that a symbol path naming dir (a
// plain directory or srv*dir) finds them, and returns dir. Files already
// there are left alone.
func WriteSymbolStore(dir string) (string, error) {
	for name, id := range symbolIDs {
		var pdbName string
		for _, md := range moduleNames {
			if md[0] == name {
				pdbName = md[1]
			}
		}
		if pdbName == "" {
			continue
		}
		b, err := symbolFiles.ReadFile("testdata/symbols/" + pdbName)
		if err != nil {
			return "", err
		}
		d := filepath.Join(dir, pdbName, id.key())
		p := filepath.Join(d, pdbName)
		if fi, err := os.Stat(p); err == nil && fi.Size() == int64(len(b)) {
			continue
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
		tmp, err := os.CreateTemp(d, ".kdsim-*")
		if err != nil {
			return "", err
		}
		_, werr := tmp.Write(b)
		cerr := tmp.Close()
		if werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Rename(tmp.Name(), p)
		}
		if werr != nil {
			_ = os.Remove(tmp.Name())
			return "", werr
		}
	}
	return dir, nil
}

// moduleNames pairs each module with its PDB file name.
var moduleNames = [][2]string{{"nt", "ntkrnlmp.pdb"}, {"hal", "hal.pdb"}, {"kdcom", "kdcom.pdb"}, {"simdrv", "simdrv.pdb"}}

// key is the symbol store key: the GUID's 32 hex digits (Data1-3 as
// numbers) and the age in hex.
func (id symbolID) key() string {
	g := id.guid
	return fmt.Sprintf("%08X%04X%04X%X%X", binary.LittleEndian.Uint32(g[0:]), binary.LittleEndian.Uint16(g[4:]),
		binary.LittleEndian.Uint16(g[6:]), g[8:10], g[10:16]) + fmt.Sprintf("%X", id.age)
}

// DefaultSymbolsDir is where kdsim's PDBs are written for kd: the user's
// cache directory plus kd/kdsim-symbols (the system's temporary directory
// when there is no cache directory).
func DefaultSymbolsDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "kd", "kdsim-symbols")
}

// EmbeddedSymbols finds the simulator's own PDBs for kd -k sim: a PDB is
// found when its name and key are those of one of the simulated modules,
// written under Dir in store layout on first use. It is the symbol path
// of the embedded simulator, not a general symbol store.
type EmbeddedSymbols struct{ Dir string }

// Find returns the path of the embedded PDB name with key.
func (e EmbeddedSymbols) Find(_ context.Context, name, key, _ string) (string, error) {
	for _, mn := range moduleNames {
		id, ok := symbolIDs[mn[0]]
		if !ok || !strings.EqualFold(mn[1], name) || id.key() != strings.ToUpper(key) {
			continue
		}
		if _, err := WriteSymbolStore(e.Dir); err != nil {
			return "", fmt.Errorf("writing kdsim's PDBs to %s: %w", e.Dir, err)
		}
		return filepath.Join(e.Dir, mn[1], id.key(), mn[1]), nil
	}
	return "", fmt.Errorf("%s (key %s) is not one of kdsim's PDBs", name, key)
}

// String describes the path for .sympath and the connection banner.
func (e EmbeddedSymbols) String() string { return "kdsim's embedded PDBs (" + e.Dir + ")" }
