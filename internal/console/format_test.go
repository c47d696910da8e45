package console

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/arch/x86/x86asm"

	"github.com/gokd/kd/kdproto"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text\n", "plain text\n"},
		{"tab\tok\r\n", "tab\tok\n"},
		{"\x1b[2J\x1b]0;owned\x07", `\x1b[2J\x1b]0;owned\x07`},
		{"cr\ronly", `cr\x0donly`},
		{"del\x7f", `del\x7f`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"ünïcode ok", "ünïcode ok"},
	}
	for _, tt := range tests {
		if got := Sanitize([]byte(tt.in)); got != tt.want {
			t.Errorf("Sanitize(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestBoundLines(t *testing.T) {
	col := 0
	long := strings.Repeat("é", MaxLineLen) // 2 bytes each
	got := strings.Split(boundLines(long+"\nshort", &col), "\n")
	if len(got) != 3 || len(got[0]) != MaxLineLen || got[0]+got[1] != long || got[2] != "short" || col != 5 {
		t.Errorf("boundLines: %d lines, col %d", len(got), col)
	}
}

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

func TestFormats(t *testing.T) {
	if got := fmtAddr(0xfffff80378806e40); got != "fffff803`78806e40" {
		t.Errorf("fmtAddr = %q", got)
	}
	tm := time.Date(2026, 11, 27, 3, 32, 18, 123e6, time.FixedZone("PST", -8*3600))
	if got := fmtTime(tm); got != "Fri Nov 27 03:32:18.123 2026 (UTC - 8:00)" {
		t.Errorf("fmtTime = %q", got)
	}
	for v, want := range map[uint64]string{3: "3", 0x10: "10h", 0xff: "0FFh", 0x28: "28h"} {
		if got := fmtHex(v); got != want {
			t.Errorf("fmtHex(%#x) = %q; want %q", v, got, want)
		}
	}
	for efl, want := range map[uint64]string{
		0x202: "iopl=0         nv up ei pl nz na po nc",
		0x246: "iopl=0         nv up ei pl zr na pe nc",
		0xc95: "iopl=0         ov dn di ng nz ac pe cy",
	} {
		if got := flagsText(efl); got != want {
			t.Errorf("flagsText(%#x) = %q; want %q", efl, got, want)
		}
	}
	for build, want := range map[uint16]string{19041: "Windows 10", 22621: "Windows 10", 7601: "Windows 7", 2600: "Windows XP"} {
		if got := windowsName(build); got != want {
			t.Errorf("windowsName(%d) = %q; want %q", build, got, want)
		}
	}
}

func TestDumpLine(t *testing.T) {
	all := func(n int) []bool {
		b := make([]bool, n)
		for i := range b {
			b[i] = true
		}
		return b
	}
	data := []byte("\x00\x80\xbc\xff\x18\x00\x00\x00\x00\x00\x00\x00\x08P\xe0Q")
	tests := []struct {
		f    string
		data []byte
		ok   []bool
		want string
	}{
		{"db", data, all(16), "ffffae01`5ff97664  00 80 bc ff 18 00 00 00-00 00 00 00 08 50 e0 51  .............P.Q"},
		{"db", data[:1], all(1), "ffffae01`5ff97664  00                                               ."},
		{"db", data[:10], append(all(9), false), "ffffae01`5ff97664  00 80 bc ff 18 00 00 00-00 ??                    .........?"},
		{"dd", data, all(16), "ffffae01`5ff97664  ffbc8000 00000018 00000000 51e05008"},
		{"dd", data[:8], []bool{true, true, true, false, true, true, true, true}, "ffffae01`5ff97664  ???????? 00000018"},
		{"dq", data, all(16), "ffffae01`5ff97664  00000018`ffbc8000 51e05008`00000000"},
		{"dq", data[:8], append(all(7), false), "ffffae01`5ff97664  ????????`????????"},
	}
	for _, tt := range tests {
		if got := dumpLine(dumpFormats[tt.f], 0xffffae015ff97664, tt.data, tt.ok); got != tt.want {
			t.Errorf("%s line:\n got %q\nwant %q", tt.f, got, tt.want)
		}
	}
}

func TestDisasmLine(t *testing.T) {
	c := New(Config{})
	tests := []struct {
		code []byte
		want string
	}{
		{[]byte{0xcc}, "fffff803`78806e40 cc              int     3"},
		{[]byte{0x48, 0x8b, 0x48, 0x10}, "fffff803`78806e40 488b4810        mov     rcx,qword ptr [rax+10h]"},
		{[]byte{0x48, 0x83, 0xec, 0x28}, "fffff803`78806e40 4883ec28        sub     rsp,28h"},
		{[]byte{0xc3}, "fffff803`78806e40 c3              ret"},
		{[]byte{0x65, 0x48, 0x8b, 0x04, 0x25, 0x88, 0x01, 0, 0}, "fffff803`78806e40 65488b042588010000 mov     rax,qword ptr gs:[188h]"},
		{[]byte{0xe8, 0x10, 0, 0, 0}, "fffff803`78806e40 e810000000      call    fffff803`78806e55"},
		{[]byte{0xeb, 0xfe}, "fffff803`78806e40 ebfe            jmp     fffff803`78806e40"},
		{[]byte{0xff, 0x05, 0x10, 0, 0, 0}, "fffff803`78806e40 ff0510000000    inc     dword ptr [fffff803`78806e56]"},
		{[]byte{0x0f, 0x0b}, "fffff803`78806e40 0f0b            ud2"},
		{[]byte{0x0f}, "fffff803`78806e40 0f              ???"},
	}
	for _, tt := range tests {
		got, _ := c.disasmLine(context.Background(), nil, 0xfffff80378806e40, tt.code)
		if got != tt.want {
			t.Errorf("disasm % x:\n got %q\nwant %q", tt.code, got, tt.want)
		}
	}
	if _, err := x86asm.Decode([]byte{0x90}, 64); err != nil {
		t.Fatal(err)
	}
}

func TestRegisterLayout(t *testing.T) {
	cx := kdproto.NewAMD64Context()
	for n, v := range map[string]uint64{"rax": 0xc301, "r8": 0x3e, "rip": 0xfffff803bb757020, "cs": 0x10, "efl": 0x202} {
		cx.Set(n, v)
	}
	if got := fmtReg(cx, "r8", true); got != " r8=000000000000003e" {
		t.Errorf("aligned r8 = %q", got)
	}
	if got := fmtReg(cx, "rax", false); got != "rax=000000000000c301" {
		t.Errorf("rax = %q", got)
	}
	if got := fmtReg(cx, "cs", false); got != "cs=0010" {
		t.Errorf("cs = %q", got)
	}
}
