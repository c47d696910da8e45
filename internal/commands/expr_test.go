package commands

import (
	"fmt"
	"testing"
)

// fakeEnv resolves rsp, rax and nt!Foo.
type fakeEnv struct{}

func (fakeEnv) register(name string) (uint64, bool, error) {
	switch name {
	case "rsp":
		return 0xfffff80014a0ff68, true, nil
	case "rax":
		return 0x10, true, nil
	}
	return 0, false, nil
}

func (fakeEnv) symbol(name string) (uint64, error) {
	if name == "nt!Foo" {
		return 0xfffff80010a01030, nil
	}
	return 0, fmt.Errorf("couldn't resolve %s", name)
}

func TestEvalExpr(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		bad  bool
	}{
		{"10", 0x10, false},
		{"0x10", 0x10, false},
		{"0n10", 10, false},
		{"0t17", 15, false},
		{"0y101", 5, false},
		{"1fh", 0x1f, false},
		{"fffff803`78806e40", 0xfffff80378806e40, false},
		{"@rsp", 0xfffff80014a0ff68, false},
		{"rsp+8", 0xfffff80014a0ff70, false},
		{"rsp - 0n8", 0xfffff80014a0ff60, false},
		{"rax*2+1", 0x21, false},
		{"(rax+1)*2", 0x22, false},
		{"-1", 0xffffffffffffffff, false},
		{"nt!Foo+1", 0xfffff80010a01031, false},
		{"add", 0xadd, false},
		{"@nosuch", 0, true},
		{"nosuch", 0, true},
		{"1+", 0, true},
		{"(1", 0, true},
		{"4/0", 0, true},
		{"1 2", 0, true},
	}
	for _, tt := range tests {
		got, err := evalExpr(tt.in, fakeEnv{})
		if (err != nil) != tt.bad || !tt.bad && got != tt.want {
			t.Errorf("evalExpr(%q) = %#x, %v; want %#x (error %v)", tt.in, got, err, tt.want, tt.bad)
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
