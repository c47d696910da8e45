package pe

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// MaxRuntimeFunctions bounds the exception directory: ntoskrnl has tens of
// thousands of entries, far below this.
const MaxRuntimeFunctions = 1 << 21

// pdataChunk is how many bytes of .pdata are read at a time.
const pdataChunk = 64 << 10

// RuntimeFunction is one x64 .pdata entry: a function's code range (RVAs,
// End exclusive) and the RVA of its UNWIND_INFO.
type RuntimeFunction struct {
	Begin, End uint32
	UnwindData uint32
}

// Contains reports whether rva lies in the function's code.
func (rf RuntimeFunction) Contains(rva uint32) bool { return rva >= rf.Begin && rva < rf.End }

// FunctionTable is an image's RUNTIME_FUNCTION array sorted by Begin.
type FunctionTable []RuntimeFunction

// Lookup finds the entry whose range holds rva.
func (ft FunctionTable) Lookup(rva uint32) (RuntimeFunction, bool) {
	i := sort.Search(len(ft), func(i int) bool { return ft[i].Begin > rva }) - 1
	if i >= 0 && ft[i].Contains(rva) {
		return ft[i], true
	}
	return RuntimeFunction{}, false
}

// DecodeRuntimeFunction decodes one 12-byte RUNTIME_FUNCTION.
func DecodeRuntimeFunction(b []byte) RuntimeFunction {
	le := binary.LittleEndian
	return RuntimeFunction{Begin: le.Uint32(b), End: le.Uint32(b[4:]), UnwindData: le.Uint32(b[8:])}
}

// RuntimeFunctions reads the exception directory of an x64 image. Entries
// with an empty or reversed range are dropped; the table is sorted if the
// image did not sort it. An image without the directory gives an empty table.
func (im *Image) RuntimeFunctions() (FunctionTable, error) {
	if im.Machine != MachineAMD64 {
		return nil, fmt.Errorf("exception directory of machine %#x is not x64 .pdata", im.Machine)
	}
	dd := im.Directory(DirException)
	if dd.RVA == 0 || dd.Size == 0 {
		return nil, nil
	}
	n := dd.Size / 12
	if n > MaxRuntimeFunctions {
		return nil, fmt.Errorf("exception directory has %d entries, over the limit of %d", n, MaxRuntimeFunctions)
	}
	ft := make(FunctionTable, 0, n)
	for done := uint32(0); done < n; {
		k := min(n-done, pdataChunk/12)
		b, err := im.ReadRVA(dd.RVA+12*done, int(12*k))
		if err != nil {
			return nil, fmt.Errorf("read exception directory: %w", err)
		}
		for i := uint32(0); i < k; i++ {
			rf := DecodeRuntimeFunction(b[12*i:])
			if rf.Begin < rf.End {
				ft = append(ft, rf)
			}
		}
		done += k
	}
	for i := 1; i < len(ft); i++ {
		if ft[i].Begin < ft[i-1].Begin {
			sort.Slice(ft, func(i, j int) bool { return ft[i].Begin < ft[j].Begin })
			break
		}
	}
	return ft, nil
}
