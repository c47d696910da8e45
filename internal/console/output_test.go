package console

import (
	"bytes"
	"testing"
)

func TestOutputTargetText(t *testing.T) {
	var out, errs bytes.Buffer
	o := NewOutput(&out, &errs)
	o.Target([]byte("Hello \x1b[31mred"))
	o.Printf("console line")
	o.Target([]byte(" world\r\n"))
	o.Errorf("bad thing", "do this")
	want := "Hello \\x1b[31mred\nconsole line\n world\n"
	if out.String() != want {
		t.Errorf("stdout = %q; want %q", out.String(), want)
	}
	if errs.String() != "kd: error: bad thing\nkd: hint: do this\n" {
		t.Errorf("stderr = %q", errs.String())
	}

	// At a prompt only whole lines are printed.
	out.Reset()
	o.SetWriters(&out, &errs, true)
	o.Target([]byte("part"))
	if out.Len() != 0 {
		t.Errorf("a partial line was printed at the prompt: %q", out.String())
	}
	o.Target([]byte("ial\nnext"))
	o.SetWriters(&out, &errs, false)
	if out.String() != "partial\nnext" {
		t.Errorf("stdout = %q", out.String())
	}
}
