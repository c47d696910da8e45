package kdproto

import (
	"encoding/binary"
	"fmt"
)

var le = binary.LittleEndian

// UnionSize is the size of the union in DBGKD_MANIPULATE_STATE64 (at 0x10).
const UnionSize = ManipulateSize - 0x10

// Manipulate is DBGKD_MANIPULATE_STATE64, the 0x38-byte header of every
// STATE_MANIPULATE packet, plus the message data that follows it.
//
//	0x00 ApiNumber (32), 0x04 ProcessorLevel (16), 0x06 Processor (16),
//	0x08 ReturnStatus (32), 0x0C pad (32), 0x10 union (0x28 bytes)
//
// The union is kept as raw bytes; the typed views below (ReadMemory,
// Context, Continue2, ...) encode and decode it.
type Manipulate struct {
	API            API
	ProcessorLevel uint16
	Processor      uint16
	ReturnStatus   Status
	U              [UnionSize]byte
	Data           []byte
}

// Append appends the payload of m (header and data) to dst.
func (m *Manipulate) Append(dst []byte) []byte {
	dst = le.AppendUint32(dst, uint32(m.API))
	dst = le.AppendUint16(dst, m.ProcessorLevel)
	dst = le.AppendUint16(dst, m.Processor)
	dst = le.AppendUint32(dst, uint32(m.ReturnStatus))
	dst = le.AppendUint32(dst, 0)
	dst = append(dst, m.U[:]...)
	return append(dst, m.Data...)
}

// ParseManipulate decodes a STATE_MANIPULATE payload. Data aliases b.
func ParseManipulate(b []byte) (Manipulate, error) {
	if len(b) < ManipulateSize {
		return Manipulate{}, fmt.Errorf("%w: manipulate payload is %d bytes, want at least %d", ErrShortPayload, len(b), ManipulateSize)
	}
	m := Manipulate{
		API:            API(le.Uint32(b)),
		ProcessorLevel: le.Uint16(b[4:]),
		Processor:      le.Uint16(b[6:]),
		ReturnStatus:   Status(le.Uint32(b[8:])),
		Data:           b[ManipulateSize:len(b):len(b)],
	}
	copy(m.U[:], b[0x10:ManipulateSize])
	return m, nil
}

func (m Manipulate) String() string {
	// Status is also an error, and fmt prefers Error over String: call
	// String explicitly.
	return fmt.Sprintf("%s cpu=%d status=%s data=%d", m.API, m.Processor, m.ReturnStatus.String(), len(m.Data))
}

// Union views. Each type is one member of the manipulate union; Put writes
// it into a union and the Manipulate methods of the same name read it back.
// Offsets in comments are from the start of the payload.

// Memory is DBGKD_READ_MEMORY64 / DBGKD_WRITE_MEMORY64 (also used for
// physical memory and control space).
//
//	0x10 TargetBaseAddress (64), 0x18 TransferCount (32), 0x1C ActualBytes (32)
//
// For physical memory requests ActualBytes carries the caching mode.
type Memory struct {
	Address       uint64
	TransferCount uint32
	ActualBytes   uint32
}

// Put stores v in u.
func (v Memory) Put(u *[UnionSize]byte) {
	le.PutUint64(u[0:], v.Address)
	le.PutUint32(u[8:], v.TransferCount)
	le.PutUint32(u[12:], v.ActualBytes)
}

// Memory decodes the union as a memory transfer.
func (m *Manipulate) Memory() Memory {
	return Memory{le.Uint64(m.U[0:]), le.Uint32(m.U[8:]), le.Uint32(m.U[12:])}
}

// ContextFlags returns the single 32-bit field of DBGKD_GET_CONTEXT
// (Unused) and DBGKD_SET_CONTEXT (ContextFlags) at 0x10.
func (m *Manipulate) ContextFlags() uint32 { return le.Uint32(m.U[0:]) }

// BreakPoint is DBGKD_WRITE_BREAKPOINT64 and DBGKD_RESTORE_BREAKPOINT.
//
//	0x10 BreakPointAddress (64), 0x18 BreakPointHandle (32)
//
// RestoreBreakPoint carries only the handle, at 0x10.
type BreakPoint struct {
	Address uint64
	Handle  uint32
}

// Put stores a WriteBreakPoint union.
func (v BreakPoint) Put(u *[UnionSize]byte) {
	le.PutUint64(u[0:], v.Address)
	le.PutUint32(u[8:], v.Handle)
}

// BreakPoint decodes a WriteBreakPoint union.
func (m *Manipulate) BreakPoint() BreakPoint {
	return BreakPoint{le.Uint64(m.U[0:]), le.Uint32(m.U[8:])}
}

// RestoreHandle is the handle of a RestoreBreakPoint request (0x10).
func (m *Manipulate) RestoreHandle() uint32 { return le.Uint32(m.U[0:]) }

// Continue2 is DBGKD_CONTINUE2 with the AMD64 control set (ContinueApi uses
// only Status).
//
//	0x10 ContinueStatus (32), 0x14 TraceFlag (32), 0x18 Dr7 (64),
//	0x20 CurrentSymbolStart (64), 0x28 CurrentSymbolEnd (64)
//
// The x86 control set packs Dr7, CurrentSymbolStart and CurrentSymbolEnd as
// 32-bit fields at 0x18, 0x1C and 0x20; set X86 to use it.
type Continue2 struct {
	Status      Status
	TraceFlag   uint32
	Dr7         uint64
	SymbolStart uint64
	SymbolEnd   uint64
	X86         bool
}

// Put stores v in u.
func (v Continue2) Put(u *[UnionSize]byte) {
	le.PutUint32(u[0:], uint32(v.Status))
	le.PutUint32(u[4:], v.TraceFlag)
	if v.X86 {
		le.PutUint32(u[8:], uint32(v.Dr7))
		le.PutUint32(u[12:], uint32(v.SymbolStart))
		le.PutUint32(u[16:], uint32(v.SymbolEnd))
		return
	}
	le.PutUint64(u[8:], v.Dr7)
	le.PutUint64(u[16:], v.SymbolStart)
	le.PutUint64(u[24:], v.SymbolEnd)
}

// Continue2 decodes a Continue2 (or Continue) union with the AMD64 layout.
func (m *Manipulate) Continue2() Continue2 {
	return Continue2{Status: Status(le.Uint32(m.U[0:])), TraceFlag: le.Uint32(m.U[4:]),
		Dr7: le.Uint64(m.U[8:]), SymbolStart: le.Uint64(m.U[16:]), SymbolEnd: le.Uint64(m.U[24:])}
}

// Continue2X86 decodes a Continue2 union with the x86 control set: Dr7,
// CurrentSymbolStart and CurrentSymbolEnd are 32-bit fields at 0x18, 0x1C
// and 0x20. The result has X86 set, so Put writes the same layout back.
func (m *Manipulate) Continue2X86() Continue2 {
	return Continue2{Status: Status(le.Uint32(m.U[0:])), TraceFlag: le.Uint32(m.U[4:]),
		Dr7: uint64(le.Uint32(m.U[8:])), SymbolStart: uint64(le.Uint32(m.U[12:])),
		SymbolEnd: uint64(le.Uint32(m.U[16:])), X86: true}
}

// IO is DBGKD_READ_WRITE_IO64.
//
//	0x10 IoAddress (64), 0x18 DataSize (32), 0x1C DataValue (32)
type IO struct {
	Address  uint64
	DataSize uint32
	Value    uint32
}

// Put stores v in u.
func (v IO) Put(u *[UnionSize]byte) {
	le.PutUint64(u[0:], v.Address)
	le.PutUint32(u[8:], v.DataSize)
	le.PutUint32(u[12:], v.Value)
}

// IO decodes a Read/WriteIoSpace union.
func (m *Manipulate) IO() IO { return IO{le.Uint64(m.U[0:]), le.Uint32(m.U[8:]), le.Uint32(m.U[12:])} }

// IOExtended is DBGKD_READ_WRITE_IO_EXTENDED64.
//
//	0x10 DataSize, 0x14 InterfaceType, 0x18 BusNumber, 0x1C AddressSpace (32 each),
//	0x20 IoAddress (64), 0x28 DataValue (32)
type IOExtended struct {
	DataSize      uint32
	InterfaceType uint32
	BusNumber     uint32
	AddressSpace  uint32
	Address       uint64
	Value         uint32
}

// Put stores v in u.
func (v IOExtended) Put(u *[UnionSize]byte) {
	le.PutUint32(u[0:], v.DataSize)
	le.PutUint32(u[4:], v.InterfaceType)
	le.PutUint32(u[8:], v.BusNumber)
	le.PutUint32(u[12:], v.AddressSpace)
	le.PutUint64(u[16:], v.Address)
	le.PutUint32(u[24:], v.Value)
}

// IOExtended decodes a Read/WriteIoSpaceExtended union.
func (m *Manipulate) IOExtended() IOExtended {
	return IOExtended{le.Uint32(m.U[0:]), le.Uint32(m.U[4:]), le.Uint32(m.U[8:]), le.Uint32(m.U[12:]), le.Uint64(m.U[16:]), le.Uint32(m.U[24:])}
}

// MSR is DBGKD_READ_WRITE_MSR.
//
//	0x10 Msr, 0x14 DataValueLow, 0x18 DataValueHigh (32 each)
type MSR struct {
	MSR   uint32
	Value uint64
}

// Put stores v in u.
func (v MSR) Put(u *[UnionSize]byte) {
	le.PutUint32(u[0:], v.MSR)
	le.PutUint32(u[4:], uint32(v.Value))
	le.PutUint32(u[8:], uint32(v.Value>>32))
}

// MSR decodes a Read/WriteMSR union.
func (m *Manipulate) MSR() MSR {
	return MSR{le.Uint32(m.U[0:]), uint64(le.Uint32(m.U[4:])) | uint64(le.Uint32(m.U[8:]))<<32}
}

// SearchMemory is DBGKD_SEARCH_MEMORY; the pattern travels as data.
//
//	0x10 SearchAddress / FoundAddress (64), 0x18 SearchLength (64), 0x20 PatternLength (32)
type SearchMemory struct {
	Address       uint64
	Length        uint64
	PatternLength uint32
}

// Put stores v in u.
func (v SearchMemory) Put(u *[UnionSize]byte) {
	le.PutUint64(u[0:], v.Address)
	le.PutUint64(u[8:], v.Length)
	le.PutUint32(u[16:], v.PatternLength)
}

// SearchMemory decodes a SearchMemory union.
func (m *Manipulate) SearchMemory() SearchMemory {
	return SearchMemory{le.Uint64(m.U[0:]), le.Uint64(m.U[8:]), le.Uint32(m.U[16:])}
}

// FillMemory is DBGKD_FILL_MEMORY; the pattern travels as data.
//
//	0x10 Address (64), 0x18 Length (32), 0x1C Flags (16), 0x1E PatternLength (16)
type FillMemory struct {
	Address       uint64
	Length        uint32
	Flags         uint16 // 1 virtual, 2 physical
	PatternLength uint16
}

// Put stores v in u.
func (v FillMemory) Put(u *[UnionSize]byte) {
	le.PutUint64(u[0:], v.Address)
	le.PutUint32(u[8:], v.Length)
	le.PutUint16(u[12:], v.Flags)
	le.PutUint16(u[14:], v.PatternLength)
}

// FillMemory decodes a FillMemory union.
func (m *Manipulate) FillMemory() FillMemory {
	return FillMemory{le.Uint64(m.U[0:]), le.Uint32(m.U[8:]), le.Uint16(m.U[12:]), le.Uint16(m.U[14:])}
}

// QueryMemory is DBGKD_QUERY_MEMORY.
//
//	0x10 Address (64), 0x18 Reserved (64), 0x20 AddressSpace (32), 0x24 Flags (32)
type QueryMemory struct {
	Address      uint64
	AddressSpace uint32 // reply: 0 process, 1 session, 2 kernel
	Flags        uint32 // reply: 1 read, 2 write, 4 execute, 8 fixed
}

// Put stores v in u.
func (v QueryMemory) Put(u *[UnionSize]byte) {
	le.PutUint64(u[0:], v.Address)
	le.PutUint64(u[8:], 0)
	le.PutUint32(u[16:], v.AddressSpace)
	le.PutUint32(u[20:], v.Flags)
}

// QueryMemory decodes a QueryMemory union.
func (m *Manipulate) QueryMemory() QueryMemory {
	return QueryMemory{le.Uint64(m.U[0:]), le.Uint32(m.U[16:]), le.Uint32(m.U[20:])}
}

// BusData is DBGKD_GET_SET_BUS_DATA; the bus bytes travel as data.
//
//	0x10 BusDataType, 0x14 BusNumber, 0x18 SlotNumber, 0x1C Offset, 0x20 Length (32 each)
type BusData struct {
	BusDataType uint32
	BusNumber   uint32
	SlotNumber  uint32
	Offset      uint32
	Length      uint32
}

// Put stores v in u.
func (v BusData) Put(u *[UnionSize]byte) {
	le.PutUint32(u[0:], v.BusDataType)
	le.PutUint32(u[4:], v.BusNumber)
	le.PutUint32(u[8:], v.SlotNumber)
	le.PutUint32(u[12:], v.Offset)
	le.PutUint32(u[16:], v.Length)
}

// BusData decodes a Get/SetBusData union.
func (m *Manipulate) BusData() BusData {
	return BusData{le.Uint32(m.U[0:]), le.Uint32(m.U[4:]), le.Uint32(m.U[8:]), le.Uint32(m.U[12:]), le.Uint32(m.U[16:])}
}

// ContextEx is DBGKD_CONTEXT_EX; the CONTEXT slice travels as data.
//
//	0x10 Offset, 0x14 ByteCount, 0x18 BytesCopied (32 each)
type ContextEx struct {
	Offset      uint32
	ByteCount   uint32
	BytesCopied uint32
}

// Put stores v in u.
func (v ContextEx) Put(u *[UnionSize]byte) {
	le.PutUint32(u[0:], v.Offset)
	le.PutUint32(u[4:], v.ByteCount)
	le.PutUint32(u[8:], v.BytesCopied)
}

// ContextEx decodes a Get/SetContextEx union.
func (m *Manipulate) ContextEx() ContextEx {
	return ContextEx{le.Uint32(m.U[0:]), le.Uint32(m.U[4:]), le.Uint32(m.U[8:])}
}

// Uint32Field is a union holding one 32-bit value at 0x10: GetContext
// (Unused), SetContext (ContextFlags), RestoreBreakPoint (handle), Continue
// (ContinueStatus) and SwitchPartition.
type Uint32Field uint32

// Put stores v in u.
func (v Uint32Field) Put(u *[UnionSize]byte) { le.PutUint32(u[0:], uint32(v)) }

// Union is implemented by every union view.
type Union interface{ Put(u *[UnionSize]byte) }

// NewManipulate returns a request for api on processor cpu with union u
// (nil for none) and data.
func NewManipulate(api API, cpu uint16, u Union, data []byte) Manipulate {
	m := Manipulate{API: api, Processor: cpu, Data: data}
	if u != nil {
		u.Put(&m.U)
	}
	return m
}
