package sim

import "testing"

func TestPIT(t *testing.T) {
	p := newPorts()
	word := func(port uint16) uint16 { lo := p.in8(port); return uint16(lo) | uint16(p.in8(port))<<8 }
	// Channel 0 counts down from its reload by pitStep a read, wrapping.
	first := word(0x40)
	if first != 0x4A9-pitStep {
		t.Fatalf("first read of channel 0 = %#x, want %#x", first, 0x4A9-pitStep)
	}
	if second := word(0x40); second != first-pitStep {
		t.Fatalf("second read = %#x, want %#x", second, first-pitStep)
	}
	// A latch freezes the count until both bytes are read.
	p.out8(0x43, 0x00)
	peek := p.read8(0x40, true)
	latched := word(0x40)
	if byte(latched) != peek {
		t.Fatalf("latched %#x, peeked low byte %#x", latched, peek)
	}
	if latched != first-pitStep {
		t.Fatalf("latched %#x, want the count %#x", latched, first-pitStep)
	}
	// Program channel 2: mode 3, low then high, reload 0x1234.
	p.out8(0x43, 0xB6)
	p.out8(0x42, 0x34)
	p.out8(0x42, 0x12)
	if p.pit.ch[2].reload != 0x1234 || p.pit.ch[2].mode != 3 || p.pit.ch[2].count != 0x1234 {
		t.Fatalf("channel 2 = %+v", p.pit.ch[2])
	}
	if got := word(0x42); got != 0x1234-pitStep {
		t.Fatalf("channel 2 reads %#x", got)
	}
	// Low-byte-only access, and a reload of 0 meaning 65536.
	p.out8(0x43, 0x10)
	p.out8(0x40, 0)
	if got := p.in8(0x40); got != byte((0x10000-pitStep)&0xFF) {
		t.Fatalf("low-byte access after reload 0 reads %#x", got)
	}
	if p.in8(0x43) != 0xFF {
		t.Fatal("the control port is write-only")
	}
	// Peeking never moves a counter.
	before := p.pit
	for i := 0; i < 5; i++ {
		p.read8(0x40, true)
	}
	if p.pit != before {
		t.Fatal("peek changed the timer")
	}
}
