package console

import (
	"strings"
	"testing"

	"github.com/gokd/kd/internal/commands"
)

// exampleLimits shrink the examples whose whole effect would be slow in a
// unit test (a 64 MiB transfer), keeping their form.
var exampleLimits = map[string]string{"L?4000000": "L?1000"}

// TestEveryExample runs each command's Example, as help and
// docs/commands.md show it, against kdsim, once with --json and once in
// text: every line must give exactly one result object (ok with data, or
// an error with its message), nothing on stderr in JSON, and the text
// renderer must know every result (its fallback prints Go's map syntax).
// A command that lets the target run is followed by CTRL+C.
func TestEveryExample(t *testing.T) {
	t.Chdir(t.TempDir()) // examples write files (.writemem, .logopen)
	for _, c := range commands.Default().List() {
		if c.Names[0] == "q" {
			continue // every session below ends with it
		}
		for _, line := range strings.Split(c.Example, "\n") {
			for old, small := range exampleLimits {
				line = strings.ReplaceAll(line, old, small)
			}
			t.Run(strings.ReplaceAll(line, "/", "∕"), func(t *testing.T) {
				script := line + "\n"
				if c.Resumes {
					script += "\x03\n"
				}
				script += "q\n"

				js := startScript(t, func(cfg *testConfig) { cfg.JSON = true })
				js.send(script)
				js.wait()
				if e := js.errs.String(); e != "" {
					t.Errorf("--json wrote to stderr: %q", e)
				}
				// One result per ;-separated piece, in order.
				var want []string
				for _, p := range commands.Split(line) {
					want = append(want, strings.TrimSpace(p))
				}
				var got []map[string]any
				for _, o := range jsonLines(t, js.out.String()) {
					if o["type"] == "result" && o["command"] != "q" {
						got = append(got, o)
					}
				}
				if len(got) != len(want) {
					t.Fatalf("%d result objects for %q, want %d; output:\n%s", len(got), line, len(want), js.out)
				}
				for i, o := range got {
					if o["ok"] == false {
						t.Logf("%q answers with an error: %v", line, o["error"])
					}
					if o["command"] != want[i] {
						t.Errorf("result %d is for %q, want %q", i, o["command"], want[i])
					}
					switch o["ok"] {
					case true:
					case false:
						if m, _ := o["error"].(string); m == "" {
							t.Errorf("an error result without a message: %v", o)
						}
					default:
						t.Errorf("a result without ok: %v", o)
					}
				}

				tx := startScript(t, func(cfg *testConfig) { cfg.Stderr = cfg.Stdout })
				tx.send(script)
				tx.wait()
				if out := tx.out.String(); strings.Contains(out, "map[") {
					t.Errorf("the text renderer does not know a result of %q (fallback output):\n%s", line, out)
				}
			})
		}
	}
}
