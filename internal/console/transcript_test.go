package console

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var updateTranscripts = flag.Bool("update", false, "rewrite the golden transcripts in testdata/transcripts")

// TestTranscripts runs every testdata/transcripts/NAME.kd script against
// the embedded simulator (seed 1, stopped at the initial breakpoint, a
// fixed clock) and compares what kd printed, standard output and error
// interleaved as a user sees them, with NAME.golden. Each command group
// keeps at least one transcript here; regenerate after a deliberate
// change with:
//
//	go test ./internal/console -run TestTranscripts -update
//
// A script's leading "$$ kd: WORD" lines select options: "pdb" takes
// names and types from kdsim's PDBs through a symbol store (its temporary
// path shows as $STORE). The script ends with q when it does not already.
func TestTranscripts(t *testing.T) {
	scripts, err := filepath.Glob(filepath.Join("testdata", "transcripts", "*.kd"))
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) == 0 {
		t.Fatal("no transcripts in testdata/transcripts")
	}
	for _, path := range scripts {
		name := strings.TrimSuffix(filepath.Base(path), ".kd")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := runTranscript(t, string(src))
			golden := strings.TrimSuffix(path, ".kd") + ".golden"
			if *updateTranscripts {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (create it with -update)", err)
			}
			if got != string(want) {
				t.Errorf("transcript %s differs from %s (run with -update after a deliberate change):\n%s", name, golden, lineDiff(string(want), got))
			}
		})
	}
}

// runTranscript runs one script and returns the screen.
func runTranscript(t *testing.T, src string) string {
	t.Helper()
	opts := []option{func(c *testConfig) { c.Stderr = c.Stdout }}
	store := ""
	for _, l := range strings.Split(src, "\n") {
		word, ok := strings.CutPrefix(strings.TrimSpace(l), "$$ kd:")
		if !ok {
			break
		}
		switch w := strings.TrimSpace(word); w {
		case "pdb":
			opt, ss := withSimSymbols(t)
			opts = append(opts, opt)
			store = ss.dir
		default:
			t.Fatalf("unknown transcript option %q", w)
		}
	}
	if !strings.HasSuffix(src, "\n") {
		src += "\n"
	}
	if last := lastLine(src); last != "q" {
		src += "q\n"
	}
	ts := startScript(t, opts...)
	ts.send(src)
	ts.wait()
	out := ts.out.String()
	if store != "" {
		out = strings.ReplaceAll(out, store, "$STORE")
	}
	return out
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl + "\n")
			shown++
		}
	}
	return b.String()
}
