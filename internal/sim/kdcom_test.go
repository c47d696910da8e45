package sim

import (
	"bytes"
	"testing"
	"time"
)

// Wire-level behaviour of the target's KDCOM (spec §1.6–§4, README field notes).

func TestBootStateChangeCarriesSyncBit(t *testing.T) {
	simTest(t, Config{Stopped: true}, func(t *testing.T, r *rig) {
		p := r.p
		sc := p.expect(tStateChange, idInitial|idSync)
		if sc.count != 0xF4 {
			t.Fatalf("state change ByteCount = %#x; want 0xF4", sc.count)
		}
		if got := sc.u32(0xF0); got != 1 {
			t.Errorf("trace data = %d; want 1", got)
		}
		if code := sc.u32(0x20); code != 0x80000003 {
			t.Errorf("ExceptionCode = %#x; want STATUS_BREAKPOINT", code)
		}
		if pc, want := sc.u64(0x18), r.m.Symbol("nt!DbgBreakPointWithStatus"); pc != want {
			t.Errorf("pc = %#x; want nt!DbgBreakPointWithStatus %#x", pc, want)
		}
		if n := sc.u16(0xD4); n != 16 || !bytes.HasPrefix(sc.payload[0xD8:], []byte{0xCC, 0xC3}) {
			t.Errorf("instruction stream = %d % x; want int 3, ret", n, sc.payload[0xD8:0xE8])
		}
		// Unacknowledged, it comes again after each receive timeout with the same id;
		// an ACK that keeps the sync bit does not count.
		p.expect(tStateChange, idInitial|idSync)
		p.write(controlPkt(tAck, idInitial|idSync))
		p.expect(tStateChange, idInitial|idSync)
		p.ack(idInitial | idSync)
		p.quiet(time.Second)
		// The target now waits for requests: the host's first id is 0x80800000.
		rep := p.request(0x3146, 0, nil, nil)
		if rep.id != idInitial|1 {
			t.Errorf("first reply id = %08x; want 80800001", rep.id)
		}
	})
}

func TestResetWhileStoppedResendsStateChange(t *testing.T) {
	simTest(t, Config{Stopped: true}, func(t *testing.T, r *rig) {
		p := r.p
		p.stateChange(idInitial | idSync)
		p.write(controlPkt(tReset, 0))
		reset := p.expect(tReset, 0)
		if !bytes.Equal(frame(controlLeader, tReset, 0, nil), controlPkt(reset.typ, reset.id)) {
			t.Fatalf("RESET reply differs")
		}
		p.stateChange(idInitial)
		p.id = idInitial
		rep := p.request(0x3146, 0, nil, nil)
		if rep.id != idInitial|1 {
			t.Errorf("reply id = %08x; want 80800001", rep.id)
		}
	})
}

func TestBreakInRunningTarget(t *testing.T) {
	simTest(t, Config{}, func(t *testing.T, r *rig) {
		p := r.p
		p.quiet(time.Second) // a running target says nothing without PrintEvery
		p.write([]byte{0x62})
		sc := p.expect(tStateChange, idInitial|idSync)
		if pc := sc.u64(0x18); pc != r.m.Symbol("nt!DbgBreakPointWithStatus") {
			t.Errorf("pc = %#x; want nt!DbgBreakPointWithStatus", pc)
		}
		if n := sc.u32(8); n != 2 {
			t.Errorf("NumberProcessors = %d; want 2", n)
		}
		// A host that RESETs before acknowledging gets the RESET reply and
		// then the same state change with id 0x80800000 (spec §4.3).
		p.write(controlPkt(tReset, 0))
		p.expect(tReset, 0)
		p.stateChange(idInitial)
		p.id = idInitial
		p.request(0x3146, 0, nil, nil)
	})
}

func TestResetEatenWhileRunning(t *testing.T) {
	simTest(t, Config{}, func(t *testing.T, r *rig) {
		p := r.p
		p.write(controlPkt(tReset, 0))
		p.quiet(2 * time.Second) // polled one byte per tick and discarded
		p.breakIn()
	})
}

func TestBreakInByteFollowedByPacketIsForgotten(t *testing.T) {
	simTest(t, Config{Stopped: true}, func(t *testing.T, r *rig) {
		p := r.p
		p.stateChange(idInitial | idSync)
		// 0x62 then a request at once: the leader scan forgets the 0x62.
		p.write(append([]byte{0x62}, frame(dataLeader, tData, p.id, manip(0x3146, 0, nil, nil))...))
		p.expect(tAck, p.id)
		p.id ^= 1
		rep := p.expect(tData, anyID)
		p.ack(rep.id)
		p.quiet(time.Second)
		// 0x62 followed by silence: the stop's state change is sent again.
		p.write([]byte{0x62})
		p.stateChange(anyID)
	})
}

func TestResendWhileStoppedResendsStateChange(t *testing.T) {
	simTest(t, Config{Stopped: true}, func(t *testing.T, r *rig) {
		p := r.p
		first := p.stateChange(idInitial | idSync)
		p.write(controlPkt(tResend, 0))
		again := p.stateChange(anyID)
		if again.id != idInitial|1 {
			t.Errorf("re-sent state change id = %08x; want 80800001", again.id)
		}
		if !bytes.Equal(first.payload, again.payload) {
			t.Errorf("re-sent state change differs")
		}
	})
}

func TestDuplicateIsAckedAndDropped(t *testing.T) {
	simTest(t, Config{Stopped: true}, func(t *testing.T, r *rig) {
		p := r.p
		p.stateChange(idInitial | idSync)
		req := frame(dataLeader, tData, p.id, manip(0x3146, 0, nil, nil))
		p.request(0x3146, 0, nil, nil)
		p.write(req) // the same packet again, same id
		p.expect(tAck, idInitial)
		p.quiet(time.Second)
		p.request(0x3146, 0, nil, nil) // the next id is still served
	})
}

func TestWrongTypeIsAckedAndDropped(t *testing.T) {
	simTest(t, Config{Stopped: true}, func(t *testing.T, r *rig) {
		p := r.p
		p.stateChange(idInitial | idSync)
		// A request whose type was damaged into DEBUG_IO (still >= 0x38 bytes).
		p.write(frame(dataLeader, tDebugIO, p.id, manip(0x3146, 0, nil, nil)))
		p.expect(tAck, p.id)
		p.quiet(time.Second)
		// The target did not advance: a host that did gets its next packet
		// dropped as a duplicate...
		p.write(frame(dataLeader, tData, p.id^1, manip(0x3146, 0, nil, nil)))
		p.expect(tAck, p.id^1)
		p.quiet(time.Second)
		// ... and the old id is still the expected one.
		p.request(0x3146, 0, nil, nil)
	})
}

func TestMalformedPacketsGetResend(t *testing.T) {
	simTest(t, Config{Stopped: true}, func(t *testing.T, r *rig) {
		p := r.p
		p.stateChange(idInitial | idSync)
		good := frame(dataLeader, tData, p.id, manip(0x3146, 0, nil, nil))
		badSum := bytes.Clone(good)
		badSum[12]++
		badTrailer := bytes.Clone(good)
		badTrailer[len(badTrailer)-1] = 0x55
		tooShort := frame(dataLeader, tData, p.id, make([]byte, 0x20))
		tooLong := bytes.Clone(good[:16])
		le32.PutUint16(tooLong[6:], 4001)
		truncated := good[:40]
		for name, b := range map[string][]byte{"checksum": badSum, "trailer": badTrailer, "short": tooShort,
			"long": tooLong, "truncated": truncated} {
			p.write(b)
			if pk := p.next(); pk.typ != tResend || pk.id != 0 {
				t.Fatalf("%s: got %v; want RESEND id 0", name, pk)
			}
		}
		p.request(0x3146, 0, nil, nil)
	})
}

func TestDataPacketWhileWaitingForAck(t *testing.T) {
	simTest(t, Config{Stopped: true}, func(t *testing.T, r *rig) {
		p := r.p
		p.expect(tStateChange, idInitial|idSync)
		// Instead of an ACK the host sends its request: implicit ACK + RESEND.
		req := frame(dataLeader, tData, p.id, manip(0x3146, 0, nil, nil))
		p.write(req)
		p.expect(tResend, 0)
		p.quiet(time.Second) // the state change counts as delivered
		p.request(0x3146, 0, nil, nil)
	})
}

func TestUnknownControlAndStrayAckIgnored(t *testing.T) {
	simTest(t, Config{Stopped: true}, func(t *testing.T, r *rig) {
		p := r.p
		p.stateChange(idInitial | idSync)
		p.write(controlPkt(9, 0))
		p.write(controlPkt(tAck, 0x12345678))
		p.write([]byte("0i0i00iii junk 000"))
		p.quiet(time.Second)
		p.request(0x3146, 0, nil, nil)
	})
}
