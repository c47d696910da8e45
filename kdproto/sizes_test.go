package kdproto_test

import (
	"testing"

	. "github.com/gokd/kd/kdproto"
)

// TestSizes pins every fixed wire layout, both as the package's constants
// and as the number of bytes the encoders actually produce (spec §1.1, §5, §7).
func TestSizes(t *testing.T) {
	var (
		m   Manipulate
		sc  StateChange
		dio DebugIO
		fio FileIO
	)
	tests := []struct {
		name      string
		got, want int
	}{
		{"HeaderSize", HeaderSize, 16},
		{"encoded header", len(AppendHeader(nil, Header{})), 16},
		{"encoded control packet", len(AppendControl(nil, PacketTypeAcknowledge, 0)), 16},
		{"encoded empty data packet", len(AppendData(nil, PacketTypeDebugIO, 0)), 17},
		{"largest data packet", len(AppendData(nil, PacketTypeDebugIO, 0, make([]byte, MaxPacketSize))), 4017},
		{"ManipulateSize", ManipulateSize, 0x38},
		{"encoded manipulate", len(m.Append(nil)), 0x38},
		{"UnionSize", UnionSize, 0x28},
		{"VersionSize", VersionSize, 0x28},
		{"union holds GET_VERSION64", len(m.U), VersionSize},
		{"MaxTransfer", MaxTransfer, 0xF68},
		{"StateChangeSize", StateChangeSize, 0xF0},
		{"encoded state change", len(sc.Append(nil)), 0xF0},
		{"control report", len(sc.Report), 0x30},
		{"instruction stream", len(AMD64Report{}.Instructions), 16},
		{"AMD64ContextSize", AMD64ContextSize, 0x4D0},
		{"new AMD64 context", len(NewAMD64Context().Raw), 0x4D0},
		{"AMD64 context alignment", AMD64ContextSize % AMD64ContextAlign, 0},
		{"X86ContextSize", X86ContextSize, 0x2CC},
		{"new x86 context", len(NewX86Context().Raw), 0x2CC},
		{"DebugIOSize", DebugIOSize, 0x10},
		{"encoded debug IO", len(dio.Append(nil)), 0x10},
		{"FileIOSize", FileIOSize, 0x40},
		{"encoded file IO", len(fio.Append(nil)), 0x40},
		{"file IO union", len(fio.U), 0x38},
		{"largest DbgPrint string", MaxPacketSize - DebugIOSize, 3984},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x; want %#x", tt.name, tt.got, tt.want)
		}
	}
}

// offsetCase encodes a structure in which one field holds a non-zero value
// and everything before it is zero, so the first non-zero byte at or after
// from is where that field lands.
type offsetCase struct {
	name    string
	encoded []byte
	from    int
	want    int
}

func manipulateWith(u Union) []byte {
	m := Manipulate{}
	u.Put(&m.U)
	return m.Append(nil)
}

func stateChangeWith(f func(*StateChange)) []byte {
	s := StateChange{NewState: StateException}
	f(&s)
	return s.Append(nil)
}

func loadSymbolsWith(l LoadSymbols) []byte {
	s := StateChange{NewState: StateLoadSymbols, LoadSymbols: l}
	return s.Append(nil)
}

func TestFieldOffsets(t *testing.T) {
	dio := func(d DebugIO) []byte { return d.Append(nil) }
	fio := func(f FileIO) []byte { return f.Append(nil) }
	mh := func(m Manipulate) []byte { return m.Append(nil) }
	amd := func(r AMD64Report) func(*StateChange) { return func(s *StateChange) { s.SetAMD64Report(r) } }
	x86 := func(r X86Report) func(*StateChange) { return func(s *StateChange) { s.SetX86Report(r) } }
	tests := []offsetCase{
		// KD_PACKET (spec §1.1).
		{"header Type", AppendHeader(nil, Header{Type: 1}), 0, 0x04},
		{"header ByteCount", AppendHeader(nil, Header{ByteCount: 1}), 0, 0x06},
		{"header PacketId", AppendHeader(nil, Header{ID: 1}), 0, 0x08},
		{"header Checksum", AppendHeader(nil, Header{Checksum: 1}), 0, 0x0C},
		{"data trailer", AppendData(nil, 0, 0, make([]byte, 5)), HeaderSize, HeaderSize + 5},

		// DBGKD_MANIPULATE_STATE64 (spec §5.1).
		{"ProcessorLevel", mh(Manipulate{ProcessorLevel: 1}), 0, 0x04},
		{"Processor", mh(Manipulate{Processor: 1}), 0, 0x06},
		{"ReturnStatus", mh(Manipulate{ReturnStatus: 1}), 0, 0x08},
		{"message data", mh(Manipulate{Data: []byte{1}}), 0, 0x38},
		{"Memory TargetBaseAddress", manipulateWith(Memory{Address: 1}), 0, 0x10},
		{"Memory TransferCount", manipulateWith(Memory{TransferCount: 1}), 0, 0x18},
		{"Memory ActualBytes", manipulateWith(Memory{ActualBytes: 1}), 0, 0x1C},
		{"BreakPointHandle", manipulateWith(BreakPoint{Handle: 1}), 0, 0x18},
		{"Continue2 TraceFlag", manipulateWith(Continue2{TraceFlag: 1}), 0, 0x14},
		{"Continue2 AMD64 Dr7", manipulateWith(Continue2{Dr7: 1}), 0, 0x18},
		{"Continue2 AMD64 SymbolStart", manipulateWith(Continue2{SymbolStart: 1}), 0, 0x20},
		{"Continue2 AMD64 SymbolEnd", manipulateWith(Continue2{SymbolEnd: 1}), 0, 0x28},
		{"Continue2 x86 Dr7", manipulateWith(Continue2{Dr7: 1, X86: true}), 0, 0x18},
		{"Continue2 x86 SymbolStart", manipulateWith(Continue2{SymbolStart: 1, X86: true}), 0, 0x1C},
		{"Continue2 x86 SymbolEnd", manipulateWith(Continue2{SymbolEnd: 1, X86: true}), 0, 0x20},
		{"IO DataSize", manipulateWith(IO{DataSize: 1}), 0, 0x18},
		{"IO DataValue", manipulateWith(IO{Value: 1}), 0, 0x1C},
		{"IOExtended InterfaceType", manipulateWith(IOExtended{InterfaceType: 1}), 0, 0x14},
		{"IOExtended IoAddress", manipulateWith(IOExtended{Address: 1}), 0, 0x20},
		{"IOExtended DataValue", manipulateWith(IOExtended{Value: 1}), 0, 0x28},
		{"MSR DataValueLow", manipulateWith(MSR{Value: 1}), 0, 0x14},
		{"MSR DataValueHigh", manipulateWith(MSR{Value: 1 << 32}), 0, 0x18},
		{"SearchMemory SearchLength", manipulateWith(SearchMemory{Length: 1}), 0, 0x18},
		{"SearchMemory PatternLength", manipulateWith(SearchMemory{PatternLength: 1}), 0, 0x20},
		{"FillMemory Flags", manipulateWith(FillMemory{Flags: 1}), 0, 0x1C},
		{"FillMemory PatternLength", manipulateWith(FillMemory{PatternLength: 1}), 0, 0x1E},
		{"QueryMemory AddressSpace", manipulateWith(QueryMemory{AddressSpace: 1}), 0, 0x20},
		{"QueryMemory Flags", manipulateWith(QueryMemory{Flags: 1}), 0, 0x24},
		{"BusData Length", manipulateWith(BusData{Length: 1}), 0, 0x20},
		{"ContextEx ByteCount", manipulateWith(ContextEx{ByteCount: 1}), 0, 0x14},
		{"ContextEx BytesCopied", manipulateWith(ContextEx{BytesCopied: 1}), 0, 0x18},
		{"SetContext ContextFlags", manipulateWith(Uint32Field(1)), 0, 0x10},

		// DBGKD_GET_VERSION64 (spec §5.2), payload offsets.
		{"Version MinorVersion", manipulateWith(Version{MinorVersion: 1}), 0, 0x12},
		{"Version ProtocolVersion", manipulateWith(Version{ProtocolVersion: 1}), 0, 0x14},
		{"Version KdSecondaryVersion", manipulateWith(Version{SecondaryVersion: 1}), 0, 0x15},
		{"Version Flags", manipulateWith(Version{Flags: 1}), 0, 0x16},
		{"Version MachineType", manipulateWith(Version{MachineType: 1}), 0, 0x18},
		{"Version MaxPacketType", manipulateWith(Version{MaxPacketType: 1}), 0, 0x1A},
		{"Version MaxStateChange", manipulateWith(Version{MaxStateChange: 1}), 0, 0x1B},
		{"Version MaxManipulate", manipulateWith(Version{MaxManipulate: 1}), 0, 0x1C},
		{"Version Simulation", manipulateWith(Version{Simulation: 1}), 0, 0x1D},
		{"Version KernBase", manipulateWith(Version{KernBase: 1}), 0, 0x20},
		{"Version PsLoadedModuleList", manipulateWith(Version{PsLoadedModuleList: 1}), 0, 0x28},
		{"Version DebuggerDataList", manipulateWith(Version{DebuggerDataList: 1}), 0, 0x30},

		// DBGKD_ANY_WAIT_STATE_CHANGE (spec §5.3); NewState occupies 0..3.
		{"NumberProcessors", stateChangeWith(func(s *StateChange) { s.NumberProcessors = 1 }), 4, 0x08},
		{"Thread", stateChangeWith(func(s *StateChange) { s.Thread = 1 }), 4, 0x10},
		{"ProgramCounter", stateChangeWith(func(s *StateChange) { s.PC = 1 }), 4, 0x18},
		{"ExceptionCode", stateChangeWith(func(s *StateChange) { s.Exception.Code = 1 }), 4, 0x20},
		{"ExceptionFlags", stateChangeWith(func(s *StateChange) { s.Exception.Flags = 1 }), 4, 0x24},
		{"ExceptionRecord", stateChangeWith(func(s *StateChange) { s.Exception.Record = 1 }), 4, 0x28},
		{"ExceptionAddress", stateChangeWith(func(s *StateChange) { s.Exception.Address = 1 }), 4, 0x30},
		{"NumberParameters", stateChangeWith(func(s *StateChange) { s.Exception.NumberParameters = 1 }), 4, 0x38},
		{"ExceptionInformation[0]", stateChangeWith(func(s *StateChange) { s.Exception.Information[0] = 1 }), 4, 0x40},
		{"ExceptionInformation[14]", stateChangeWith(func(s *StateChange) { s.Exception.Information[14] = 1 }), 4, 0xB0},
		{"FirstChance", stateChangeWith(func(s *StateChange) { s.Exception.FirstChance = 1 }), 4, 0xB8},
		{"PathNameLength", loadSymbolsWith(LoadSymbols{PathNameLength: 1}), 4, 0x20},
		{"BaseOfDll", loadSymbolsWith(LoadSymbols{BaseOfDll: 1}), 4, 0x28},
		{"ProcessId", loadSymbolsWith(LoadSymbols{ProcessID: 1}), 4, 0x30},
		{"CheckSum", loadSymbolsWith(LoadSymbols{CheckSum: 1}), 4, 0x38},
		{"SizeOfImage", loadSymbolsWith(LoadSymbols{SizeOfImage: 1}), 4, 0x3C},
		{"UnloadSymbols", loadSymbolsWith(LoadSymbols{Unload: true}), 4, 0x40},
		{"control report", stateChangeWith(func(s *StateChange) { s.Report[0] = 1 }), 4, 0xC0},
		{"extra data", stateChangeWith(func(s *StateChange) { s.Extra = []byte{1} }), 4, 0xF0},
		{"AMD64 Dr6", stateChangeWith(amd(AMD64Report{Dr6: 1})), 4, 0xC0},
		{"AMD64 Dr7", stateChangeWith(amd(AMD64Report{Dr7: 1})), 4, 0xC8},
		{"AMD64 EFlags", stateChangeWith(amd(AMD64Report{EFlags: 1})), 4, 0xD0},
		{"AMD64 InstructionCount", stateChangeWith(amd(AMD64Report{InstructionCount: 1})), 4, 0xD4},
		{"AMD64 ReportFlags", stateChangeWith(amd(AMD64Report{ReportFlags: 1})), 4, 0xD6},
		{"AMD64 InstructionStream", stateChangeWith(amd(AMD64Report{Instructions: [16]byte{1}})), 4, 0xD8},
		{"AMD64 InstructionStream end", stateChangeWith(amd(AMD64Report{Instructions: [16]byte{15: 1}})), 4, 0xE7},
		{"AMD64 SegCs", stateChangeWith(amd(AMD64Report{SegCs: 1})), 4, 0xE8},
		{"AMD64 SegDs", stateChangeWith(amd(AMD64Report{SegDs: 1})), 4, 0xEA},
		{"AMD64 SegEs", stateChangeWith(amd(AMD64Report{SegEs: 1})), 4, 0xEC},
		{"AMD64 SegFs", stateChangeWith(amd(AMD64Report{SegFs: 1})), 4, 0xEE},
		{"x86 Dr6", stateChangeWith(x86(X86Report{Dr6: 1})), 4, 0xC0},
		{"x86 Dr7", stateChangeWith(x86(X86Report{Dr7: 1})), 4, 0xC4},
		{"x86 InstructionCount", stateChangeWith(x86(X86Report{InstructionCount: 1})), 4, 0xC8},
		{"x86 ReportFlags", stateChangeWith(x86(X86Report{ReportFlags: 1})), 4, 0xCA},
		{"x86 InstructionStream", stateChangeWith(x86(X86Report{Instructions: [16]byte{1}})), 4, 0xCC},
		{"x86 SegCs", stateChangeWith(x86(X86Report{SegCs: 1})), 4, 0xDC},
		{"x86 SegDs", stateChangeWith(x86(X86Report{SegDs: 1})), 4, 0xDE},
		{"x86 SegEs", stateChangeWith(x86(X86Report{SegEs: 1})), 4, 0xE0},
		{"x86 SegFs", stateChangeWith(x86(X86Report{SegFs: 1})), 4, 0xE2},
		{"x86 EFlags", stateChangeWith(x86(X86Report{EFlags: 1})), 4, 0xE4},

		// DBGKD_DEBUG_IO (spec §5.4) and DBGKD_FILE_IO (spec §5.5).
		{"DebugIO Processor", dio(DebugIO{Processor: 1}), 0, 0x06},
		{"DebugIO LengthOfString", dio(DebugIO{Length: 1}), 0, 0x08},
		{"DebugIO LengthOfStringRead", dio(DebugIO{LengthRead: 1}), 0, 0x0C},
		{"DebugIO string", dio(DebugIO{Data: []byte{1}}), 0, 0x10},
		{"FileIO Status", fio(FileIO{Status: 1}), 0, 0x04},
		{"FileIO union", fio(FileIO{U: [0x38]byte{1}}), 0, 0x08},
		{"FileIO data", fio(FileIO{Data: []byte{1}}), 0, 0x40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.from + firstNonzero(tt.encoded[tt.from:])
			if got != tt.want {
				t.Errorf("%s lands at %#x in %x; want %#x", tt.name, got, tt.encoded, tt.want)
			}
		})
	}
}
