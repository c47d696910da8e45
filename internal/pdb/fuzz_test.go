package pdb

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// The fuzz targets feed hostile bytes to each parser. The property is
// the package's promise: an error or a result, never a panic, a hang or
// an allocation out of proportion to the input. Seeds are in
// testdata/fuzz/FuzzX, made from the synthetic and the clang-built PDBs;
// TestFuzzCorpus checks they are current (go test -update rewrites them).

func FuzzMSF(f *testing.F) {
	f.Add(smallSynth().build())
	f.Fuzz(func(t *testing.T, data []byte) {
		pdb, err := openBytes(data)
		if err != nil {
			return
		}
		defer pdb.Close()
		exercise(pdb)
	})
}

func FuzzDBI(f *testing.F) {
	f.Add([]byte(smallSynthStream(streamDBI)))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseDBI(data)
		if err != nil {
			return
		}
		for i := range 12 {
			d.dbgStream(i)
		}
		parseSections(data)
		parseOMAP(data)
	})
}

func FuzzSymbolRecords(f *testing.F) {
	s := smallSynth()
	f.Add([]byte(s.symRec))
	f.Add([]byte(le(nil).u32(4).append(s.module)))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		add := func(s Symbol, seg uint16, off uint32) {
			n++
			if len(s.Name) > len(data) {
				t.Fatalf("name of %d bytes from %d bytes of input", len(s.Name), len(data))
			}
		}
		scanGlobals(data, add)
		scanModule(data, add)
		if offs, err := gsiOffsets(data, "fuzz"); err == nil {
			scanIndexed(data, offs, add)
		}
		if offs, err := publicOffsets(data); err == nil {
			scanIndexed(data, offs, add)
		}
		if n > len(data)*3 {
			t.Fatalf("%d symbols from %d bytes", n, len(data))
		}
	})
}

func FuzzTPI(f *testing.F) {
	f.Add([]byte(smallSynth().tpiStream()))
	f.Fuzz(func(t *testing.T, data []byte) {
		tp, err := parseTPI(data)
		if err != nil {
			return
		}
		for i := range min(len(tp.offsets), 256) {
			ti := TypeIndex(tpiFirst + i)
			tp.decode(ti)
			tp.resolve(ti)
			tp.cName(ti)
			tp.dtName(ti)
			tp.newLayout(ti, 3)
		}
	})
}

// smallSynthStream returns one stream of the small synthetic PDB.
func smallSynthStream(i int) []byte {
	f, err := openBytes(smallSynth().build())
	if err != nil {
		panic(err)
	}
	b, err := f.msf.stream(i, "test")
	if err != nil {
		panic(err)
	}
	return append([]byte(nil), b...)
}

// TestFuzzCorpus checks the committed seed corpora are those the
// current builders and test PDBs give; -update rewrites them.
func TestFuzzCorpus(t *testing.T) {
	real, err := Open(filepath.Join(symbolsDir(), "kdtlib.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	stream := func(f *File, i int) []byte {
		b, err := f.msf.stream(i, "corpus")
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte(nil), b...)
	}
	s := smallSynth()
	withOMAP := smallSynth()
	withOMAP.omap = []omapEntry{{0x1000, 0x5000}, {0x1030, 0}}
	mod := real.dbi.modules[0]
	corpus := map[string][][]byte{
		"FuzzMSF": {s.build(), withOMAP.build(), s.build()[:1500]},
		"FuzzDBI": {smallSynthStream(streamDBI), stream(real, streamDBI)},
		"FuzzSymbolRecords": {s.symRec, le(nil).u32(4).append(s.module), stream(real, int(real.dbi.symRecords)), stream(real, int(mod.symStream)),
			stream(real, int(real.dbi.globals)), stream(real, int(real.dbi.publics))},
		"FuzzTPI": {s.tpiStream(), stream(real, streamTPI)},
	}
	for name, seeds := range corpus {
		dir := filepath.Join("testdata", "fuzz", name)
		for i, b := range seeds {
			path := filepath.Join(dir, fmt.Sprintf("seed%02d", i))
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if *update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if have, err := os.ReadFile(path); err != nil || string(have) != body {
				t.Errorf("%s is missing or stale (go test -run TestFuzzCorpus -update)", path)
			}
		}
	}
}
