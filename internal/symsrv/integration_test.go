package symsrv

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/gokd/kd/internal/pdb"
	"github.com/gokd/kd/internal/pe"
)

// TestImageToPDBThroughServer is the whole path for one module: the RSDS
// record of a real image (testdata/symbols, made by clang and lld-link)
// names its PDB, a symbol server from httptest serves that PDB in store
// layout, kd downloads it once into the cache and checks its GUID and age,
// then finds it in the cache with the server gone.
func TestImageToPDBThroughServer(t *testing.T) {
	img, err := os.ReadFile("../../testdata/symbols/kdtdrv.sys")
	if err != nil {
		t.Fatal(err)
	}
	im, err := pe.Open(bytes.NewReader(img), int64(len(img)), pe.File)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := im.CodeView()
	if err != nil {
		t.Fatal(err)
	}
	pdbBytes, err := os.ReadFile("../../testdata/symbols/" + cv.PDBName())
	if err != nil {
		t.Fatal(err)
	}
	r := Request{Name: cv.PDBName(), Key: cv.Key(), ImageExt: "sys"}
	st := newStore(map[string][]byte{fmt.Sprintf("/symbols/%s/%s/%s", r.Name, r.Key, r.Name): pdbBytes})
	srv := httptest.NewServer(st)
	cache := t.TempDir()
	path := mustParse(t, "srv*"+cache+"*"+srv.URL+"/symbols")
	c, _ := client(t)
	c.Verify = func(p string) error {
		f, err := pdb.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if g := pe.GUID(f.Info().GUID); g != cv.GUID || f.Info().Age != cv.Age {
			return fmt.Errorf("pdb %s age %d does not match the image's %s age %d", g, f.Info().Age, cv.GUID, cv.Age)
		}
		return nil
	}
	got, err := c.Find(context.Background(), path, r)
	if err != nil {
		t.Fatal(err)
	}
	f, err := pdb.Open(got)
	if err != nil {
		t.Fatal(err)
	}
	if key := f.Info().GUID.StoreKey(f.Info().Age); key != cv.Key() {
		t.Errorf("pdb store key %s; image key %s", key, cv.Key())
	}
	f.Close()

	srv.Close()
	again, err := c.Find(context.Background(), path, r)
	if err != nil || again != got {
		t.Fatalf("offline Find = %s, %v; want %s from the cache", again, err, got)
	}
	if n := st.count(fmt.Sprintf("/symbols/%s/%s/%s", r.Name, r.Key, r.Name)); n != 1 {
		t.Errorf("%d downloads; want 1", n)
	}

	// A server that answers with another build's PDB: refused, and not
	// left in the cache.
	other := httptest.NewServer(newStore(map[string][]byte{fmt.Sprintf("/%s/%s/%s", r.Name, r.Key, r.Name): mustRead(t, "../../testdata/symbols/kdtlib.pdb")}))
	defer other.Close()
	cache2 := t.TempDir()
	if _, err := c.Find(context.Background(), mustParse(t, "srv*"+cache2+"*"+other.URL), r); err == nil {
		t.Fatal("a mismatched PDB was accepted")
	}
	if _, err := os.Stat(storeDir(cache2, r, false) + "/" + r.Name); !os.IsNotExist(err) {
		t.Errorf("the mismatched PDB stayed in the cache: %v", err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
