package render

import (
	"testing"
	"time"

	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/kdproto"
)

func TestFormats(t *testing.T) {
	if got := Addr(0xfffff80378806e40); got != "fffff803`78806e40" {
		t.Errorf("fmtAddr = %q", got)
	}
	tm := time.Date(2026, 11, 27, 3, 32, 18, 123e6, time.FixedZone("PST", -8*3600))
	if got := Time(tm); got != "Fri Nov 27 03:32:18.123 2026 (UTC - 8:00)" {
		t.Errorf("fmtTime = %q", got)
	}
	for efl, want := range map[uint64]string{
		0x202: "iopl=0         nv up ei pl nz na po nc",
		0x246: "iopl=0         nv up ei pl zr na pe nc",
		0xc95: "iopl=0         ov dn di ng nz ac pe cy",
	} {
		if got := FlagsText(efl); got != want {
			t.Errorf("FlagsText(%#x) = %q; want %q", efl, got, want)
		}
	}
	for build, want := range map[uint16]string{19041: "Windows 10", 22621: "Windows 10", 7601: "Windows 7", 2600: "Windows XP"} {
		if got := WindowsName(build); got != want {
			t.Errorf("WindowsName(%d) = %q; want %q", build, got, want)
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
	sizes := map[string]int{"db": 1, "dd": 4, "dq": 8}
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
		if got := DumpLine(sizes[tt.f], 16/sizes[tt.f], 0xffffae015ff97664, tt.data, tt.ok); got != tt.want {
			t.Errorf("%s line:\n got %q\nwant %q", tt.f, got, tt.want)
		}
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

func TestInstLine(t *testing.T) {
	tests := []struct {
		in   target.Instruction
		want string
	}{
		{target.Instruction{Addr: 0xfffff80378806e40, Bytes: []byte{0xcc}, Text: "int     3", Len: 1, Valid: true}, "fffff803`78806e40 cc              int     3"},
		{target.Instruction{Addr: 0xfffff80378806e40, Bytes: []byte{0x65, 0x48, 0x8b, 0x04, 0x25, 0x88, 0x01, 0, 0}, Text: "mov     rax,qword ptr gs:[188h]", Len: 9, Valid: true},
			"fffff803`78806e40 65488b042588010000 mov     rax,qword ptr gs:[188h]"},
		{target.Instruction{Addr: 0xfffff80378806e40, Bytes: []byte{0x0f}, Len: 1}, "fffff803`78806e40 0f              ???"},
		{target.Instruction{Addr: 0xfffff80378806e40, Len: 1}, "fffff803`78806e40 ??              ???"},
	}
	for _, tt := range tests {
		if got := InstLine(tt.in); got != tt.want {
			t.Errorf("InstLine(%+v):\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}
