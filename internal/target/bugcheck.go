package target

import (
	"context"
	"encoding/binary"
	"fmt"
)

// BugCheck is what nt!KiBugCheckData holds: the code KeBugCheckEx was
// called with and its four parameters. Code is 0 when the target has not
// bug-checked.
type BugCheck struct {
	Addr   uint64 // of KiBugCheckData
	Code   uint32
	Params [4]uint64
}

// BugCheckData reads KiBugCheckData, found through KDDEBUGGER_DATA64 or
// nt's symbols.
func (t *Target) BugCheckData(ctx context.Context) (BugCheck, error) {
	s, err := t.needStopped()
	if err != nil {
		return BugCheck{}, err
	}
	a, ok := t.kdbgPointer(ctx, s, kdbgKiBugcheckData)
	if !ok {
		if a, err = t.Resolve(ctx, "nt!KiBugCheckData"); err != nil {
			return BugCheck{}, fmt.Errorf("cannot find nt!KiBugCheckData: %w", err)
		}
	}
	b, okb, err := t.readMemory(ctx, s, a, 40)
	if err != nil {
		return BugCheck{}, err
	}
	if !allOK(okb) {
		return BugCheck{}, fmt.Errorf("nt!KiBugCheckData at %s is not readable", hexAddr(a))
	}
	bc := BugCheck{Addr: a, Code: binary.LittleEndian.Uint32(b)}
	for i := range bc.Params {
		bc.Params[i] = binary.LittleEndian.Uint64(b[8+8*i:])
	}
	return bc, nil
}
