package unwind

import (
	"errors"
	"testing"

	"github.com/gokd/kd/internal/pe"
)

func TestModules(t *testing.T) {
	ms := NewModules([]Module{
		{Name: "hal", Base: 0xFFFFF80001000000, Size: 0x10000, Functions: pe.FunctionTable{{Begin: 0x1000, End: 0x1100, UnwindData: 0x2000}}},
		{Name: "nt", Base: 0xFFFFF80000000000, Size: 0x100000, Functions: pe.FunctionTable{{Begin: 0x1000, End: 0x1010, UnwindData: 0x3000}}},
		{Name: "paged", Base: 0xFFFFF80002000000, Size: 0x1000, Err: errors.New("memory not accessible")},
	})
	tests := []struct {
		pc     uint64
		module string
		entry  bool
		err    string
	}{
		{0xFFFFF80000001008, "nt", true, ""},
		{0xFFFFF80000002000, "nt", false, ""},
		{0xFFFFF80001001000, "hal", true, ""},
		{0xFFFFF80001010000, "", false, "no known module"},
		{0xFFFFF7FFFFFFFFFF, "", false, "no known module"},
		{0xFFFFF80002000010, "", false, "paged: unwind data: memory not accessible"},
	}
	for _, tc := range tests {
		fn, err := ms.LookupFunction(tc.pc)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err && !errors.Is(err, ErrNoModule) {
				t.Errorf("LookupFunction(%#x) error %v; want %q", tc.pc, err, tc.err)
			}
			continue
		}
		if err != nil || fn.Module != tc.module || fn.HasEntry != tc.entry {
			t.Errorf("LookupFunction(%#x) = %+v, %v; want %s entry %v", tc.pc, fn, err, tc.module, tc.entry)
		}
	}
}
