package sim

// pit is the 8254 programmable interval timer at ports 0x40-0x43: three
// 16-bit down-counters, each with its reload value, access mode (latch,
// low byte, high byte, low then high), operating mode and read/write
// flip-flop. Channel 0 is the legacy system timer (mode 2, reload 0x4A9:
// one millisecond at 1.193182 MHz), channel 2 the speaker. The counters
// are deterministic: a counter moves down by pitStep each time software
// reads its low byte, not with wall-clock time, so a script sees the same
// values on every run.
type pit struct {
	ch [3]pitChannel
}

type pitChannel struct {
	reload  uint16
	count   uint16
	latch   uint16
	latched bool
	access  byte // 1 low, 2 high, 3 low then high
	mode    byte
	high    bool // the low/high flip-flop: the next byte is the high one
}

// pitStep is how far a counter moves between two reads of it.
const pitStep = 0x25

func newPIT() pit {
	var p pit
	p.ch[0] = pitChannel{reload: 0x4A9, count: 0x4A9, access: 3, mode: 2}
	p.ch[1] = pitChannel{reload: 0x12, count: 0x12, access: 1, mode: 2}
	p.ch[2] = pitChannel{reload: 0x533, count: 0x533, access: 3, mode: 3}
	return p
}

// control writes the mode/command register (port 0x43).
func (p *pit) control(v byte) {
	sel := v >> 6
	if sel == 3 {
		return // read-back command: not modelled
	}
	c := &p.ch[sel]
	acc := v >> 4 & 3
	if acc == 0 { // counter latch command
		if !c.latched {
			c.latch, c.latched = c.count, true
		}
		return
	}
	c.access, c.mode, c.high, c.latched = acc, v>>1&7, false, false
}

// write stores one byte of channel i's reload value.
func (p *pit) write(i int, v byte) {
	c := &p.ch[i]
	switch {
	case c.access == 1 || c.access == 3 && !c.high:
		c.reload = c.reload&0xFF00 | uint16(v)
		c.high = c.access == 3
	default:
		c.reload = c.reload&0x00FF | uint16(v)<<8
		c.high = false
	}
	if !c.high {
		c.count = c.reload
	}
}

// read returns the next byte of channel i's count (or of its latch);
// peek leaves the channel as it was.
func (p *pit) read(i int, peek bool) byte {
	c := &p.ch[i]
	v := c.count
	if c.latched {
		v = c.latch
	}
	high := c.access == 2 || c.access == 3 && c.high
	if peek {
		if high {
			return byte(v >> 8)
		}
		return byte(v)
	}
	if !high && !c.latched {
		// The counter runs between two reads.
		reload := uint32(c.reload)
		if reload == 0 {
			reload = 0x10000
		}
		c.count = uint16((uint32(c.count) + reload - pitStep%reload) % reload)
		v = c.count
	}
	if c.access == 3 {
		c.high = !c.high
	}
	if high || c.access != 3 {
		c.latched = false
	}
	if high {
		return byte(v >> 8)
	}
	return byte(v)
}
