package target

import (
	"context"
	"fmt"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

func TestDisasmLine(t *testing.T) {
	tg := New(Config{})
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
		in := tg.decode(context.Background(), nil, 0xfffff80378806e40, tt.code)
		hex := fmt.Sprintf("%x", in.Bytes)
		if len(hex) >= 16 {
			hex += " "
		}
		got := fmt.Sprintf("%s %-16s%s", fmtAddr(in.Addr), hex, in.Text)
		if !in.Valid {
			got += "???"
		}
		if got != tt.want {
			t.Errorf("disasm % x:\n got %q\nwant %q", tt.code, got, tt.want)
		}
	}
	if _, err := x86asm.Decode([]byte{0x90}, 64); err != nil {
		t.Fatal(err)
	}
}

func TestFmtHex(t *testing.T) {
	for v, want := range map[uint64]string{3: "3", 0x10: "10h", 0xff: "0FFh", 0x28: "28h"} {
		if got := fmtHex(v); got != want {
			t.Errorf("fmtHex(%#x) = %q; want %q", v, got, want)
		}
	}
}
