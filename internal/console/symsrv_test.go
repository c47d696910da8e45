package console

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/symsrv"
)

// TestSymbolServerDownloadOnceThenOffline serves the simulator's PDBs from
// an httptest symbol server: kd downloads each PDB it needs once into the
// cache; a second session with the server gone loads them from the cache.
func TestSymbolServerDownloadOnceThenOffline(t *testing.T) {
	store, err := sim.WriteSymbolStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var pdbGets atomic.Int32
	var mu sync.Mutex
	gets := map[string]int{}
	files := http.FileServer(http.Dir(store))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".pdb") {
			pdbGets.Add(1)
			mu.Lock()
			gets[r.URL.Path]++
			mu.Unlock()
		}
		files.ServeHTTP(w, r)
	}))
	cache := t.TempDir()
	run := func(path string, client *http.Client) string {
		t.Helper()
		p, err := symsrv.Parse(path)
		if err != nil {
			t.Fatal(err)
		}
		ts := startScript(t, func(c *testConfig) {
			c.NoSimSymbols = true
			c.SymbolSearch = &commands.SymPath{Path: p, Client: &symsrv.Client{HTTP: client, DefaultCache: cache}}
		})
		ts.send("x simdrv!SimDrv*\nlm m simdrv\n.reload /f simdrv\nq\n")
		if st := ts.wait(); st != ExitOK {
			t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
		}
		return ts.out.String()
	}
	out := run("srv*"+cache+"*"+srv.URL, srv.Client())
	mu.Lock()
	for p, n := range gets {
		if n != 1 {
			t.Errorf("%s downloaded %d times, want once", p, n)
		}
	}
	first := len(gets)
	mu.Unlock()
	if first != 2 { // nt (the stop location) and simdrv
		t.Errorf("downloads: %v, want ntkrnlmp.pdb and simdrv.pdb", gets)
	}
	if !strings.Contains(out, "simdrv!SimDrvTickCount = <unsigned long>") || !strings.Contains(out, "(private pdb symbols)  "+cache) {
		t.Errorf("first session:\n%s", out)
	}
	matches, _ := filepath.Glob(filepath.Join(cache, "simdrv.pdb", "*", "simdrv.pdb"))
	if len(matches) != 1 {
		t.Fatalf("cache holds %v", matches)
	}
	srv.Close()
	out = run("srv*"+cache+"*"+srv.URL, http.DefaultClient)
	if n := pdbGets.Load(); n != int32(first) {
		t.Errorf("the second session downloaded again (%d gets)", n)
	}
	if !strings.Contains(out, "simdrv!SimDrvTickCount = <unsigned long>") {
		t.Errorf("offline session:\n%s", out)
	}
	if _, err := os.Stat(matches[0]); err != nil {
		t.Error(err)
	}
}

// TestScriptSympath sets the symbol path at the prompt: .sympath shows it,
// .sympath srv*STORE makes x find the PDB there, .sympath+ appends,
// .symfix+ adds Microsoft's server (nothing is searched after it).
func TestScriptSympath(t *testing.T) {
	store, err := sim.WriteSymbolStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	ts := startScript(t, func(c *testConfig) { c.NoSimSymbols = true })
	ts.send(".sympath\n.sympath srv*" + store + "\n.reload\nx simdrv!SimDrvState\n.sympath+ " + other + "\n.symfix+ " + other + "\nq\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	out := ts.out.String()
	for _, want := range []string{
		"Symbol search path is: <empty>\n",
		"Symbol search path is: srv*" + store + "\n",
		"simdrv!SimDrvState = <enum _SIM_STATE>\n",
		"Symbol search path is: srv*" + store + ";" + other + "\n",
		"https://msdl.microsoft.com/download/symbols",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}
