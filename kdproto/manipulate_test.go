package kdproto_test

import (
	"bytes"
	"errors"
	"testing"

	. "github.com/gokd/kd/kdproto"
)

// unionCase is one member of the DBGKD_MANIPULATE_STATE64 union: the view,
// the exact bytes it occupies from payload offset 0x10, and the accessor that
// reads it back.
type unionCase struct {
	name   string
	api    API
	view   Union
	wire   string // the union bytes the view writes, from payload offset 0x10
	decode func(m *Manipulate) any
}

func unionCases() []unionCase {
	return []unionCase{
		{"read virtual", APIReadVirtualMemory,
			Memory{Address: 0xFFFFF80012345678, TransferCount: 0x100, ActualBytes: 0x80},
			"78563412 00f8ffff | 0x10 TargetBaseAddress\n 00010000 | 0x18 TransferCount\n 80000000 | 0x1C ActualBytesRead",
			func(m *Manipulate) any { return m.Memory() }},
		{"read physical uncached", APIReadPhysicalMemory,
			Memory{Address: 0xFEE00000, TransferCount: 4, ActualBytes: 2},
			"0000e0fe 00000000 04000000 02000000 | caching mode 2 in ActualBytes",
			func(m *Manipulate) any { return m.Memory() }},
		{"write breakpoint", APIWriteBreakPoint,
			BreakPoint{Address: 0xFFFFF80000001000, Handle: 5},
			"00100000 00f8ffff | 0x10 BreakPointAddress\n 05000000 | 0x18 BreakPointHandle",
			func(m *Manipulate) any { return m.BreakPoint() }},
		{"restore breakpoint", APIRestoreBreakPoint, Uint32Field(5), "05000000",
			func(m *Manipulate) any { return Uint32Field(m.RestoreHandle()) }},
		{"get context", APIGetContext, Uint32Field(0x1003F), "3f000100",
			func(m *Manipulate) any { return Uint32Field(m.ContextFlags()) }},
		{"set context", APISetContext, Uint32Field(ContextAMD64Full), "0b001000",
			func(m *Manipulate) any { return Uint32Field(m.ContextFlags()) }},
		{"continue", APIContinue, Uint32Field(DbgExceptionHandled), "01000100",
			func(m *Manipulate) any { return Uint32Field(m.Continue2().Status) }},
		{"continue2 amd64", APIContinue2,
			Continue2{Status: DbgContinue, TraceFlag: 1, Dr7: 0x401, SymbolStart: 0xFFFFF80000002000, SymbolEnd: 0xFFFFF80000002040},
			`02000100          | 0x10 ContinueStatus
			 01000000          | 0x14 TraceFlag
			 0104000000000000  | 0x18 Dr7 (64)
			 0020000000f8ffff  | 0x20 CurrentSymbolStart (64)
			 4020000000f8ffff  | 0x28 CurrentSymbolEnd (64)`,
			func(m *Manipulate) any { return m.Continue2() }},
		{"continue2 x86", APIContinue2,
			Continue2{Status: DbgExceptionNotHandled, Dr7: 0x155, SymbolStart: 0x80501000, SymbolEnd: 0x80501010, X86: true},
			`01000180  | 0x10 ContinueStatus
			 00000000  | 0x14 TraceFlag
			 55010000  | 0x18 Dr7 (32)
			 00105080  | 0x1C CurrentSymbolStart (32)
			 10105080  | 0x20 CurrentSymbolEnd (32)`,
			func(m *Manipulate) any { return m.Continue2X86() }},
		{"io", APIReadIoSpace, IO{Address: 0x3F8, DataSize: 1, Value: 0x41},
			"f803000000000000 | 0x10 IoAddress\n 01000000 | 0x18 DataSize\n 41000000 | 0x1C DataValue",
			func(m *Manipulate) any { return m.IO() }},
		{"io extended", APIWriteIoSpaceExtended,
			IOExtended{DataSize: 4, InterfaceType: 1, BusNumber: 2, AddressSpace: 1, Address: 0xCF8, Value: 0x80000000},
			`04000000 01000000 02000000 01000000 | 0x10 DataSize, InterfaceType, BusNumber, AddressSpace
			 f80c000000000000                    | 0x20 IoAddress
			 00000080                            | 0x28 DataValue`,
			func(m *Manipulate) any { return m.IOExtended() }},
		{"msr", APIReadMachineSpecificRegister, MSR{MSR: 0xC0000082, Value: 0xFFFFF80012345678},
			"820000c0 | 0x10 Msr\n 78563412 | 0x14 DataValueLow\n 00f8ffff | 0x18 DataValueHigh",
			func(m *Manipulate) any { return m.MSR() }},
		{"search memory", APISearchMemory, SearchMemory{Address: 0xFFFFF80000000000, Length: 0x100000, PatternLength: 4},
			"0000000000f8ffff | 0x10 SearchAddress\n 0000100000000000 | 0x18 SearchLength\n 04000000 | 0x20 PatternLength",
			func(m *Manipulate) any { return m.SearchMemory() }},
		{"fill memory", APIFillMemory, FillMemory{Address: 0x1000, Length: 0x2000, Flags: 2, PatternLength: 1},
			"0010000000000000 | 0x10 Address\n 00200000 | 0x18 Length\n 0200 | 0x1C Flags\n 0100 | 0x1E PatternLength",
			func(m *Manipulate) any { return m.FillMemory() }},
		{"query memory", APIQueryMemory, QueryMemory{Address: 0xFFFFF80000000000, AddressSpace: 2, Flags: 7},
			"0000000000f8ffff | 0x10 Address\n 0000000000000000 | 0x18 Reserved\n 02000000 | 0x20 AddressSpace\n 07000000 | 0x24 Flags",
			func(m *Manipulate) any { return m.QueryMemory() }},
		{"bus data", APIGetBusData, BusData{BusDataType: 4, BusNumber: 1, SlotNumber: 0x18, Offset: 0x10, Length: 4},
			"04000000 01000000 18000000 10000000 04000000 | 0x10 BusDataType, BusNumber, SlotNumber, Offset, Length",
			func(m *Manipulate) any { return m.BusData() }},
		{"context ex", APIGetContextEx, ContextEx{Offset: 0x78, ByteCount: 0x80, BytesCopied: 0x80},
			"78000000 80000000 80000000 | 0x10 Offset, ByteCount, BytesCopied",
			func(m *Manipulate) any { return m.ContextEx() }},
		{"switch partition", APISwitchPartition, Uint32Field(1), "01000000",
			func(m *Manipulate) any { return Uint32Field(m.ContextFlags()) }},
		{"version", APIGetVersion, sampleVersion(), sampleVersionWire,
			func(m *Manipulate) any { return m.Version() }},
	}
}

func TestManipulateUnionViews(t *testing.T) {
	for _, tt := range unionCases() {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.wire)

			// Put writes exactly the view's bytes and nothing after them.
			var u [UnionSize]byte
			for i := range u {
				u[i] = 0xEE
			}
			tt.view.Put(&u)
			if !bytes.Equal(u[:len(want)], want) {
				t.Errorf("%T.Put = %x; want %x", tt.view, u[:len(want)], want)
			}
			for i := len(want); i < UnionSize; i++ {
				if u[i] != 0xEE {
					t.Errorf("%T.Put wrote union byte %#x (payload offset %#x); want only the first %#x bytes", tt.view, i, 0x10+i, len(want))
					break
				}
			}

			// Encode a request, check the payload offsets, decode it back.
			m := NewManipulate(tt.api, 1, tt.view, []byte{0xDE, 0xAD})
			payload := m.Append(nil)
			if len(payload) != ManipulateSize+2 {
				t.Fatalf("Manipulate.Append = %d bytes; want %d", len(payload), ManipulateSize+2)
			}
			if !bytes.Equal(payload[0x10:0x10+len(want)], want) {
				t.Errorf("payload[0x10:] = %x; want %x", payload[0x10:0x10+len(want)], want)
			}
			got, err := ParseManipulate(payload)
			if err != nil {
				t.Fatalf("ParseManipulate(%x): %v", payload, err)
			}
			if got.API != tt.api || got.Processor != 1 || !bytes.Equal(got.Data, []byte{0xDE, 0xAD}) {
				t.Errorf("ParseManipulate(%x) = %v; want %v on cpu 1 with data dead", payload, got, tt.api)
			}
			if v := tt.decode(&got); v != any(tt.view) {
				t.Errorf("decode(ParseManipulate(%x)) = %+v; want %+v", payload, v, tt.view)
			}
		})
	}
}

func TestManipulateHeader(t *testing.T) {
	m := Manipulate{API: APIReadVirtualMemory, ProcessorLevel: 6, Processor: 3, ReturnStatus: StatusUnsuccessful, Data: []byte("data")}
	Memory{Address: 0x1000, TransferCount: 4, ActualBytes: 4}.Put(&m.U)
	want := unhex(t, `
		30310000           | 0x00 ApiNumber
		0600 0300          | 0x04 ProcessorLevel, 0x06 Processor
		010000c0           | 0x08 ReturnStatus
		00000000           | 0x0C pad
		0010000000000000 04000000 04000000 0000000000000000 0000000000000000 0000000000000000 | 0x10 union
		64617461           | 0x38 data`)
	got := m.Append(nil)
	if !bytes.Equal(got, want) {
		t.Fatalf("Manipulate.Append(%v) = %x; want %x", m, got, want)
	}
	back, err := ParseManipulate(got)
	if err != nil {
		t.Fatalf("ParseManipulate(%x): %v", got, err)
	}
	if back.API != m.API || back.ProcessorLevel != 6 || back.Processor != 3 || back.ReturnStatus != StatusUnsuccessful ||
		back.U != m.U || string(back.Data) != "data" {
		t.Errorf("ParseManipulate(%x) = %+v; want %+v", got, back, m)
	}
	if back.ReturnStatus.Success() {
		t.Errorf("ReturnStatus %v reports success", back.ReturnStatus)
	}
	if got, want := back.String(), "ReadVirtualMemory cpu=3 status=STATUS_UNSUCCESSFUL data=4"; got != want {
		t.Errorf("Manipulate.String() = %q; want %q", got, want)
	}
}

func TestParseManipulate(t *testing.T) {
	req := NewManipulate(APIGetVersion, 0, sampleVersion(), nil)
	base := req.Append(nil)
	withPad := append([]byte(nil), base...)
	withPad[0x0C], withPad[0x0F] = 0x11, 0x22 // WinDbg does not zero padding
	tests := []struct {
		name     string
		in       []byte
		wantErr  error
		wantData int
	}{
		{"nil", nil, ErrShortPayload, 0},
		{"header minus one", base[:ManipulateSize-1], ErrShortPayload, 0},
		{"exact header", base, nil, 0},
		{"pad ignored", withPad, nil, 0},
		{"with data", append(append([]byte(nil), base...), make([]byte, MaxTransfer)...), nil, MaxTransfer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseManipulate(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseManipulate(%x) = %v; want %v", tt.in, err, tt.wantErr)
			}
			var pe *PacketError
			if errors.As(err, &pe) {
				t.Errorf("ParseManipulate error %v is a *PacketError; payload errors are not framing errors", err)
			}
			if err != nil {
				return
			}
			if len(m.Data) != tt.wantData || cap(m.Data) != len(m.Data) {
				t.Errorf("ParseManipulate(%x).Data len %d cap %d; want len %d with capped capacity", tt.in, len(m.Data), cap(m.Data), tt.wantData)
			}
			if m.Version() != sampleVersion() {
				t.Errorf("ParseManipulate(%x).Version() = %+v; want %+v", tt.in, m.Version(), sampleVersion())
			}
			// Re-encoding zeroes the pad at 0x0C and is otherwise identical.
			want := append([]byte(nil), tt.in...)
			copy(want[0x0C:0x10], make([]byte, 4))
			if got := m.Append(nil); !bytes.Equal(got, want) {
				t.Errorf("Append(ParseManipulate(%x)) = %x; want %x", tt.in, got, want)
			}
		})
	}
}

func TestNewManipulateNilUnion(t *testing.T) {
	m := NewManipulate(APIReboot, 2, nil, nil)
	if m.API != APIReboot || m.Processor != 2 || m.U != ([UnionSize]byte{}) || m.Data != nil || m.ReturnStatus != StatusSuccess {
		t.Errorf("NewManipulate(Reboot, 2, nil, nil) = %+v; want a zero union", m)
	}
}

func TestReadMemoryReply(t *testing.T) {
	// A ReadVirtual reply: the union echoes the request with ActualBytesRead
	// filled in and the bytes follow as message data in the same packet.
	mem := bytes.Repeat([]byte{0xCC}, MaxTransfer)
	reply := NewManipulate(APIReadVirtualMemory, 0, Memory{Address: 0xFFFFF80000000000, TransferCount: MaxTransfer, ActualBytes: MaxTransfer}, mem)
	pkt := AppendData(nil, PacketTypeStateManipulate, 0x80800001, reply.Append(nil))
	if len(pkt) != HeaderSize+MaxPacketSize+1 {
		t.Fatalf("largest read reply is %d bytes on the wire; want %d", len(pkt), HeaderSize+MaxPacketSize+1)
	}
	p, _, err := ParsePacket(pkt)
	if err != nil {
		t.Fatalf("ParsePacket(read reply): %v", err)
	}
	m, err := ParseManipulate(p.Payload)
	if err != nil {
		t.Fatalf("ParseManipulate(read reply): %v", err)
	}
	if got := m.Memory(); got.ActualBytes != MaxTransfer || !bytes.Equal(m.Data, mem) {
		t.Errorf("read reply decoded as %+v with %d data bytes; want ActualBytes %d and the data", got, len(m.Data), MaxTransfer)
	}
}
