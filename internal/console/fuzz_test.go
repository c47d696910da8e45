package console

import (
	"errors"
	"strings"
	"testing"
)

func TestScriptLineTooLongIsSkipped(t *testing.T) {
	in := NewScriptInput(strings.NewReader(strings.Repeat("x", 1<<20) + "\nr\n"))
	_ = in.Start(nil)
	if _, err := in.ReadLine(""); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("ReadLine of a 1 MiB line: err = %v; want ErrLineTooLong", err)
	}
	if line, err := in.ReadLine(""); err != nil || line != "r" {
		t.Fatalf("next line = %q, %v; want \"r\"", line, err)
	}
	ok := strings.Repeat("y", MaxCommandLen)
	in = NewScriptInput(strings.NewReader(ok + "\r\n"))
	_ = in.Start(nil)
	if line, err := in.ReadLine(""); err != nil || line != ok {
		t.Fatalf("a %d-character line: err = %v", MaxCommandLen, err)
	}
}
