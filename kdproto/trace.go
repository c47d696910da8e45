package kdproto

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Direction is the direction of a traced packet.
type Direction int

// Directions: DirOut is host to target ("->"), DirIn target to host ("<-").
const (
	DirOut Direction = iota
	DirIn
)

func (d Direction) String() string {
	if d == DirOut {
		return "->"
	}
	return "<-"
}

// TraceHexBytes is how many bytes of a packet a trace line shows in hex.
const TraceHexBytes = 32

// TraceRecord is one traced packet. Packet.Payload and Raw are only valid
// during the trace call.
type TraceRecord struct {
	Dir     Direction
	Packet  Packet
	Raw     []byte // the bytes on the wire, when known
	Breakin bool   // the lone break-in byte
	Err     error  // a malformed packet from the target
	Note    string // e.g. "duplicate dropped"
}

// String formats the record as one trace line: direction, decoded summary
// and a truncated hex dump.
func (r TraceRecord) String() string {
	var b strings.Builder
	b.WriteString(r.Dir.String())
	b.WriteByte(' ')
	switch {
	case r.Breakin:
		b.WriteString("BREAKIN 62")
		return b.String()
	case r.Err != nil:
		fmt.Fprintf(&b, "BAD %v", r.Err)
	default:
		b.WriteString(r.Packet.String())
	}
	if r.Note != "" {
		b.WriteString(" (" + r.Note + ")")
	}
	raw := r.Raw
	if raw == nil && r.Err == nil {
		raw = AppendPacket(make([]byte, 0, HeaderSize+TraceHexBytes), Packet{Header: r.Packet.Header, Payload: clip(r.Packet.Payload, TraceHexBytes)})
	}
	if len(raw) > 0 {
		b.WriteString("  ")
		n := len(raw)
		if n > HeaderSize+TraceHexBytes {
			n = HeaderSize + TraceHexBytes
		}
		b.WriteString(hex.EncodeToString(raw[:n]))
		if r.Packet.Header.ByteCount > 0 && int(r.Packet.Header.ByteCount)+HeaderSize+1 > n {
			b.WriteString("...")
		}
	}
	return b.String()
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func (e *Engine) traceOut(p Packet) {
	if t := e.trace.Load(); t != nil {
		(*t)(TraceRecord{Dir: DirOut, Packet: p})
	}
}

func (e *Engine) traceIn(p Packet, note string) {
	if t := e.trace.Load(); t != nil {
		(*t)(TraceRecord{Dir: DirIn, Packet: p, Note: note})
	}
}

func (e *Engine) traceBad(err error) {
	if t := e.trace.Load(); t != nil {
		var pe *PacketError
		rec := TraceRecord{Dir: DirIn, Err: err}
		if errors.As(err, &pe) {
			rec.Packet.Header = pe.Header
		}
		(*t)(rec)
	}
}
