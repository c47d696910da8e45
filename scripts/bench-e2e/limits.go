package main

import (
	"time"

	"github.com/gokd/kd/kdproto"
)

// Packet sizes on the line, in bytes (shared/spec/kdcom-protocol.md):
// a data packet is a 16-byte header, the payload and a 0xAA trailer; a
// control packet (ACK, RESET) is the 16-byte header alone.
const (
	headerBytes  = 16
	trailerBytes = 1
	ackBytes     = headerBytes
	requestBytes = headerBytes + kdproto.ManipulateSize + trailerBytes // a read request, 73
	// stateChangeBytes is a stopped target's state change (0xF0 bytes plus
	// 4 bytes of trace data).
	stateChangeBytes = headerBytes + 0xF4 + trailerBytes
)

// replyBytes is the reply to a read that returned n bytes.
func replyBytes(n int) int { return headerBytes + kdproto.ManipulateSize + n + trailerBytes }

// cycleBytes is what one read of n bytes puts on the line in stop and
// wait: the request and the target's ACK, the reply and the host's ACK.
// The two directions are independent but nothing overlaps: each packet
// waits for the one before it.
func cycleBytes(n int) int { return requestBytes + ackBytes + replyBytes(n) + ackBytes }

// chunks splits n bytes into reads of at most kdproto.MaxTransfer.
func chunks(n int64) []int {
	var out []int
	for n > 0 {
		c := min(n, kdproto.MaxTransfer)
		out = append(out, int(c))
		n -= c
	}
	return out
}

// windowBytes is the line time, in characters, of the window the target
// measures for reads of these sizes: from the moment the first request has
// arrived to the moment the ACK of the last reply has, so the first
// request itself is not in it.
func windowBytes(sizes []int) int {
	total := 0
	for _, n := range sizes {
		total += cycleBytes(n)
	}
	if total > 0 {
		total -= requestBytes
	}
	return total
}

// lineTime is how long chars characters take at baud, 8N1.
func lineTime(chars int, baud int) time.Duration {
	return time.Duration(float64(chars) * 10 / float64(baud) * float64(time.Second))
}

// stopAndWaitLimit is the most payload bytes per second reads of these
// sizes can move at baud over the target's window.
func stopAndWaitLimit(sizes []int, baud int) float64 {
	payload := 0
	for _, n := range sizes {
		payload += n
	}
	return float64(payload) / lineTime(windowBytes(sizes), baud).Seconds()
}

// resyncBytes is the line traffic of a resynchronisation with a stopped
// target: the host's RESET, the target's RESET and its state change.
const resyncBytes = ackBytes + ackBytes + stateChangeBytes
