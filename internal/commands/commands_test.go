package commands

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/commands.md from the command table")

// TestCommandsDoc fails when docs/commands.md no longer matches the
// command table. Regenerate it with:
//
//	go test ./internal/commands -run TestCommandsDoc -update
func TestCommandsDoc(t *testing.T) {
	var b bytes.Buffer
	Default().WriteMarkdown(&b)
	path := filepath.Join("..", "..", "docs", "commands.md")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(have, b.Bytes()) {
		t.Fatalf("docs/commands.md is stale (%v); regenerate it: go test ./internal/commands -run TestCommandsDoc -update", err)
	}
}

func TestCommandTable(t *testing.T) {
	cmds := Default()
	for _, want := range []string{"g", "vertarget", "r", "db", "dd", "dq", ".reboot", ".restart", "q", "help", ".help", "?",
		".logopen", ".logappend", ".logclose", "t", "p", "bp", "bl", "bc", "u", "~s"} {
		if cmds.Find(want) == nil {
			t.Errorf("no command %q", want)
		}
	}
	prev := ""
	groups := map[string]bool{}
	for _, g := range groupOrder {
		groups[g] = true
	}
	for _, c := range cmds.List() {
		if c.Names[0] < prev {
			t.Errorf("table not sorted: %q after %q", c.Names[0], prev)
		}
		prev = c.Names[0]
		if !groups[c.Group] {
			t.Errorf("%s: unknown group %q", c.Names[0], c.Group)
		}
		if c.Summary() == "" || len(c.Syntax()) == 0 {
			t.Errorf("%s: help needs a summary and a syntax line: %q", c.Names[0], c.Help)
		}
		if c.Example == "" {
			t.Errorf("%s: no Example (help CMD and docs/commands.md show one per command)", c.Names[0])
		}
		if strings.HasSuffix(c.Summary(), " ") {
			t.Errorf("%s: summary ends in a blank", c.Names[0])
		}
	}
	if c, args := cmds.Lookup("nosuch x"); c.Run == nil || args != "x" {
		t.Errorf("Lookup of an unknown command = %v, %q", c, args)
	}
}
