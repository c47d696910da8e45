package commands

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// fakeEnv resolves rsp, rax, $t1 and nt!Foo, and holds 0x20 bytes of
// memory at 0x1000 (byte i is 0x10+i) and a pointer at 0x2000.
type fakeEnv struct{ base int }

func (fakeEnv) register(name string) (uint64, bool, error) {
	switch strings.ToLower(name) {
	case "rsp":
		return 0xfffff80014a0ff68, true, nil
	case "rax":
		return 0x10, true, nil
	case "$t1":
		return 0x2000, true, nil
	case "$ip":
		return 0xfffff80010a01035, true, nil
	}
	return 0, false, nil
}

func (fakeEnv) symbol(name string) (uint64, error) {
	if name == "nt!Foo" {
		return 0xfffff80010a01030, nil
	}
	return 0, fmt.Errorf("couldn't resolve error at '%s'", name)
}

func (fakeEnv) memory(addr uint64, size int, phys bool) (uint64, error) {
	var mem [0x20]byte
	for i := range mem {
		mem[i] = byte(0x10 + i)
	}
	var ptr [8]byte
	binary.LittleEndian.PutUint64(ptr[:], 0x1004)
	var src []byte
	switch {
	case phys:
		return 0, fmt.Errorf("no physical memory")
	case addr >= 0x1000 && addr <= 0x1020-uint64(size):
		src = mem[addr-0x1000:]
	case addr == 0x2000:
		src = ptr[:]
	default:
		return 0, fmt.Errorf("memory access error at %x", addr)
	}
	var buf [8]byte
	copy(buf[:], src[:size])
	return binary.LittleEndian.Uint64(buf[:]), nil
}

func (f fakeEnv) radix() int {
	if f.base == 0 {
		return 16
	}
	return f.base
}

func TestEvalExpr(t *testing.T) {
	tests := []struct {
		in    string
		radix int
		want  uint64
		bad   string // part of the error; "" = success
	}{
		// Numbers and radix.
		{"10", 0, 0x10, ""},
		{"0x10", 0, 0x10, ""},
		{"0X1f", 0, 0x1f, ""},
		{"0n10", 0, 10, ""},
		{"0t17", 0, 15, ""},
		{"0y101", 0, 5, ""},
		{"0x", 0, 0, ""},
		{"0n", 0, 0, ""},
		{"1fh", 0, 0x1f, ""},
		{"4aB3H", 0, 0x4ab3, ""},
		{"fffff803`78806e40", 0, 0xfffff80378806e40, ""},
		{"ffffffffffffffff", 0, 0xffffffffffffffff, ""},
		{"1`0000000000000000", 0, 0, "64 bits"},
		{"10", 10, 10, ""},
		{"10", 8, 8, ""},
		{"0x10", 10, 0x10, ""},
		{"10h", 10, 0x10, ""},
		{"19", 8, 0, "bad number"},
		{"0n1f", 0, 0, "bad number"},
		{"0y102", 0, 0, "bad number"},
		{"add", 0, 0xadd, ""},
		// Registers, pseudo-registers, symbols.
		{"@rsp", 0, 0xfffff80014a0ff68, ""},
		{"RSP", 0, 0xfffff80014a0ff68, ""},
		{"rsp+8", 0, 0xfffff80014a0ff70, ""},
		{"rsp - 0n8", 0, 0xfffff80014a0ff60, ""},
		{"@$t1", 0, 0x2000, ""},
		{"$t1", 0, 0x2000, ""},
		{".", 0, 0xfffff80010a01035, ""},
		{". - nt!Foo", 0, 5, ""},
		{"nt!Foo+1", 0, 0xfffff80010a01031, ""},
		{"@nosuch", 0, 0, "bad register"},
		{"@$nosuch", 0, 0, "bad register"},
		{"nosuch", 0, 0, "couldn't resolve"},
		{"@@masm(1+2)", 0, 3, ""},
		{"@@c++(1+2)", 0, 0, "C++"},
		// Unary operators.
		{"-1", 0, 0xffffffffffffffff, ""},
		{"+5", 0, 5, ""},
		{"-(-(-1))", 0, 0xffffffffffffffff, ""},
		{"not 0", 0, 1, ""},
		{"not 5", 0, 0, ""},
		{"not(rax-10)", 0, 1, ""},
		{"hi 12345678", 0, 0x1234, ""},
		{"hi(12345678)", 0, 0x1234, ""},
		{"low 12345678", 0, 0x5678, ""},
		{"low(fffff80012345678)", 0, 0x5678, ""},
		{"by(1001)", 0, 0x11, ""},
		{"wo(1001)", 0, 0x1211, ""},
		{"dwo(1001)", 0, 0x14131211, ""},
		{"qwo(1001)", 0, 0x1817161514131211, ""},
		{"poi(1000)", 0, 0x1716151413121110, ""},
		{"poi $t1", 0, 0x1004, ""},
		{"by(poi(@$t1))", 0, 0x14, ""},
		{"poi(poi(2000))", 0, 0x1b1a191817161514, ""},
		{"poi(3000)", 0, 0, "memory access"},
		{"$pby(1000)", 0, 0, "physical"},
		{"poi", 0, 0, "poi: numeric expression missing"},
		// Binary operators and precedence.
		{"rax*2+1", 0, 0x21, ""},
		{"1+rax*2", 0, 0x21, ""},
		{"(rax+1)*2", 0, 0x22, ""},
		{"0n7/2", 0, 3, ""},
		{"0n7%2", 0, 1, ""},
		{"0n7 mod 2", 0, 1, ""},
		{"0n7 MOD 3", 0, 1, ""},
		{"0n10-3-2", 0, 5, ""},
		{"0n100/0n10/5", 0, 2, ""},
		{"1<<4", 0, 0x10, ""},
		{"1<<4+1", 0, 0x20, ""},
		{"80>>4", 0, 8, ""},
		{"-10>>4", 0, 0x0fffffffffffffff, ""},
		{"-10>>>4", 0, 0xffffffffffffffff, ""},
		{"1<<0n64", 0, 0, ""},
		{"3==3", 0, 1, ""},
		{"3=3", 0, 1, ""},
		{"3!=3", 0, 0, ""},
		{"2<3", 0, 1, ""},
		{"3<2", 0, 0, ""},
		{"-1<0", 0, 0, ""},
		{"3>2", 0, 1, ""},
		{"3<=3", 0, 1, ""},
		{"3>=4", 0, 0, ""},
		{"1+1==2", 0, 1, ""},
		{"6&3", 0, 2, ""},
		{"6 and 3", 0, 2, ""},
		{"6^3", 0, 5, ""},
		{"6 xor 3", 0, 5, ""},
		{"6|3", 0, 7, ""},
		{"6 or 3", 0, 7, ""},
		{"1|2^3&6", 0, 1, ""},
		{"1 or 2 xor 3 and 6", 0, 1, ""},
		{"(1|2)^3&6", 0, 1, ""},
		{"1|(2^3)&6", 0, 1, ""},
		{"(6|2^3)&5", 0, 5, ""},
		{"2<3 and 3<4", 0, 1, ""},
		{"1==1|4", 0, 5, ""},
		{"1+2 << 1", 0, 6, ""},
		{"not 1+1", 0, 1, ""},
		{"-rax+0x20", 0, 0x10, ""},
		{"poi(1000)+1", 0, 0x1716151413121111, ""},
		// Errors.
		{"4/0", 0, 0, "divide by zero"},
		{"4%(2-2)", 0, 0, "divide by zero"},
		{"4 mod 0", 0, 0, "divide by zero"},
		{"1+", 0, 0, "missing"},
		{"(1", 0, 0, "missing ')'"},
		{"1)", 0, 0, "extra characters"},
		{"1 2", 0, 0, "extra characters"},
		{"", 0, 0, "missing"},
		{"1 + #", 0, 0, "unexpected '#'"},
		{"1 order 2", 0, 0, "extra characters"},
	}
	for _, tt := range tests {
		got, err := evalExpr(tt.in, fakeEnv{base: tt.radix})
		switch {
		case tt.bad == "" && (err != nil || got != tt.want):
			t.Errorf("evalExpr(%q, radix %d) = %#x, %v; want %#x", tt.in, tt.radix, got, err, tt.want)
		case tt.bad != "" && (err == nil || !strings.Contains(err.Error(), tt.bad)):
			t.Errorf("evalExpr(%q, radix %d) = %#x, %v; want an error with %q", tt.in, tt.radix, got, err, tt.bad)
		}
	}
}

func TestEvalPrefix(t *testing.T) {
	tests := []struct {
		in, rest string
		want     uint64
	}{
		{"1000 1010", " 1010", 0x1000},
		{"rsp+8 L4", " L4", 0xfffff80014a0ff70},
		{"1 \"cmd\"", " \"cmd\"", 1},
		{"poi(1000) ordinal", " ordinal", 0x1716151413121110},
	}
	for _, tt := range tests {
		v, rest, err := evalPrefix(tt.in, fakeEnv{})
		if err != nil || v != tt.want || rest != tt.rest {
			t.Errorf("evalPrefix(%q) = %#x, %q, %v; want %#x, %q", tt.in, v, rest, err, tt.want, tt.rest)
		}
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in   string
		want rangeArgs
		bad  bool
	}{
		{"", rangeArgs{}, false},
		{"rsp", rangeArgs{addr: 0xfffff80014a0ff68, haveAddr: true}, false},
		{"rsp L4", rangeArgs{addr: 0xfffff80014a0ff68, haveAddr: true, count: 4}, false},
		{"rsp l 0n10", rangeArgs{addr: 0xfffff80014a0ff68, haveAddr: true, count: 10}, false},
		{"1000 L?100", rangeArgs{addr: 0x1000, haveAddr: true, count: 0x100, anySize: true}, false},
		{"1000 1010", rangeArgs{addr: 0x1000, haveAddr: true, end: 0x1010, haveEnd: true}, false},
		{"L8", rangeArgs{count: 8}, false},
		{"rsp L0", rangeArgs{}, true},
		{"1010 1000", rangeArgs{}, true},
	}
	for _, tt := range tests {
		got, err := parseRange(tt.in, fakeEnv{})
		if (err != nil) != tt.bad || !tt.bad && got != tt.want {
			t.Errorf("parseRange(%q) = %+v, %v; want %+v (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestRangeLength(t *testing.T) {
	tests := []struct {
		args string
		size int
		want uint64
		bad  bool
	}{
		{"1000 L10", 1, 0x10, false},
		{"1000 L10", 8, 0x80, false},
		{"1000 1fff", 1, 0x1000, false},
		{"1000 1fff", 4, 0x1000, false},
		{"1000", 1, 0, false},
		{"0 L10000000", 1, 0x10000000, false},
		{"0 L10000001", 1, 0, true},
		{"0 L?10000001", 1, 0x10000001, false},
		{"0 L2000001", 8, 0, true},
		{"0 L?ffffffffffffffff", 8, 0, true},
	}
	for _, tt := range tests {
		r, err := parseRange(tt.args, fakeEnv{})
		if err != nil {
			t.Fatalf("parseRange(%q): %v", tt.args, err)
		}
		got, err := r.length(tt.size, r.addr)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("length(%q, %d) = %#x, %v; want %#x (error %v)", tt.args, tt.size, got, err, tt.want, tt.bad)
		}
	}
}

// $t0-$t19 are kept in the Env; setPseudo (r $t0=...) sets them and only them.
func TestUserPseudoRegisters(t *testing.T) {
	e := &Env{}
	x := exprTarget{context.Background(), e}
	for i := range numUserRegs {
		if err := e.setPseudo(fmt.Sprintf("@$t%d", i), uint64(i)*3); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		expr string
		want uint64
		bad  string
	}{
		{"$t0", 0, ""},
		{"@$t1+$t2", 9, ""},
		{"$T19", 57, ""},
		{"$t20", 0, "bad register"},
		{"$t01", 0, "bad register"},
		{"$t-1", 0, "bad register"},
		{"$exp", 0, ""},
	}
	for _, tt := range tests {
		got, err := evalExpr(tt.expr, x)
		switch {
		case tt.bad == "" && (err != nil || got != tt.want):
			t.Errorf("%s = %#x, %v; want %#x", tt.expr, got, err, tt.want)
		case tt.bad != "" && (err == nil || !strings.Contains(err.Error(), tt.bad)):
			t.Errorf("%s = %#x, %v; want an error with %q", tt.expr, got, err, tt.bad)
		}
	}
	for _, name := range []string{"$t20", "$ip", "rax", "$exp"} {
		if err := e.setPseudo(name, 1); err == nil {
			t.Errorf("setPseudo(%s) succeeded; only $t0-$t19 can be set", name)
		}
	}
	if !isPseudo("@$t0") || !isPseudo("$ip") || isPseudo("rax") {
		t.Error("isPseudo is wrong")
	}
}

// help NAME works for every spelling of every command and shows its
// example.
func TestHelpEverySpelling(t *testing.T) {
	e := &Env{Table: Default()}
	for _, c := range e.Table.List() {
		for _, name := range c.Names {
			res, err := cmdHelp(context.Background(), e, name)
			if err != nil {
				t.Errorf("help %s: %v", name, err)
				continue
			}
			text := res.(Help).Text
			if !strings.HasPrefix(text, strings.Join(c.Names, ", ")+" - ") || !strings.Contains(text, "Example:\n    kd> "+strings.Split(c.Example, "\n")[0]) {
				t.Errorf("help %s does not describe %s with its example:\n%s", name, c.Names[0], text)
			}
		}
	}
	for _, bad := range []string{"nosuch", "nv", "help me"} {
		if _, err := cmdHelp(context.Background(), e, bad); err == nil {
			t.Errorf("help %s succeeded; want an error", bad)
		}
	}
}

// BenchmarkEvalExpr parses and evaluates a typical expression, and the
// longest one a command line can hold.
func BenchmarkEvalExpr(b *testing.B) {
	long := strings.Repeat("1+", maxExprLen/2-1) + "1"
	for _, bc := range []struct{ name, expr string }{
		{"typical", "poi(@$t1) + 0n16 * 2 and 0xfff"},
		{"4096chars", long},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := evalExpr(bc.expr, fakeEnv{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
