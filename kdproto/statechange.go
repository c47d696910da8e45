package kdproto

import "fmt"

// StateChange is DBGKD_ANY_WAIT_STATE_CHANGE (packet type 7): 0xF0 bytes of
// fixed fields followed by extra data.
//
//	0x00 NewState (32), 0x04 ProcessorLevel (16), 0x06 Processor (16),
//	0x08 NumberProcessors (32), 0x0C pad, 0x10 Thread (64), 0x18 ProgramCounter (64),
//	0x20 union (0xA0: Exception / LoadSymbols / CommandString),
//	0xC0 control report (0x30, AMD64 or x86 layout), 0xF0 extra data
type StateChange struct {
	NewState         StateKind
	ProcessorLevel   uint16
	Processor        uint16
	NumberProcessors uint32
	Thread           uint64
	PC               uint64
	Exception        Exception   // valid when NewState is StateException
	LoadSymbols      LoadSymbols // valid when NewState is StateLoadSymbols
	Report           [0x30]byte  // raw control report; see AMD64Report and X86Report
	Extra            []byte      // trace data, image path or command string
}

// Exception is DBGKM_EXCEPTION64 at 0x20 of a state change.
//
//	0x20 ExceptionCode (32), 0x24 ExceptionFlags (32), 0x28 ExceptionRecord (64),
//	0x30 ExceptionAddress (64), 0x38 NumberParameters (32),
//	0x40 ExceptionInformation[15] (64 each), 0xB8 FirstChance (32)
type Exception struct {
	Code             Status
	Flags            uint32
	Record           uint64
	Address          uint64
	NumberParameters uint32
	Information      [15]uint64
	FirstChance      uint32
}

// LoadSymbols is DBGKD_LOAD_SYMBOLS64 at 0x20 of a state change.
//
//	0x20 PathNameLength (32), 0x28 BaseOfDll (64), 0x30 ProcessId (64),
//	0x38 CheckSum (32), 0x3C SizeOfImage (32), 0x40 UnloadSymbols (8)
type LoadSymbols struct {
	PathNameLength uint32
	BaseOfDll      uint64
	ProcessID      uint64
	CheckSum       uint32
	SizeOfImage    uint32
	Unload         bool
}

// AMD64Report is AMD64_DBGKD_CONTROL_REPORT.
//
//	0xC0 Dr6 (64), 0xC8 Dr7 (64), 0xD0 EFlags (32), 0xD4 InstructionCount (16),
//	0xD6 ReportFlags (16), 0xD8 InstructionStream[16], 0xE8 SegCs, 0xEA SegDs,
//	0xEC SegEs, 0xEE SegFs (16 each)
type AMD64Report struct {
	Dr6, Dr7         uint64
	EFlags           uint32
	InstructionCount uint16
	ReportFlags      uint16
	Instructions     [MaxInstructionStream]byte
	SegCs, SegDs     uint16
	SegEs, SegFs     uint16
}

// X86Report is X86_DBGKD_CONTROL_REPORT.
//
//	0xC0 Dr6 (32), 0xC4 Dr7 (32), 0xC8 InstructionCount (16), 0xCA ReportFlags (16),
//	0xCC InstructionStream[16], 0xDC SegCs, 0xDE SegDs, 0xE0 SegEs, 0xE2 SegFs (16 each),
//	0xE4 EFlags (32)
type X86Report struct {
	Dr6, Dr7         uint32
	InstructionCount uint16
	ReportFlags      uint16
	Instructions     [MaxInstructionStream]byte
	SegCs, SegDs     uint16
	SegEs, SegFs     uint16
	EFlags           uint32
}

// Control report flags.
const (
	ReportIncludesSegs = 0x0001
	ReportStandardCS   = 0x0002
)

// ParseStateChange decodes a STATE_CHANGE64 payload. Extra aliases b.
func ParseStateChange(b []byte) (StateChange, error) {
	if len(b) < StateChangeSize {
		return StateChange{}, fmt.Errorf("%w: state change is %d bytes, want at least %d", ErrShortPayload, len(b), StateChangeSize)
	}
	s := StateChange{
		NewState:         StateKind(le.Uint32(b)),
		ProcessorLevel:   le.Uint16(b[4:]),
		Processor:        le.Uint16(b[6:]),
		NumberProcessors: le.Uint32(b[8:]),
		Thread:           le.Uint64(b[0x10:]),
		PC:               le.Uint64(b[0x18:]),
		Extra:            b[StateChangeSize:len(b):len(b)],
	}
	switch s.NewState &^ StateAlternate {
	case StateException:
		e := &s.Exception
		e.Code = Status(le.Uint32(b[0x20:]))
		e.Flags = le.Uint32(b[0x24:])
		e.Record = le.Uint64(b[0x28:])
		e.Address = le.Uint64(b[0x30:])
		e.NumberParameters = le.Uint32(b[0x38:])
		for i := range e.Information {
			e.Information[i] = le.Uint64(b[0x40+8*i:])
		}
		e.FirstChance = le.Uint32(b[0xB8:])
	case StateLoadSymbols:
		l := &s.LoadSymbols
		l.PathNameLength = le.Uint32(b[0x20:])
		l.BaseOfDll = le.Uint64(b[0x28:])
		l.ProcessID = le.Uint64(b[0x30:])
		l.CheckSum = le.Uint32(b[0x38:])
		l.SizeOfImage = le.Uint32(b[0x3C:])
		l.Unload = b[0x40] != 0
	}
	copy(s.Report[:], b[0xC0:StateChangeSize])
	return s, nil
}

// Append appends the payload of s to dst: the 0xF0 fixed bytes then Extra.
func (s *StateChange) Append(dst []byte) []byte {
	var b [StateChangeSize]byte
	le.PutUint32(b[0:], uint32(s.NewState))
	le.PutUint16(b[4:], s.ProcessorLevel)
	le.PutUint16(b[6:], s.Processor)
	le.PutUint32(b[8:], s.NumberProcessors)
	le.PutUint64(b[0x10:], s.Thread)
	le.PutUint64(b[0x18:], s.PC)
	switch s.NewState &^ StateAlternate {
	case StateException:
		e := &s.Exception
		le.PutUint32(b[0x20:], uint32(e.Code))
		le.PutUint32(b[0x24:], e.Flags)
		le.PutUint64(b[0x28:], e.Record)
		le.PutUint64(b[0x30:], e.Address)
		le.PutUint32(b[0x38:], e.NumberParameters)
		for i, v := range e.Information {
			le.PutUint64(b[0x40+8*i:], v)
		}
		le.PutUint32(b[0xB8:], e.FirstChance)
	case StateLoadSymbols:
		l := &s.LoadSymbols
		le.PutUint32(b[0x20:], l.PathNameLength)
		le.PutUint64(b[0x28:], l.BaseOfDll)
		le.PutUint64(b[0x30:], l.ProcessID)
		le.PutUint32(b[0x38:], l.CheckSum)
		le.PutUint32(b[0x3C:], l.SizeOfImage)
		if l.Unload {
			b[0x40] = 1
		}
	}
	copy(b[0xC0:], s.Report[:])
	dst = append(dst, b[:]...)
	return append(dst, s.Extra...)
}

// AMD64Report decodes the control report with the AMD64 layout.
func (s *StateChange) AMD64Report() AMD64Report {
	r := s.Report[:]
	var c AMD64Report
	c.Dr6 = le.Uint64(r[0:])
	c.Dr7 = le.Uint64(r[8:])
	c.EFlags = le.Uint32(r[0x10:])
	c.InstructionCount = le.Uint16(r[0x14:])
	c.ReportFlags = le.Uint16(r[0x16:])
	copy(c.Instructions[:], r[0x18:0x28])
	c.SegCs, c.SegDs = le.Uint16(r[0x28:]), le.Uint16(r[0x2A:])
	c.SegEs, c.SegFs = le.Uint16(r[0x2C:]), le.Uint16(r[0x2E:])
	return c
}

// SetAMD64Report stores c in the control report.
func (s *StateChange) SetAMD64Report(c AMD64Report) {
	r := s.Report[:]
	le.PutUint64(r[0:], c.Dr6)
	le.PutUint64(r[8:], c.Dr7)
	le.PutUint32(r[0x10:], c.EFlags)
	le.PutUint16(r[0x14:], c.InstructionCount)
	le.PutUint16(r[0x16:], c.ReportFlags)
	copy(r[0x18:0x28], c.Instructions[:])
	le.PutUint16(r[0x28:], c.SegCs)
	le.PutUint16(r[0x2A:], c.SegDs)
	le.PutUint16(r[0x2C:], c.SegEs)
	le.PutUint16(r[0x2E:], c.SegFs)
}

// X86Report decodes the control report with the x86 layout.
func (s *StateChange) X86Report() X86Report {
	r := s.Report[:]
	var c X86Report
	c.Dr6 = le.Uint32(r[0:])
	c.Dr7 = le.Uint32(r[4:])
	c.InstructionCount = le.Uint16(r[8:])
	c.ReportFlags = le.Uint16(r[0xA:])
	copy(c.Instructions[:], r[0xC:0x1C])
	c.SegCs, c.SegDs = le.Uint16(r[0x1C:]), le.Uint16(r[0x1E:])
	c.SegEs, c.SegFs = le.Uint16(r[0x20:]), le.Uint16(r[0x22:])
	c.EFlags = le.Uint32(r[0x24:])
	return c
}

// SetX86Report stores c in the control report.
func (s *StateChange) SetX86Report(c X86Report) {
	r := s.Report[:]
	le.PutUint32(r[0:], c.Dr6)
	le.PutUint32(r[4:], c.Dr7)
	le.PutUint16(r[8:], c.InstructionCount)
	le.PutUint16(r[0xA:], c.ReportFlags)
	copy(r[0xC:0x1C], c.Instructions[:])
	le.PutUint16(r[0x1C:], c.SegCs)
	le.PutUint16(r[0x1E:], c.SegDs)
	le.PutUint16(r[0x20:], c.SegEs)
	le.PutUint16(r[0x22:], c.SegFs)
	le.PutUint32(r[0x24:], c.EFlags)
}

// InstructionBytes returns the valid code bytes of an AMD64 report,
// bounded by the stream size whatever the target claims.
func (c AMD64Report) InstructionBytes() []byte {
	n := int(c.InstructionCount)
	if n > MaxInstructionStream {
		n = MaxInstructionStream
	}
	return c.Instructions[:n]
}

// InstructionBytes returns the valid code bytes of an x86 report,
// bounded by the stream size whatever the target claims.
func (c X86Report) InstructionBytes() []byte {
	n := int(c.InstructionCount)
	if n > MaxInstructionStream {
		n = MaxInstructionStream
	}
	return c.Instructions[:n]
}

// ImagePath returns the image path of a LoadSymbols state change, bounded by
// the extra data and cut at the first NUL.
func (s *StateChange) ImagePath() []byte {
	// Compare unsigned: on 32-bit platforms int(PathNameLength) can be
	// negative for a lying target.
	n := len(s.Extra)
	if uint64(s.LoadSymbols.PathNameLength) < uint64(n) {
		n = int(s.LoadSymbols.PathNameLength)
	}
	p := s.Extra[:n]
	for i, c := range p {
		if c == 0 {
			return p[:i]
		}
	}
	return p
}

func (s StateChange) String() string {
	switch s.NewState &^ StateAlternate {
	case StateException:
		return fmt.Sprintf("%s cpu=%d/%d pc=%016x code=%08x first=%d", s.NewState, s.Processor, s.NumberProcessors, s.PC, uint32(s.Exception.Code), s.Exception.FirstChance)
	case StateLoadSymbols:
		return fmt.Sprintf("%s cpu=%d/%d base=%016x unload=%v", s.NewState, s.Processor, s.NumberProcessors, s.LoadSymbols.BaseOfDll, s.LoadSymbols.Unload)
	}
	return fmt.Sprintf("%s cpu=%d/%d pc=%016x", s.NewState, s.Processor, s.NumberProcessors, s.PC)
}
