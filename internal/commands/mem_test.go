package commands_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
	"github.com/gokd/kd/kdproto"
)

// TestMemoryViewForms checks every display form's bytes against the
// machine's memory, its default length, and that d continues it.
func TestMemoryViewForms(t *testing.T) {
	s := newSession(t, targettest.Options{})
	nt := s.Sym("nt!__ImageBase")
	for _, tc := range []struct {
		form  string
		bytes int // of the default display
	}{
		{"dw", 128}, {"dW", 128}, {"dc", 128}, {"df", 64}, {"dD", 120}, {"dyb", 32},
		{"dds", 128}, {"dps", 128}, {"dqs", 128}, {"ddp", 128}, {"dpp", 128}, {"dqp", 128},
	} {
		line := tc.form + " " + hexAddr(nt+0x40)
		v := as[commands.MemoryView](t, line, s.run(line))
		if v.Form != tc.form || v.Addr != nt+0x40 || len(v.Data) != tc.bytes {
			t.Fatalf("%s: form %s at %#x, %d bytes; want %d bytes", line, v.Form, v.Addr, len(v.Data), tc.bytes)
		}
		if want := s.Peek(nt+0x40, tc.bytes); !bytes.Equal(v.Data, want) {
			t.Fatalf("%s: bytes differ from the machine's", line)
		}
		next := as[commands.MemoryView](t, "d", s.run("d"))
		if next.Form != tc.form || next.Addr != nt+0x40+uint64(tc.bytes) {
			t.Fatalf("d after %s: %s at %#x, want %#x", line, next.Form, next.Addr, nt+0x40+uint64(tc.bytes))
		}
	}
	// dp is dq on x64.
	d := as[commands.MemoryDump](t, "dp", s.run("dp nt L3"))
	if d.Size != 8 || len(d.Data) != 24 || !bytes.Equal(d.Data, s.Peek(nt, 24)) {
		t.Fatalf("dp nt L3: %+v", d)
	}
}

// TestMemorySymbolsAndPointers plants pointers and checks dps's symbols
// and dqp's values at the pointers.
func TestMemorySymbolsAndPointers(t *testing.T) {
	s := newSession(t, targettest.Options{})
	buf := sim.BulkPoolBase + 0x3000
	start := s.Sym("nt!KiSystemStartup")
	target := sim.BulkPoolBase + 0x5000
	s.run(fmt.Sprintf("eq %s %s %s 0", hexAddr(buf), hexAddr(start+4), hexAddr(target)))
	s.run(fmt.Sprintf("eq %s 1122334455667788", hexAddr(target)))
	v := as[commands.MemoryView](t, "dps", s.run("dps "+hexAddr(buf)+" L3"))
	if len(v.Symbols) != 3 || v.Symbols[0] != "nt!KiSystemStartup+0x4" || v.Symbols[1] != "" || v.Symbols[2] != "" {
		t.Fatalf("dps symbols %q", v.Symbols)
	}
	p := as[commands.MemoryView](t, "dqp", s.run("dqp "+hexAddr(buf)+" L3"))
	want := []commands.Pointee{{Value: binary.LittleEndian.Uint64(s.Peek(start+4, 8)), OK: true}, {Value: 0x1122334455667788, OK: true}, {}}
	for i := range want {
		if p.Pointees[i] != want[i] {
			t.Fatalf("dqp pointee %d = %+v, want %+v", i, p.Pointees[i], want[i])
		}
	}
}

// TestMemoryStrings writes strings with ea/eza/eu/ezu and reads them back
// with da/du and from the machine.
func TestMemoryStrings(t *testing.T) {
	s := newSession(t, targettest.Options{})
	a := sim.BulkPoolBase + 0x100
	for _, tc := range []struct {
		cmd, show string
		want      []byte
	}{
		{`ea %s "hi there"`, "", []byte("hi there")},
		{`eza %s "hi there"`, "da", []byte("hi there\x00")},
		{`eu %s "wide"`, "", []byte("w\x00i\x00d\x00e\x00")},
		{`ezu %s "wide"`, "du", []byte("w\x00i\x00d\x00e\x00\x00\x00")},
		{`eza %s "esc` + "\x1b" + `[2J"`, "da", []byte("esc\x1b[2J\x00")},
	} {
		line := fmt.Sprintf(tc.cmd, hexAddr(a))
		s.run(line)
		if got := s.Peek(a, len(tc.want)); !bytes.Equal(got, tc.want) {
			t.Fatalf("%s wrote % x, want % x", line, got, tc.want)
		}
		if tc.show == "" {
			continue
		}
		v := as[commands.MemoryView](t, tc.show, s.run(tc.show+" "+hexAddr(a)))
		size := 1
		if tc.show == "du" {
			size = 2
		}
		if !bytes.Equal(v.Data, tc.want[:len(tc.want)-size]) {
			t.Fatalf("%s after %s: % x", tc.show, line, v.Data)
		}
	}
	// A string without a NUL stops at the length.
	s.run(fmt.Sprintf(`ea %s "abcdefgh"`, hexAddr(a)))
	if v := as[commands.MemoryView](t, "da", s.run("da "+hexAddr(a)+" L4")); string(v.Data) != "abcd" {
		t.Fatalf("da L4: %q", v.Data)
	}
	// An unmapped string start shows as unreadable, not as an error.
	hole, _ := s.Gap(s.Sym("nt!__ImageBase"), 64)
	if v := as[commands.MemoryView](t, "da", s.run("da "+hexAddr(hole))); len(v.OK) == 0 || v.OK[0] {
		t.Fatalf("da on a hole: %+v", v)
	}
}

// TestMemoryEnterValues checks ew and ef against the machine.
func TestMemoryEnterValues(t *testing.T) {
	s := newSession(t, targettest.Options{})
	a := sim.BulkPoolBase + 0x200
	s.run("ew " + hexAddr(a) + " 1234 'ab' -1")
	if got := s.Peek(a, 6); !bytes.Equal(got, []byte{0x34, 0x12, 0x62, 0x61, 0xff, 0xff}) {
		t.Fatalf("ew wrote % x", got)
	}
	s.run("ef " + hexAddr(a) + " 1.5 -2e10")
	got := s.Peek(a, 8)
	if math.Float32frombits(binary.LittleEndian.Uint32(got)) != 1.5 || math.Float32frombits(binary.LittleEndian.Uint32(got[4:])) != -2e10 {
		t.Fatalf("ef wrote % x", got)
	}
	// KD's ed ' cbA' stores the pool tag "Abc "; eb takes characters too.
	s.run("ed " + hexAddr(a) + " ' cbA'")
	if got := s.Peek(a, 4); string(got) != "Abc " {
		t.Fatalf("ed ' cbA' wrote %q", got)
	}
	s.run("eb " + hexAddr(a) + " 'h' 'i',21")
	if got := s.Peek(a, 3); string(got) != "hi!" {
		t.Fatalf("eb 'h' 'i',21 wrote %q", got)
	}
	s.run("ew " + hexAddr(a) + " 0")
	// e writes in the last e* size: words after ew.
	s.run("e " + hexAddr(a) + " 1 2")
	if got := s.Peek(a, 4); !bytes.Equal(got, []byte{1, 0, 2, 0}) {
		t.Fatalf("e after ew wrote % x", got)
	}
	var ce *commands.Error
	if err := s.fail("e " + hexAddr(a)); !errors.As(err, &ce) || !strings.Contains(ce.Msg, "interactive") {
		t.Fatalf("e without values: %v", err)
	}
	for _, bad := range []string{"ew " + hexAddr(a) + " 12345", "ef " + hexAddr(a) + " x", "ea " + hexAddr(a) + " nope", "ew", `eza 0 "unterminated`} {
		var se *commands.SyntaxError
		if err := s.fail(bad); !errors.As(err, &se) {
			t.Fatalf("%s: %v, want a syntax error", bad, err)
		}
	}
}

// TestFillSearchCompareMove checks f, s, c and m by their effects on the
// machine's memory.
func TestFillSearchCompareMove(t *testing.T) {
	s := newSession(t, targettest.Options{})
	base := sim.BulkPoolBase + 0x10000
	s.run("f " + hexAddr(base) + " L1003 de ad be")
	got := s.Peek(base, 0x1004)
	for i := 0; i < 0x1003; i++ {
		if got[i] != []byte{0xde, 0xad, 0xbe}[i%3] {
			t.Fatalf("f: byte %#x is %02x", i, got[i])
		}
	}
	if got[0x1003] == []byte{0xde, 0xad, 0xbe}[0x1003%3] {
		t.Log("the byte after the fill happens to match the pattern")
	}

	// s finds exactly the planted offsets (the bulk pool's generated bytes
	// hold this 6-byte pattern nowhere else in 64 KiB).
	area := sim.BulkPoolBase + 0x40000
	planted := []uint64{0x10, 0x1ffd, 0x3000, 0xfffa}
	for _, off := range planted {
		s.run(fmt.Sprintf("eb %s 4b 44 53 49 4d 21", hexAddr(area+off)))
	}
	res := as[commands.SearchResult](t, "s", s.run("s -b "+hexAddr(area)+" L10000 4b 44 53 49 4d 21"))
	if len(res.Hits) != len(planted) {
		t.Fatalf("s found %d matches, want %d: %+v", len(res.Hits), len(planted), res.Hits)
	}
	for i, h := range res.Hits {
		if h.Addr != area+planted[i] || !bytes.Equal(h.Data[:6], []byte("KDSIM!")) {
			t.Fatalf("hit %d at %#x, want %#x", i, h.Addr, area+planted[i])
		}
	}
	if !res.ViaTarget {
		t.Fatal("kdsim offers SearchMemory, but kd did not use it")
	}
	// The same search as -a, and a match that ends past the range is not one.
	res = as[commands.SearchResult](t, "s -a", s.run(`s -a `+hexAddr(area)+` L fffd "KDSIM!"`))
	if len(res.Hits) != 3 {
		t.Fatalf("s -a L fffd: %d matches, want 3 (the last starts outside)", len(res.Hits))
	}
	// -q finds a qword.
	s.run("eq " + hexAddr(area+0x800) + " 0123456789abcdef")
	res = as[commands.SearchResult](t, "s -q", s.run("s -q "+hexAddr(area)+" L1000 0123456789abcdef"))
	if len(res.Hits) != 1 || res.Hits[0].Addr != area+0x800 || res.Form != "dq" {
		t.Fatalf("s -q: %+v", res)
	}

	// c lists exactly the bytes that differ.
	src, dst := sim.BulkPoolBase+0x50000, sim.BulkPoolBase+0x60000
	s.run("m " + hexAddr(src) + " L100 " + hexAddr(dst))
	if !bytes.Equal(s.Peek(src, 0x100), s.Peek(dst, 0x100)) {
		t.Fatal("m did not copy")
	}
	s.run("eb " + hexAddr(dst+5) + " 00 01")
	s.run("eb " + hexAddr(src+5) + " 02 01")
	cmp := as[commands.CompareResult](t, "c", s.run("c "+hexAddr(src)+" L100 "+hexAddr(dst)))
	if len(cmp.Diffs) != 1 || cmp.Diffs[0].Addr1 != src+5 || cmp.Diffs[0].Addr2 != dst+5 || cmp.Diffs[0].Val1 != 2 || cmp.Diffs[0].Val2 != 0 {
		t.Fatalf("c: %+v", cmp)
	}

	// m is overlapping-safe both ways.
	for _, shift := range []int64{3, -3, 0x1001, -0x1001} {
		region := sim.BulkPoolBase + 0x80000
		before := s.Peek(region, 0x4000)
		from := region + 0x1800
		to := uint64(int64(from) + shift)
		s.run(fmt.Sprintf("m %s L1800 %s", hexAddr(from), hexAddr(to)))
		want := append([]byte(nil), before...)
		copy(want[to-region:], before[from-region:from-region+0x1800])
		if got := s.Peek(region, 0x4000); !bytes.Equal(got, want) {
			t.Fatalf("m by %d: memory differs from memmove's", shift)
		}
	}
}

// TestMemoryOpsErrors: a fill or move into a hole says where it stopped;
// a search over a hole skips it; ranges over 256 MiB need L?.
func TestMemoryOpsErrors(t *testing.T) {
	s := newSession(t, targettest.Options{})
	hole, _ := s.Gap(s.Sym("nt!__ImageBase"), 64)
	var ae *target.AccessError
	if err := s.fail("f " + hexAddr(hole-0x10) + " L20 90"); !errors.As(err, &ae) || ae.Addr != hole {
		t.Fatalf("f into a hole: %v, want an access error at %#x", err, hole)
	}
	if got := s.Peek(hole-0x10, 0x10); !bytes.Equal(got, bytes.Repeat([]byte{0x90}, 0x10)) {
		t.Fatalf("f before the hole wrote % x", got)
	}
	if err := s.fail("m " + hexAddr(hole-0x10) + " L20 " + hexAddr(sim.BulkPoolBase)); !errors.As(err, &ae) || ae.Addr != hole {
		t.Fatalf("m from a hole: %v", err)
	}
	for _, line := range []string{"s -b ffffd000`00000000 L20000000 90", "f ffffd000`00000000 L20000000 90", "dc ffffd000`00000000 L20000000"} {
		err := s.fail(line)
		var ce *commands.Error
		if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "range too long") || !strings.Contains(strings.Join(ce.Hints, " "), "L?") {
			t.Fatalf("%s: %v, want range too long with an L? hint", line, err)
		}
	}
	var se *commands.SyntaxError
	for _, line := range []string{"s", "s -z 0 L1 1", "s -b 0 L10", "f 0 L10", "c 0 L10", "m 0 L10 1 2", `s -a 0 L10 "x`, "f 0 L10 100"} {
		if err := s.fail(line); !errors.As(err, &se) {
			t.Fatalf("%s: %v, want a syntax error", line, err)
		}
	}
}

// TestPhysicalMemory checks !db/!dd/!dq against the machine's physical
// memory, and that !eb/!ed show through the virtual mapping.
func TestPhysicalMemory(t *testing.T) {
	s := newSession(t, targettest.Options{})
	va := s.Sym("nt!KiSystemStartup")
	pa, ok := s.Machine.Translate(va)
	if !ok {
		t.Fatal("the machine does not translate nt!KiSystemStartup")
	}
	for _, tc := range []struct {
		cmd string
		n   int
	}{{"!db", 128}, {"!dd", 128}, {"!dq", 128}, {"!dc", 128}, {"!dw", 128}} {
		v := as[commands.MemoryView](t, tc.cmd, s.run(fmt.Sprintf("%s %x", tc.cmd, pa)))
		if !v.Physical || v.Addr != pa || len(v.Data) != tc.n || !bytes.Equal(v.Data, s.Peek(va, tc.n)) {
			t.Fatalf("%s #%x: %d bytes, want the %d at %#x", tc.cmd, pa, len(v.Data), tc.n, va)
		}
	}
	// d* /p reads the same physical memory, in the d* form's layout.
	for _, form := range []string{"db", "dd", "dq", "dp", "dw", "dc", "df", "dD", "dyb"} {
		line := fmt.Sprintf("%s /p[c] %x L4", form, pa)
		v := as[commands.MemoryView](t, line, s.run(line))
		if !v.Physical || v.Form != form || v.Addr != pa || !bytes.Equal(v.Data, s.Peek(va, len(v.Data))) || len(v.Data) == 0 {
			t.Fatalf("%s: %+v", line, v)
		}
	}
	if v := as[commands.MemoryView](t, "!db", s.run("!db")); v.Addr != pa+4 {
		t.Fatalf("!db after dyb /p continues at %#x, want %#x", v.Addr, pa+4)
	}
	var se *commands.SyntaxError
	for _, bad := range []string{"da /p 0", "dps /p 0", "db /c 4 0", "db /q 0"} {
		if err := s.fail(bad); !errors.As(err, &se) {
			t.Fatalf("%s: %v, want a syntax error", bad, err)
		}
	}
	data := sim.BulkPoolBase + 0x7000
	dpa, _ := s.Machine.Translate(data)
	s.run(fmt.Sprintf("!eb #%x 11 22 33", dpa))
	s.run(fmt.Sprintf("!ed %x+4 aabbccdd", dpa))
	if got := s.Peek(data, 8); !bytes.Equal(got[:3], []byte{0x11, 0x22, 0x33}) || binary.LittleEndian.Uint32(got[4:]) != 0xaabbccdd {
		t.Fatalf("!eb/!ed: the virtual view shows % x", got)
	}
	if b, _ := s.Machine.PeekPhysical(dpa, 3); !bytes.Equal(b, []byte{0x11, 0x22, 0x33}) {
		t.Fatalf("!eb: physical memory holds % x", b)
	}
	// An address with no memory shows as unreadable.
	v := as[commands.MemoryView](t, "!db", s.run("!db 7fff0000 L10"))
	if v.OK[0] {
		t.Fatal("!db at a physical address with no memory is readable")
	}
}

// TestVtopAndPte: !vtop agrees with the machine's own translation for
// every kind of mapping, and !pte reads the same entries.
func TestVtopAndPte(t *testing.T) {
	s := newSession(t, targettest.Options{})
	nt := s.Sym("nt!__ImageBase")
	regs := s.Regs(0)
	rsp, _ := regs.Get("rsp")
	for _, va := range []uint64{nt, s.Sym("nt!KiSystemStartup") + 7, s.Sym("nt!KiProcessorBlock"), rsp,
		sim.BulkPoolBase + 0x123456, nt + sim.LargePageOffset + 0x54321, 0, 0x00007ff000000000, nt + sim.LargePageOffset + sim.LargePageSize} {
		want, mapped := s.Machine.Translate(va)
		w := as[commands.VtopResult](t, "!vtop", s.run("!vtop 0 "+hexAddr(va))).Walk
		if w.Valid != mapped || (mapped && w.Phys != want) {
			t.Fatalf("!vtop %#x: %v %#x, the machine says %v %#x", va, w.Valid, w.Phys, mapped, want)
		}
		p := as[commands.PteResult](t, "!pte", s.run("!pte "+hexAddr(va)))
		if p.Walk.Valid != mapped || !p.SelfMap {
			t.Fatalf("!pte %#x: valid %v selfmap %v", va, p.Walk.Valid, p.SelfMap)
		}
		large := va >= nt+sim.LargePageOffset && va < nt+sim.LargePageOffset+sim.LargePageSize
		if mapped && (len(p.Walk.Entries) == 3) != large {
			t.Fatalf("!pte %#x: %d levels, large page %v", va, len(p.Walk.Entries), large)
		}
		// The PTE's virtual address through the self-map.
		if wantPTE := 0xFFFFF68000000000 + (va&0x0000FFFFFFFFF000)>>12*8; p.EntryVA[3] != wantPTE {
			t.Fatalf("!pte %#x: PTE at %#x, want %#x", va, p.EntryVA[3], wantPTE)
		}
		// !pte PTE shows the page that PTE maps.
		q := as[commands.PteResult](t, "!pte PTE", s.run("!pte "+hexAddr(p.EntryVA[3])))
		if q.FromPTE != p.EntryVA[3] || q.Walk.VA != va&^0xFFF || q.Walk.Valid != mapped {
			t.Fatalf("!pte %#x (the PTE of %#x): walk of %#x from %#x", p.EntryVA[3], va, q.Walk.VA, q.FromPTE)
		}
	}
	// !vtop with the directory base's PFN walks the same tables.
	cr3 := binary.LittleEndian.Uint64(s.Machine.Special(0)[0x10:])
	w := as[commands.VtopResult](t, "!vtop", s.run(fmt.Sprintf("!vtop %x %s", cr3>>12, hexAddr(nt)))).Walk
	if want, _ := s.Machine.Translate(nt); !w.Valid || w.Phys != want {
		t.Fatalf("!vtop PFN: %+v", w)
	}
	var se *commands.SyntaxError
	for _, line := range []string{"!vtop", "!vtop 0", "!pte", "!vtop 0 1 2", "!vtop 10000000000000 0"} {
		if err := s.fail(line); !errors.As(err, &se) {
			t.Fatalf("%s: %v, want a syntax error", line, err)
		}
	}
	if err := s.fail("!pte 8000`00000000"); err == nil || !strings.Contains(err.Error(), "canonical") {
		t.Fatalf("!pte on a non-canonical address: %v", err)
	}
}

// TestSearchFillWithoutTargetAPIs: a target without SearchMemory and
// FillMemory gets the same results from maximal reads and writes: a
// search of 64 KiB costs 17 reads of 3944 bytes (one per chunk, not one
// per line or per match).
func TestSearchFillWithoutTargetAPIs(t *testing.T) {
	s := newSession(t, targettest.Options{Sim: sim.Config{NoSearchFill: true}})
	area := sim.BulkPoolBase + 0x40000
	planted := []uint64{0x10, 0x1ffd, 0x3000, 0xfffa}
	for _, off := range planted {
		s.run(fmt.Sprintf("eb %s 4b 44 53 49 4d 21", hexAddr(area+off)))
	}
	reads := s.Reads()
	res := as[commands.SearchResult](t, "s", s.run("s -b "+hexAddr(area)+" L10000 4b 44 53 49 4d 21"))
	if res.ViaTarget || len(res.Hits) != len(planted) {
		t.Fatalf("s by reads: via target %v, %d matches", res.ViaTarget, len(res.Hits))
	}
	// The writes emptied the cache: the search reads its range in maximal
	// requests (plus the bytes a match may run past the end).
	maxReads := (0x10000+5+target.MemoryChunk-1)/target.MemoryChunk + 1
	if got := s.Reads() - reads; got > maxReads {
		t.Fatalf("s by reads sent %d read requests, want at most %d", got, maxReads)
	}
	for i, h := range res.Hits {
		if h.Addr != area+planted[i] || !bytes.Equal(h.Data[:6], []byte("KDSIM!")) {
			t.Fatalf("hit %d at %#x, want %#x", i, h.Addr, area+planted[i])
		}
	}
	// As through the API: a match that ends past the range is not one.
	res = as[commands.SearchResult](t, "s -a", s.run(`s -a `+hexAddr(area)+` L fffd "KDSIM!"`))
	if len(res.Hits) != 3 {
		t.Fatalf("s -a L fffd by reads: %d matches, want 3", len(res.Hits))
	}
	s.run("eb " + hexAddr(area+0x10) + " 0") // empties the cache and the first match
	reads = s.Reads()
	res = as[commands.SearchResult](t, "s", s.run("s -b "+hexAddr(area)+" L10000 4b 44 53 49 4d 21"))
	if len(res.Hits) != len(planted)-1 { // the first match was overwritten
		t.Fatalf("s by reads after eb: %d matches", len(res.Hits))
	}
	want := (0x10000 + 5 + target.MemoryChunk - 1) / target.MemoryChunk
	if got := s.Reads() - reads; got > want+1 {
		t.Fatalf("s by reads sent %d read requests, want at most %d", got, want+1)
	}
	if n := s.SimCount(sim.EventAPI, kdproto.APISearchMemory.String()); n != 1 {
		t.Fatalf("kd asked for SearchMemory %d times; once is enough to learn it is missing", n)
	}
	s.run("f " + hexAddr(area) + " L2001 61 62")
	got := s.Peek(area, 0x2002)
	for i := 0; i < 0x2001; i++ {
		if got[i] != "ab"[i%2] {
			t.Fatalf("f by writes: byte %#x is %02x", i, got[i])
		}
	}
	if got[0x2001] == 'b' {
		t.Fatal("f by writes wrote past the range")
	}
}

// TestPointeesCoalesced: dqp over 16 pointers to neighbouring 16-byte
// objects reads their span once, not once per line; pointers far apart
// are read on their own (no read is widened over a large gap).
func TestPointeesCoalesced(t *testing.T) {
	s := newSession(t, targettest.Options{})
	table, targets := sim.BulkPoolBase+0x9000, sim.BulkPoolBase+0xA000
	var args []string
	for i := 0; i < 16; i++ {
		args = append(args, hexAddr(targets+uint64(i)*0x10))
	}
	s.run("eq " + hexAddr(table) + " " + strings.Join(args, " "))
	s.run("db " + hexAddr(table) + " L80") // the table itself in the cache
	reads := s.Reads()
	v := as[commands.MemoryView](t, "dqp", s.run("dqp "+hexAddr(table)))
	if got := s.Reads() - reads; got != 1 {
		t.Fatalf("dqp over 16 pointers to neighbours sent %d reads, want 1", got)
	}
	for i, p := range v.Pointees {
		want := binary.LittleEndian.Uint64(s.Peek(targets+uint64(i)*0x10, 8))
		if !p.OK || p.Value != want {
			t.Fatalf("pointee %d = %+v, want %#x", i, p, want)
		}
	}
	// Far apart: one read each.
	s.run("eq " + hexAddr(table) + " " + hexAddr(targets+0x10000) + " " + hexAddr(targets+0x20000))
	s.run("db " + hexAddr(table) + " L10")
	reads = s.Reads()
	s.run("dqp " + hexAddr(table) + " L2")
	if got := s.Reads() - reads; got != 2 {
		t.Fatalf("dqp over 2 distant pointers sent %d reads, want 2", got)
	}
}

// TestMemoryErrorHints: failures of the target's memory say where and
// hint at the next step, and keep their cause for errors.As.
func TestMemoryErrorHints(t *testing.T) {
	s := newSession(t, targettest.Options{})
	hole, _ := s.Gap(s.Sym("nt!__ImageBase"), 64)
	for _, tc := range []struct{ line, hint string }{
		{"f " + hexAddr(hole) + " L10 90", "!pte " + fmt.Sprintf("%x`%08x", hole>>32, uint32(hole))},
		{"eb " + hexAddr(hole) + " 90", "!pte"},
		{"!eb 7fff0000 1", "!vtop"},
		{"!pte 8000`00000000", "bit 47"},
		{"!vtop 0 8000`00000000", "bit 47"},
	} {
		err := s.fail(tc.line)
		var ce *commands.Error
		if !errors.As(err, &ce) || len(ce.Hints) == 0 || !strings.Contains(ce.Hints[0], tc.hint) || !strings.HasPrefix(ce.Msg, tc.line+": ") {
			t.Fatalf("%s: %v (hints %v), want a hint with %q", tc.line, err, ce.Hints, tc.hint)
		}
	}
	var pe *target.PhysicalAccessError
	if err := s.fail("!ed 7fff0000 1"); !errors.As(err, &pe) || pe.Addr != 0x7fff0000 {
		t.Fatalf("!ed into no memory: %v", err)
	}
}
