package kdproto_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	. "github.com/gokd/kd/kdproto"
)

// breakpointStateChange is an AMD64 break-in as a ReactOS target reports it:
// the 0xF0-byte structure plus four bytes of trace data.
func breakpointStateChange() StateChange {
	s := StateChange{
		NewState: StateException, ProcessorLevel: 6, Processor: 1, NumberProcessors: 2,
		Thread: 0xFFFFF80002C4CC40, PC: 0xFFFFF80002A9B590,
		Exception: Exception{Code: StatusBreakpoint, Address: 0xFFFFF80002A9B590, NumberParameters: 1, FirstChance: 1},
		Extra:     []byte{1, 0, 0, 0},
	}
	s.Exception.Information[14] = 0x1122334455667788
	s.SetAMD64Report(AMD64Report{
		Dr6: 0xFFFF0FF0, Dr7: 0x400, EFlags: 0x246, InstructionCount: 16,
		ReportFlags:  ReportIncludesSegs | ReportStandardCS,
		Instructions: [16]byte{0xcc, 0xc3, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x48, 0x83, 0xec, 0x28, 0xe8, 1, 2, 3},
		SegCs:        AMD64KernelCS, SegDs: 0x2b, SegEs: 0x2b, SegFs: 0x53,
	})
	return s
}

// encodeStateChange returns the payload of s.
func encodeStateChange(s StateChange) []byte { return s.Append(nil) }

const breakpointStateChangeWire = `
	30300000 0600 0100   | 0x00 NewState, ProcessorLevel, Processor
	02000000 00000000    | 0x08 NumberProcessors, pad
	40ccc40200f8ffff     | 0x10 Thread
	90b5a90200f8ffff     | 0x18 ProgramCounter
	03000080 00000000    | 0x20 ExceptionCode, ExceptionFlags
	0000000000000000     | 0x28 ExceptionRecord
	90b5a90200f8ffff     | 0x30 ExceptionAddress
	01000000 00000000    | 0x38 NumberParameters, pad
	00000000000000000000000000000000 | 0x40 ExceptionInformation[0..1]
	00000000000000000000000000000000 | 0x50
	00000000000000000000000000000000 | 0x60
	00000000000000000000000000000000 | 0x70
	00000000000000000000000000000000 | 0x80
	00000000000000000000000000000000 | 0x90
	00000000000000000000000000000000 | 0xA0
	8877665544332211                 | 0xB0 ExceptionInformation[14]
	01000000 00000000    | 0xB8 FirstChance, pad
	f00fffff00000000     | 0xC0 Dr6
	0004000000000000     | 0xC8 Dr7
	46020000 1000 0300   | 0xD0 EFlags, InstructionCount, ReportFlags
	ccc39090909090904883ec28e8010203 | 0xD8 InstructionStream
	1000 2b00 2b00 5300  | 0xE8 SegCs, SegDs, SegEs, SegFs
	01000000             | 0xF0 trace data`

func TestStateChangeException(t *testing.T) {
	s := breakpointStateChange()
	want := unhex(t, breakpointStateChangeWire)
	got := s.Append(nil)
	if !bytes.Equal(got, want) {
		t.Fatalf("StateChange.Append = %x; want %x", got, want)
	}
	back, err := ParseStateChange(got)
	if err != nil {
		t.Fatalf("ParseStateChange(%x): %v", got, err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("ParseStateChange(%x) = %+v; want %+v", got, back, s)
	}
	r := back.AMD64Report()
	if r.SegCs != AMD64KernelCS || r.EFlags != 0x246 || !bytes.Equal(r.InstructionBytes(), r.Instructions[:]) {
		t.Errorf("AMD64Report() = %+v; want the report that was set", r)
	}
	if got, want := back.String(), "Exception cpu=1/2 pc=fffff80002a9b590 code=80000003 first=1"; got != want {
		t.Errorf("StateChange.String() = %q; want %q", got, want)
	}
}

func TestStateChangeLoadSymbols(t *testing.T) {
	path := `\SystemRoot\system32\drivers\kdcom.dll`
	tests := []struct {
		name     string
		s        StateChange
		wire     string // bytes 0x20..0x48 of the payload
		wantPath string
		wantStr  string
	}{
		{"load with path", StateChange{
			NewState: StateLoadSymbols, NumberProcessors: 1, PC: 0xFFFFF80002A9B590,
			LoadSymbols: LoadSymbols{PathNameLength: uint32(len(path) + 1), BaseOfDll: 0xFFFFF88000E00000,
				ProcessID: 4, CheckSum: 0x12345, SizeOfImage: 0xA000},
			Extra: append([]byte(path), 0),
		}, `
			27000000 00000000  | 0x20 PathNameLength (with the NUL), pad
			0000e00080f8ffff   | 0x28 BaseOfDll
			0400000000000000   | 0x30 ProcessId
			45230100 00a00000  | 0x38 CheckSum, SizeOfImage
			00                 | 0x40 UnloadSymbols`,
			path, "LoadSymbols cpu=0/1 base=fffff88000e00000 unload=false"},
		{"virtualkd unload", StateChange{
			NewState:    StateLoadSymbols,
			LoadSymbols: LoadSymbols{BaseOfDll: ^uint64(0), Unload: true},
		}, `
			00000000 00000000 ffffffffffffffff 0000000000000000 00000000 00000000
			01                 | 0x40 UnloadSymbols`,
			"", "LoadSymbols cpu=0/0 base=ffffffffffffffff unload=true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.s.Append(nil)
			want := unhex(t, tt.wire)
			if got := b[0x20 : 0x20+len(want)]; !bytes.Equal(got, want) {
				t.Errorf("StateChange.Append()[0x20:] = %x; want %x", got, want)
			}
			if len(b) != StateChangeSize+len(tt.s.Extra) {
				t.Errorf("StateChange.Append() = %d bytes; want %d", len(b), StateChangeSize+len(tt.s.Extra))
			}
			back, err := ParseStateChange(b)
			if err != nil {
				t.Fatalf("ParseStateChange(%x): %v", b, err)
			}
			if !reflect.DeepEqual(back.LoadSymbols, tt.s.LoadSymbols) || back.Exception != (Exception{}) {
				t.Errorf("ParseStateChange(%x).LoadSymbols = %+v (exception %+v); want %+v", b, back.LoadSymbols, back.Exception, tt.s.LoadSymbols)
			}
			if got := string(back.ImagePath()); got != tt.wantPath {
				t.Errorf("ImagePath() = %q; want %q", got, tt.wantPath)
			}
			if got := back.String(); got != tt.wantStr {
				t.Errorf("StateChange.String() = %q; want %q", got, tt.wantStr)
			}
		})
	}
}

func TestStateChangeCommandString(t *testing.T) {
	s := StateChange{NewState: StateCommandString, NumberProcessors: 1, PC: 0x1000, Extra: []byte("kd\x00.reload\x00")}
	b := s.Append(nil)
	if u := b[0x20:0xC0]; !bytes.Equal(u, make([]byte, len(u))) {
		t.Errorf("command string union = %x; want zeroes (ReactOS sends none)", u)
	}
	back, err := ParseStateChange(b)
	if err != nil {
		t.Fatalf("ParseStateChange(%x): %v", b, err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("ParseStateChange(%x) = %+v; want %+v", b, back, s)
	}
	if got, want := back.String(), "CommandString cpu=0/1 pc=0000000000001000"; got != want {
		t.Errorf("StateChange.String() = %q; want %q", got, want)
	}
}

func TestStateChangeAlternate(t *testing.T) {
	s := breakpointStateChange()
	s.NewState |= StateAlternate
	b := s.Append(nil)
	back, err := ParseStateChange(b)
	if err != nil {
		t.Fatalf("ParseStateChange(%x): %v", b, err)
	}
	if back.Exception != s.Exception || back.NewState != StateException|StateAlternate {
		t.Errorf("alternate exception decoded as %v %+v; want %v %+v", back.NewState, back.Exception, s.NewState, s.Exception)
	}
}

func TestStateChangeUnknownKind(t *testing.T) {
	// An unknown kind keeps its header, report and extra data; the union is
	// not interpreted.
	b := encodeStateChange(breakpointStateChange())
	b[0] = 0x39
	back, err := ParseStateChange(b)
	if err != nil {
		t.Fatalf("ParseStateChange(%x): %v", b, err)
	}
	if back.NewState != 0x3039 || back.Exception != (Exception{}) || back.Thread != 0xFFFFF80002C4CC40 || back.AMD64Report().Dr7 != 0x400 {
		t.Errorf("ParseStateChange(kind 0x3039) = %+v; want header and report only", back)
	}
	if got, want := back.String(), "StateKind(0x3039) cpu=1/2 pc=fffff80002a9b590"; got != want {
		t.Errorf("StateChange.String() = %q; want %q", got, want)
	}
}

func TestStateChangeX86Report(t *testing.T) {
	// An x86 target sends the same 0xF0-byte structure with sign-extended
	// addresses and the x86 control report at 0xC0.
	s := StateChange{
		NewState: StateException, ProcessorLevel: 6, NumberProcessors: 1,
		Thread: 0xFFFFFFFF80552740, PC: 0xFFFFFFFF804E2A42,
		Exception: Exception{Code: StatusSingleStep, Address: 0xFFFFFFFF804E2A42, FirstChance: 1},
	}
	rep := X86Report{Dr6: 0xFFFF4FF0, Dr7: 0x400, InstructionCount: 3, ReportFlags: ReportIncludesSegs,
		Instructions: [16]byte{0x8b, 0xff, 0x55}, SegCs: 0x08, SegDs: 0x23, SegEs: 0x23, SegFs: 0x30, EFlags: 0x202}
	s.SetX86Report(rep)
	b := s.Append(nil)
	want := unhex(t, `
		f04fffff 00040000   | 0xC0 Dr6, Dr7
		0300 0100           | 0xC8 InstructionCount, ReportFlags
		8bff5500000000000000000000000000 | 0xCC InstructionStream
		0800 2300 2300 3000 | 0xDC SegCs, SegDs, SegEs, SegFs
		02020000            | 0xE4 EFlags
		0000000000000000    | 0xE8 union padding`)
	if got := b[0xC0:StateChangeSize]; !bytes.Equal(got, want) {
		t.Errorf("x86 report = %x; want %x", got, want)
	}
	if got := b[0x18:0x20]; !bytes.Equal(got, unhex(t, "422a4e80ffffffff")) {
		t.Errorf("ProgramCounter = %x; want sign-extended 422a4e80ffffffff", got)
	}
	back, err := ParseStateChange(b)
	if err != nil {
		t.Fatalf("ParseStateChange(%x): %v", b, err)
	}
	got := back.X86Report()
	if got != rep {
		t.Errorf("X86Report() = %+v; want %+v", got, rep)
	}
	if !bytes.Equal(got.InstructionBytes(), []byte{0x8b, 0xff, 0x55}) {
		t.Errorf("X86Report().InstructionBytes() = %x; want 8bff55", got.InstructionBytes())
	}
}

func TestReportSetGetIdentity(t *testing.T) {
	// The AMD64 report covers all 0x30 bytes; the x86 one the first 0x28.
	var s StateChange
	for i := range s.Report {
		s.Report[i] = byte(i*7 + 1)
	}
	orig := s.Report
	s.SetAMD64Report(s.AMD64Report())
	if s.Report != orig {
		t.Errorf("SetAMD64Report(AMD64Report()) changed %x to %x", orig, s.Report)
	}
	s.SetX86Report(s.X86Report())
	if s.Report != orig {
		t.Errorf("SetX86Report(X86Report()) changed %x to %x", orig, s.Report)
	}
}

func TestInstructionBytesBounded(t *testing.T) {
	stream := [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	tests := []struct {
		name  string
		count uint16
		want  int
	}{
		{"none", 0, 0},
		{"three", 3, 3},
		{"full", 16, 16},
		{"lying 17", 17, 16},
		{"lying 0xffff", 0xFFFF, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := AMD64Report{InstructionCount: tt.count, Instructions: stream}
			if got := a.InstructionBytes(); !bytes.Equal(got, stream[:tt.want]) {
				t.Errorf("AMD64Report{InstructionCount: %d}.InstructionBytes() = %x; want %x", tt.count, got, stream[:tt.want])
			}
			x := X86Report{InstructionCount: tt.count, Instructions: stream}
			if got := x.InstructionBytes(); !bytes.Equal(got, stream[:tt.want]) {
				t.Errorf("X86Report{InstructionCount: %d}.InstructionBytes() = %x; want %x", tt.count, got, stream[:tt.want])
			}
		})
	}
}

func TestImagePathBounded(t *testing.T) {
	tests := []struct {
		name   string
		length uint32
		extra  string
		want   string
	}{
		{"length without NUL", 8, "ntoskrnl\x00", "ntoskrnl"},
		{"length includes NUL", 9, "ntoskrnl\x00", "ntoskrnl"},
		{"no path", 0, "", ""},
		{"zero length ignores extra", 0, "ntoskrnl\x00", ""},
		{"length shorter than string", 4, "ntoskrnl\x00", "ntos"},
		{"no NUL", 8, "ntoskrnl", "ntoskrnl"},
		{"NUL inside", 9, "nt\x00oskrnl", "nt"},
		{"lying length", 1000, "hal.dll\x00", "hal.dll"},
		{"lying 0x80000000", 0x80000000, "hal.dll\x00", "hal.dll"},
		{"lying 0xffffffff no NUL", 0xFFFFFFFF, "hal.dll", "hal.dll"},
		{"lying length no extra", 0xFFFFFFFF, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := StateChange{NewState: StateLoadSymbols, LoadSymbols: LoadSymbols{PathNameLength: tt.length}, Extra: []byte(tt.extra)}
			if got := string(s.ImagePath()); got != tt.want {
				t.Errorf("ImagePath(PathNameLength %#x, extra %q) = %q; want %q", tt.length, tt.extra, got, tt.want)
			}
		})
	}
}

func TestParseStateChangeShort(t *testing.T) {
	full := encodeStateChange(breakpointStateChange())
	for _, n := range []int{0, 4, 0xC0, StateChangeSize - 1} {
		if _, err := ParseStateChange(full[:n]); !errors.Is(err, ErrShortPayload) {
			t.Errorf("ParseStateChange(%d bytes) = %v; want %v", n, err, ErrShortPayload)
		}
	}
	s, err := ParseStateChange(full[:StateChangeSize])
	if err != nil || len(s.Extra) != 0 {
		t.Errorf("ParseStateChange(0xF0 bytes) = extra %x, %v; want no extra, nil", s.Extra, err)
	}
	s, err = ParseStateChange(full)
	if err != nil || &s.Extra[0] != &full[StateChangeSize] || cap(s.Extra) != len(s.Extra) {
		t.Errorf("ParseStateChange(%x).Extra does not alias the payload with a capped capacity (err %v)", full, err)
	}
}
