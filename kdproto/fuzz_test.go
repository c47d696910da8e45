package kdproto_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/iotest"

	. "github.com/gokd/kd/kdproto"
)

// The fuzz targets below check properties, never just "no panic":
//
//   - FuzzParsePacket: an accepted packet re-encodes to exactly the bytes
//     consumed, and the Reader decodes the same packet from the same bytes.
//   - FuzzReader: any stream ends, every packet read re-parses, and the way
//     the stream is chunked does not change what is read.
//   - FuzzParseMessage: an accepted packet re-encodes to exactly the
//     message (a data packet) or its first 16 bytes (a control packet); a
//     rejected one reports the header it was sent with.
//   - FuzzParseStateChange, FuzzParseManipulate, FuzzParseDebugIO,
//     FuzzParseFileIO: decode, re-encode and decode again give the same
//     value, and every byte the format gives a meaning to survives.
//
// Their seed corpora live in testdata/fuzz/<Name>/ and are generated from
// seedCorpus; TestFuzzSeedCorpus keeps the two in step.

var updateFuzzSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite the generated seed files under testdata/fuzz")

func FuzzParsePacket(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		p, n, err := ParsePacket(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("ParsePacket(%x) = _, %d, %v; want 0 consumed on error", b, n, err)
			}
			var pe *PacketError
			if errors.As(err, &pe) {
				if h, _ := ParseHeader(b); pe.Header != h {
					t.Fatalf("ParsePacket(%x) error header %+v; want %+v", b, pe.Header, h)
				}
			}
			return
		}
		_ = p.String()
		if n < HeaderSize || n > len(b) {
			t.Fatalf("ParsePacket(%x) consumed %d bytes", b, n)
		}
		if re := AppendPacket(nil, p); !bytes.Equal(re, b[:n]) {
			t.Fatalf("AppendPacket(ParsePacket(%x)) = %x; want %x", b, re, b[:n])
		}
		if !p.IsControl() {
			if n != HeaderSize+len(p.Payload)+1 || int(p.ByteCount) != len(p.Payload) || len(p.Payload) > MaxPacketSize {
				t.Fatalf("ParsePacket(%x): ByteCount %d, payload %d, consumed %d", b, p.ByteCount, len(p.Payload), n)
			}
			if Checksum(p.Payload) != p.Checksum {
				t.Fatalf("ParsePacket(%x) accepted a bad checksum", b)
			}
		}
		// The stream reader agrees, unless the type's low byte repeats the
		// leader byte (the Reader skips such bytes as noise).
		if byte(p.Type) == b[0] {
			return
		}
		q, err := NewReader(bytes.NewReader(b[:n]), 0).ReadPacket()
		if err != nil || q.Header != p.Header || !bytes.Equal(q.Payload, p.Payload) {
			t.Fatalf("Reader over %x = %+v, %v; ParsePacket gave %+v", b[:n], q, err, p)
		}
	})
}

// readOutcome is one ReadPacket result in a comparable form.
type readOutcome struct {
	hdr     Header
	payload string
	err     string
}

func readStream(t *testing.T, r io.Reader, limit int) ([]readOutcome, int) {
	t.Helper()
	kr := NewReader(r, 0)
	var out []readOutcome
	for i := 0; ; i++ {
		if i > limit {
			t.Fatalf("ReadPacket did not reach the end of a %d-byte stream", limit)
		}
		p, err := kr.ReadPacket()
		if err != nil {
			var pe *PacketError
			if errors.As(err, &pe) {
				if pe.Err != ErrPacketTooLarge && pe.Err != ErrBadTrailer && pe.Err != ErrBadChecksum {
					t.Fatalf("ReadPacket: unexpected *PacketError %v", err)
				}
				out = append(out, readOutcome{hdr: pe.Header, err: pe.Err.Error()})
				continue
			}
			if err != io.EOF && err != io.ErrUnexpectedEOF {
				t.Fatalf("ReadPacket: unexpected error %v", err)
			}
			return append(out, readOutcome{err: err.Error()}), kr.Skipped()
		}
		enc := AppendPacket(nil, p)
		q, n, err := ParsePacket(enc)
		if err != nil || n != len(enc) || q.Header != p.Header || !bytes.Equal(q.Payload, p.Payload) {
			t.Fatalf("ParsePacket(AppendPacket(%+v)) = %+v, %d, %v", p, q, n, err)
		}
		out = append(out, readOutcome{hdr: p.Header, payload: string(p.Payload)})
	}
}

func FuzzReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, stream []byte) {
		whole, skipped := readStream(t, bytes.NewReader(stream), len(stream)+1)
		if skipped > len(stream) {
			t.Fatalf("Skipped() = %d for a %d-byte stream", skipped, len(stream))
		}
		bytewise, skipped2 := readStream(t, iotest.OneByteReader(bytes.NewReader(stream)), len(stream)+1)
		if !reflect.DeepEqual(whole, bytewise) || skipped != skipped2 {
			t.Fatalf("stream %x read whole: %+v (skipped %d); one byte at a time: %+v (skipped %d)", stream, whole, skipped, bytewise, skipped2)
		}
	})
}

func FuzzParseMessage(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseMessage(b, 0)
		if err != nil {
			var pe *PacketError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseMessage(%x) = %v; want a *PacketError", b, err)
			}
			if h, herr := ParseHeader(b); herr == nil && pe.Header != h {
				t.Fatalf("ParseMessage(%x) error header %+v; want %+v", b, pe.Header, h)
			}
			return
		}
		_ = p.String()
		if p.IsControl() {
			if re := AppendHeader(nil, p.Header); !bytes.Equal(re, b[:HeaderSize]) {
				t.Fatalf("control header of %x re-encodes to %x", b, re)
			}
			return
		}
		re := append(AppendHeader(nil, p.Header), p.Payload...)
		if !bytes.Equal(re, b) || len(p.Payload) > MaxPacketSize || Checksum(p.Payload) != p.Checksum {
			t.Fatalf("ParseMessage(%x) = %+v, re-encoded %x", b, p.Header, re)
		}
	})
}

func FuzzParseStateChange(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStateChange(b)
		if err != nil {
			if len(b) >= StateChangeSize {
				t.Fatalf("ParseStateChange(%d bytes) = %v", len(b), err)
			}
			return
		}
		_ = s.String()
		if a := s.AMD64Report(); len(a.InstructionBytes()) > MaxInstructionStream {
			t.Fatalf("AMD64 InstructionBytes longer than the stream")
		}
		if x := s.X86Report(); len(x.InstructionBytes()) > MaxInstructionStream {
			t.Fatalf("x86 InstructionBytes longer than the stream")
		}
		path := s.ImagePath()
		if len(path) > len(s.Extra) || uint64(len(path)) > uint64(s.LoadSymbols.PathNameLength) || bytes.IndexByte(path, 0) >= 0 {
			t.Fatalf("ImagePath() = %q for PathNameLength %d and extra %x", path, s.LoadSymbols.PathNameLength, s.Extra)
		}

		enc := s.Append(nil)
		if len(enc) != len(b) {
			t.Fatalf("Append(ParseStateChange(%x)) is %d bytes; want %d", b, len(enc), len(b))
		}
		s2, err := ParseStateChange(enc)
		if err != nil || !reflect.DeepEqual(s2, s) {
			t.Fatalf("ParseStateChange(Append(ParseStateChange(%x))) = %+v, %v; want %+v", b, s2, err, s)
		}
		// Every byte with a meaning for this kind of state change survives;
		// padding and uninterpreted union bytes come back as zero.
		keep := [][2]int{{0, 0x0C}, {0x10, 0x20}, {0xC0, len(b)}}
		switch s.NewState &^ StateAlternate {
		case StateException:
			keep = append(keep, [2]int{0x20, 0x3C}, [2]int{0x40, 0xBC})
		case StateLoadSymbols:
			keep = append(keep, [2]int{0x20, 0x24}, [2]int{0x28, 0x40})
			if (b[0x40] != 0) != (enc[0x40] == 1) {
				t.Fatalf("UnloadSymbols %#x re-encoded as %#x", b[0x40], enc[0x40])
			}
		}
		want := make([]byte, len(b))
		for _, r := range keep {
			copy(want[r[0]:r[1]], b[r[0]:r[1]])
		}
		if s.NewState&^StateAlternate == StateLoadSymbols && s.LoadSymbols.Unload {
			want[0x40] = 1
		}
		if !bytes.Equal(enc, want) {
			t.Fatalf("Append(ParseStateChange(%x)) = %x; want %x", b, enc, want)
		}
	})
}

// unionView decodes one union member and names the union bytes its Put
// always zeroes (reserved fields).
type unionView struct {
	name   string
	decode func(m *Manipulate) Union
	zeroed [][2]int
}

var unionViews = []unionView{
	{"Memory", func(m *Manipulate) Union { return m.Memory() }, nil},
	{"BreakPoint", func(m *Manipulate) Union { return m.BreakPoint() }, nil},
	{"Continue2", func(m *Manipulate) Union { return m.Continue2() }, nil},
	{"Continue2X86", func(m *Manipulate) Union { return m.Continue2X86() }, nil},
	{"IO", func(m *Manipulate) Union { return m.IO() }, nil},
	{"IOExtended", func(m *Manipulate) Union { return m.IOExtended() }, nil},
	{"MSR", func(m *Manipulate) Union { return m.MSR() }, nil},
	{"SearchMemory", func(m *Manipulate) Union { return m.SearchMemory() }, nil},
	{"FillMemory", func(m *Manipulate) Union { return m.FillMemory() }, nil},
	{"QueryMemory", func(m *Manipulate) Union { return m.QueryMemory() }, [][2]int{{8, 16}}},
	{"BusData", func(m *Manipulate) Union { return m.BusData() }, nil},
	{"ContextEx", func(m *Manipulate) Union { return m.ContextEx() }, nil},
	{"Version", func(m *Manipulate) Union { return m.Version() }, [][2]int{{14, 16}}},
	{"ContextFlags", func(m *Manipulate) Union { return Uint32Field(m.ContextFlags()) }, nil},
	{"RestoreHandle", func(m *Manipulate) Union { return Uint32Field(m.RestoreHandle()) }, nil},
}

func FuzzParseManipulate(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManipulate(b)
		if err != nil {
			if len(b) >= ManipulateSize {
				t.Fatalf("ParseManipulate(%d bytes) = %v", len(b), err)
			}
			return
		}
		_, _, _ = m.String(), m.API.HasReply(), m.ReturnStatus.Success()
		want := append([]byte(nil), b...)
		copy(want[0x0C:0x10], []byte{0, 0, 0, 0})
		if enc := m.Append(nil); !bytes.Equal(enc, want) {
			t.Fatalf("Append(ParseManipulate(%x)) = %x; want %x", b, enc, want)
		}
		// Every view of the union, written back over it, changes nothing
		// but its reserved fields, and reads back as itself.
		for _, view := range unionViews {
			v := view.decode(&m)
			back := Manipulate{U: m.U}
			v.Put(&back.U)
			wantU := m.U
			for _, z := range view.zeroed {
				copy(wantU[z[0]:z[1]], make([]byte, z[1]-z[0]))
			}
			if back.U != wantU {
				t.Fatalf("%s: Put(decode(%x)) = %x; want %x", view.name, m.U, back.U, wantU)
			}
			if v2 := view.decode(&back); v2 != v {
				t.Fatalf("%s: decode(Put(%+v)) = %+v", view.name, v, v2)
			}
		}
	})
}

func FuzzParseDebugIO(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDebugIO(b)
		if err != nil {
			if len(b) >= DebugIOSize {
				t.Fatalf("ParseDebugIO(%d bytes) = %v", len(b), err)
			}
			return
		}
		text := d.Text()
		if len(text) > len(d.Data) || uint64(len(text)) > uint64(d.Length) || !bytes.HasPrefix(d.Data, text) {
			t.Fatalf("Text() = %q for Length %d and data %q", text, d.Length, d.Data)
		}
		if enc := d.Append(nil); !bytes.Equal(enc, b) {
			t.Fatalf("Append(ParseDebugIO(%x)) = %x; want the input", b, enc)
		}
	})
}

func FuzzParseFileIO(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		fio, err := ParseFileIO(b)
		if err != nil {
			if len(b) >= FileIOSize {
				t.Fatalf("ParseFileIO(%d bytes) = %v", len(b), err)
			}
			return
		}
		if enc := fio.Append(nil); !bytes.Equal(enc, b) {
			t.Fatalf("Append(ParseFileIO(%x)) = %x; want the input", b, enc)
		}
	})
}

// seedCorpus returns the generated seeds of every fuzz target, by target
// and file name. They come from spec §9 and from packets a real session
// carries.
func seedCorpus(tb testing.TB) map[string]map[string][]byte {
	tb.Helper()
	pkt := func(t PacketType, id uint32, payload []byte) []byte { return AppendData(nil, t, id, payload) }
	manip := func(m Manipulate) []byte { return m.Append(nil) }
	state := func(s StateChange) []byte { return s.Append(nil) }

	getVersion := NewManipulate(APIGetVersion, 0, nil, nil)
	pending := getVersion
	pending.ReturnStatus = StatusPending
	versionReply := NewManipulate(APIGetVersion, 0, sampleVersion(), nil)
	readReply := NewManipulate(APIReadVirtualMemory, 0, Memory{Address: 0xFFFFF80002A9B590, TransferCount: 0x40, ActualBytes: 0x40}, bytes.Repeat([]byte{0x90}, 0x40))
	goReq := NewManipulate(APIContinue2, 0, Continue2{Status: DbgContinue}, nil)
	stepReq := NewManipulate(APIContinue2, 0, Continue2{Status: DbgContinue, TraceFlag: 1}, nil)
	// WinDbg does not zero padding or unused union bytes.
	dirty := manip(NewManipulate(APIReadVirtualMemory, 0, Memory{Address: 0x1000, TransferCount: 8}, nil))
	dirty[0x0C], dirty[0x30], dirty[0x37] = 0x5A, 0xEE, 0xFF
	dirty[8] = 0x03
	dirty[9] = 0x01

	bp := breakpointStateChange()
	path := `\SystemRoot\system32\ntoskrnl.exe`
	load := StateChange{NewState: StateLoadSymbols, NumberProcessors: 1,
		LoadSymbols: LoadSymbols{PathNameLength: uint32(len(path) + 1), BaseOfDll: 0xFFFFF80002A5E000, SizeOfImage: 0x5E7000},
		Extra:       append([]byte(path), 0)}
	lying := load
	lying.LoadSymbols.PathNameLength = 0xFFFFFFFF
	lying.Extra = []byte("hal.dll")
	unload := StateChange{NewState: StateLoadSymbols, LoadSymbols: LoadSymbols{BaseOfDll: ^uint64(0), Unload: true}}
	command := StateChange{NewState: StateCommandString | StateAlternate, Extra: []byte("kd\x00.reload\x00")}
	x86 := StateChange{NewState: StateException, Thread: 0xFFFFFFFF80552740, PC: 0xFFFFFFFF804E2A42,
		Exception: Exception{Code: StatusSingleStep, FirstChance: 1}}
	x86.SetX86Report(X86Report{InstructionCount: 0xFFFF, Instructions: [16]byte{0x8b, 0xff}, SegCs: 8, EFlags: 0x202})

	print := DebugIO{API: APIPrintString, Length: 6, Data: []byte("hello\n")}
	prompt := DebugIO{API: APIGetString, Length: 4, LengthRead: 0x200, Data: []byte("kd> ")}
	lyingPrint := DebugIO{API: APIPrintString, Length: 0xFFFFFFFF, Data: []byte("short")}

	bpPacket := pkt(PacketTypeStateChange64, InitialPacketID|SyncPacketID, state(bp))
	ackSync := AppendControl(nil, PacketTypeAcknowledge, InitialPacketID)
	reset := AppendControl(nil, PacketTypeReset, 0)
	resend := AppendControl(nil, PacketTypeResend, 0)
	badSum := append([]byte(nil), bpPacket...)
	badSum[HeaderSize+5] ^= 0x40
	badTrailer := append([]byte(nil), pkt(PacketTypeDebugIO, InitialPacketID, print.Append(nil))...)
	badTrailer[len(badTrailer)-1] = 0
	oversize := AppendHeader(nil, Header{Leader: PacketLeader, Type: PacketTypeStateManipulate, ByteCount: 0xFFFF})

	msg := func(t PacketType, id uint32, payload []byte) []byte { // a packet as 1394 and KDNET carry it
		b := pkt(t, id, payload)
		return b[:len(b)-1]
	}
	badLength := msg(PacketTypeDebugIO, InitialPacketID, print.Append(nil))
	badLength[6]++
	badMsgSum := msg(PacketTypeStateChange64, InitialPacketID, state(bp))
	badMsgSum[HeaderSize+9] ^= 1

	seeds := map[string]map[string][]byte{
		"FuzzParseMessage": {
			"ack":              ackSync,
			"reset":            reset,
			"getversion":       msg(PacketTypeStateManipulate, InitialPacketID, manip(getVersion)),
			"read-reply":       msg(PacketTypeStateManipulate, 0x80800001, manip(readReply)),
			"state-change":     msg(PacketTypeStateChange64, InitialPacketID|SyncPacketID, state(bp)),
			"with-trailer":     pkt(PacketTypeDebugIO, InitialPacketID, print.Append(nil)),
			"bad-length":       badLength,
			"bad-checksum":     badMsgSum,
			"oversize":         oversize,
			"kdnet-unused-12b": {0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 168, 192},
			"breakin":          {BreakinPacketByte},
			"empty-data":       msg(PacketTypeDebugIO, 1, nil),
		},
		"FuzzParsePacket": {
			"9.1-reset":             reset,
			"9.2-xen-reset":         AppendControl(nil, PacketTypeReset, 0xDEADBEEF),
			"9.3-ack":               AppendControl(nil, PacketTypeAcknowledge, 0x80800001),
			"9.3-ack-sync":          ackSync,
			"9.3-resend":            resend,
			"9.4-getversion":        pkt(PacketTypeStateManipulate, InitialPacketID, manip(getVersion)),
			"9.4-getversion-pend":   pkt(PacketTypeStateManipulate, InitialPacketID, manip(pending)),
			"9.5-continue2-go":      pkt(PacketTypeStateManipulate, 0x80800001, manip(goReq)),
			"9.5-continue2-step":    pkt(PacketTypeStateManipulate, 0x80800001, manip(stepReq)),
			"9.6-breakin":           {BreakinPacketByte},
			"getversion-reply":      pkt(PacketTypeStateManipulate, 0x80800001, manip(versionReply)),
			"read-reply":            pkt(PacketTypeStateManipulate, InitialPacketID, manip(readReply)),
			"state-change-sync":     bpPacket,
			"dbgprint":              pkt(PacketTypeDebugIO, InitialPacketID, print.Append(nil)),
			"bad-checksum":          badSum,
			"bad-trailer":           badTrailer,
			"oversize":              oversize,
			"data-leader-ack-type":  AppendHeader(nil, Header{Leader: PacketLeader, Type: PacketTypeAcknowledge}),
			"control-with-count":    AppendHeader(nil, Header{Leader: ControlPacketLeader, Type: PacketTypeAcknowledge, ByteCount: 3, Checksum: 9}),
			"type-low-byte-leader":  pkt(0x3030, 1, []byte{1}),
			"truncated-getversion":  pkt(PacketTypeStateManipulate, InitialPacketID, manip(getVersion))[:40],
			"getversion-then-reset": concat(pkt(PacketTypeStateManipulate, InitialPacketID, manip(getVersion)), reset),
		},
		"FuzzReader": {
			"attach-running-target": concat([]byte{BreakinPacketByte}, bpPacket, reset, pkt(PacketTypeStateChange64, InitialPacketID, state(bp))),
			"reset-handshake":       concat(reset, ackSync, pkt(PacketTypeStateManipulate, InitialPacketID, manip(versionReply))),
			"junk-and-partials":     concat([]byte("x000ii0i\x62"), ackSync, []byte("00ii"), pkt(PacketTypeDebugIO, InitialPacketID, print.Append(nil))),
			"resend-tail":           concat(resend[6:], ackSync),
			"stray-leader-bytes":    concat([]byte("0"), bpPacket, []byte("iii"), ackSync),
			"bad-then-good":         concat(badSum, badTrailer, oversize, ackSync, bpPacket),
			"eof-mid-packet":        bpPacket[:100],
			"prompt-exchange":       concat(pkt(PacketTypeDebugIO, 0x80800001, prompt.Append(nil)), ackSync),
		},
		"FuzzParseStateChange": {
			"breakpoint-amd64": state(bp),
			"load-symbols":     state(load),
			"lying-path":       state(lying),
			"vkd-unload":       state(unload),
			"command-string":   state(command),
			"x86-single-step":  state(x86),
			"wait-state-only":  state(bp)[:0xC0],
		},
		"FuzzParseManipulate": {
			"9.4-getversion":    manip(getVersion),
			"9.4-pending":       manip(pending),
			"9.5-continue2-go":  manip(goReq),
			"getversion-reply":  manip(versionReply),
			"read-reply":        manip(readReply),
			"windbg-dirty-pad":  dirty,
			"short":             manip(getVersion)[:0x30],
			"unsuccessful-echo": manip(Manipulate{API: 0x314A, ReturnStatus: StatusUnsuccessful}),
		},
		"FuzzParseDebugIO": {
			"print":       print.Append(nil),
			"prompt":      prompt.Append(nil),
			"lying-print": lyingPrint.Append(nil),
			"empty":       make([]byte, DebugIOSize),
		},
		"FuzzParseFileIO": {
			"rizin-refusal": (&FileIO{API: APICreateFile, Status: StatusNoSuchFile}).Append(nil),
			"create":        (&FileIO{API: APICreateFile, Data: []byte("a\x00b\x00")}).Append(nil),
		},
	}
	// One seed per union view, so every decoder starts from a real request.
	for _, c := range unionCases() {
		seeds["FuzzParseManipulate"]["view-"+strings.ReplaceAll(c.name, " ", "-")] = manip(NewManipulate(c.api, 0, c.view, nil))
	}
	return seeds
}

// encodeSeed renders b in the corpus file format of "go test -fuzz".
func encodeSeed(b []byte) []byte {
	return []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b))
}

// TestFuzzSeedCorpus checks that the committed seed files match seedCorpus.
// Run "go test ./kdproto/ -run TestFuzzSeedCorpus -update-fuzz-seeds" to
// rewrite them. Files that the generator does
// not know about (crashers found by fuzzing) are left alone.
func TestFuzzSeedCorpus(t *testing.T) {
	seeds := seedCorpus(t)
	targets := make([]string, 0, len(seeds))
	for name := range seeds {
		targets = append(targets, name)
	}
	sort.Strings(targets)
	for _, target := range targets {
		for name, b := range seeds[target] {
			path := filepath.Join("testdata", "fuzz", target, name)
			want := encodeSeed(b)
			got, err := os.ReadFile(path)
			if err == nil && bytes.Equal(got, want) {
				continue
			}
			if !*updateFuzzSeeds {
				t.Errorf("%s is missing or stale (%v); run go test ./kdproto/ -run TestFuzzSeedCorpus -update-fuzz-seeds", path, err)
				continue
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
