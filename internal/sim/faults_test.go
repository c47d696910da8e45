package sim

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// Injected line faults and hostile packets.

// firstBytes returns the first n bytes a stopped machine with cfg sends.
func firstBytes(t *testing.T, cfg Config, n int) []byte {
	t.Helper()
	var out []byte
	synctest.Test(t, func(t *testing.T) {
		m := New(cfg)
		a, b := net.Pipe()
		done := make(chan error, 1)
		go func() { done <- m.Serve(context.Background(), a) }()
		out = make([]byte, n)
		if _, err := io.ReadFull(b, out); err != nil {
			t.Fatalf("read: %v", err)
		}
		b.Close()
		<-done
	})
	return out
}

func TestNoiseCorruptsOneByte(t *testing.T) {
	const n = 17 + 0xF4
	clean := firstBytes(t, Config{Stopped: true, Seed: 5}, n)
	noisy := firstBytes(t, Config{Stopped: true, Seed: 5, Noise: 1}, n)
	diff := 0
	for i := range clean {
		if clean[i] != noisy[i] {
			diff++
		}
	}
	if diff != 1 {
		t.Fatalf("%d bytes differ; want exactly 1", diff)
	}
}

func TestDropSendsNothing(t *testing.T) {
	var log eventLog
	simTest(t, Config{Stopped: true, Drop: 1, Events: log.add}, func(t *testing.T, r *rig) {
		r.p.quiet(2 * time.Second)
		if log.count(EventFault, "drop") < 10 {
			t.Errorf("%d drops; want one per (re)transmission", log.count(EventFault, "drop"))
		}
	})
}

func TestDupSendsTwice(t *testing.T) {
	simTest(t, Config{Stopped: true, Dup: 1}, func(t *testing.T, r *rig) {
		p := r.p
		a := p.expect(tStateChange, idInitial|idSync)
		b := p.expect(tStateChange, idInitial|idSync)
		if !bytes.Equal(a.payload, b.payload) {
			t.Fatalf("duplicate differs")
		}
		p.ack(a.id)
		p.write(frame(dataLeader, tData, p.id, manip(apiGetVersion, 0, nil, nil)))
		p.expect(tAck, p.id)
		p.expect(tAck, p.id)
		rep := p.expect(tData, anyID)
		p.expect(tData, rep.id)
		p.ack(rep.id)
	})
}

func TestGarbageBetweenPackets(t *testing.T) {
	simTest(t, Config{Stopped: true, Garbage: 1, Seed: 3}, func(t *testing.T, r *rig) {
		p := r.p
		p.stateChange(idInitial | idSync)
		p.request(apiGetVersion, 0, nil, nil)
		if p.junk.Load() == 0 {
			t.Errorf("no junk seen between packets")
		}
	})
}

func TestDesyncUntilReset(t *testing.T) {
	stoppedTest(t, Config{DesyncAfter: 1}, func(t *testing.T, r *rig) {
		p := r.p
		p.request(apiGetVersion, 0, nil, nil)
		p.send(apiGetVersion, 0, nil, nil) // ACKed ...
		p.quiet(time.Second)               // ... and dropped as a duplicate
		p.send(apiGetVersion, 0, nil, nil) // the next id is out of step too
		p.quiet(time.Second)
		p.write(controlPkt(tReset, 0))
		p.expect(tReset, 0)
		p.stateChange(idInitial)
		p.id = idInitial
		p.request(apiGetVersion, 0, nil, nil)
		p.request(apiGetVersion, 0, nil, nil)
	})
}

func TestMuteForAWhile(t *testing.T) {
	stoppedTest(t, Config{MuteAfter: 1, MuteFor: 3 * time.Second}, func(t *testing.T, r *rig) {
		p := r.p
		p.request(apiGetVersion, 0, nil, nil)
		req := frame(dataLeader, tData, p.id, manip(apiGetVersion, 0, nil, nil))
		p.write(req)
		p.quiet(3500 * time.Millisecond) // not even an ACK, for as long as the mute lasts
		p.write(req)
		p.expect(tAck, p.id)
		p.id ^= 1
		rep := p.expect(tData, anyID)
		p.ack(rep.id)
	})
}

func TestEvilPacketsAreWellFormed(t *testing.T) {
	simTest(t, Config{Evil: true, PrintEvery: 100 * time.Millisecond}, func(t *testing.T, r *rig) {
		p := r.p
		pr := p.expect(tDebugIO, anyID) // checksum and trailer verified by the probe
		p.ack(pr.id)
		txt := pr.payload[0x10:]
		if pr.u32(8) <= uint32(len(txt)) || !bytes.Contains(txt, []byte("\x1b[")) || !bytes.Contains(txt, []byte{0xff, 0xfe}) {
			t.Errorf("print not hostile: length %#x text %q", pr.u32(8), txt)
		}
		p.write([]byte{0x62})
		var sc rawPkt
		for sc = p.next(); sc.typ != tStateChange; sc = p.next() {
			p.ack(sc.id) // more prints may come first
		}
		p.ack(sc.id)
		if sc.bad != "" || sc.u32(8) != 0xFFFFFFFF || sc.u16(0xD4) != 0xFFFF {
			t.Errorf("state change: %s processors %#x instructions %#x", sc.bad, sc.u32(8), sc.u16(0xD4))
		}
		rd := readVirtual(p, r.m.KernBase(), 16)
		if rd.u32(0x1C) <= uint32(len(rd.data())) {
			t.Errorf("ActualBytesRead %#x does not lie about %d bytes", rd.u32(0x1C), len(rd.data()))
		}
		p.send(apiContinue, 0, union(uint32(0x10001)), nil)
		for sc = p.next(); sc.typ != tStateChange; sc = p.next() {
			p.ack(sc.id)
		}
		p.ack(sc.id)
		if sc.u32(0) != 0x3031 || sc.u32(0x20) <= uint32(len(sc.payload)-0xF0) {
			t.Errorf("load symbols: state %#x PathNameLength %#x extra %d", sc.u32(0), sc.u32(0x20), len(sc.payload)-0xF0)
		}
		p.send(apiContinue, 0, union(uint32(0x10001)), nil)
	})
}

// robustRequest is what a careful host does on a bad line: retransmit on
// RESEND or silence, ACK everything valid, and resynchronise with RESET
// when retransmission does not help.
func (p *probe) robustRequest(api uint32, u []byte) rawPkt {
	p.t.Helper()
	for round := 0; round < 40; round++ {
		if round > 0 && round%4 == 0 {
			p.resync()
		}
		p.write(frame(dataLeader, tData, p.id, manip(api, 0, u, nil)))
		acked := false
		timeout := time.After(300 * time.Millisecond)
	wait:
		for {
			select {
			case pk := <-p.pkts:
				switch {
				case pk.bad != "":
				case pk.control() && pk.typ == tAck && pk.id == p.id:
					acked = true
				case pk.control() && pk.typ == tResend && !acked:
					break wait
				case !pk.control():
					p.ack(pk.id)
					if pk.typ == tData && len(pk.payload) >= 0x38 && pk.u32(0) == api {
						p.id ^= 1
						p.drain()
						return pk
					}
				}
			case <-timeout:
				break wait
			}
		}
	}
	p.t.Fatalf("request %#x failed on a noisy line", api)
	return rawPkt{}
}

// resync sends RESET until it is answered, then takes the state change.
func (p *probe) resync() {
	p.t.Helper()
	for i := 0; i < 40; i++ {
		p.write(controlPkt(tReset, 0))
		timeout := time.After(300 * time.Millisecond)
		for gotReset := false; ; {
			select {
			case pk := <-p.pkts:
				if pk.bad != "" {
					continue
				}
				if pk.control() && pk.typ == tReset {
					gotReset = true
				}
				if gotReset && pk.typ == tStateChange {
					p.ack(pk.id)
					p.id = idInitial
					p.drain()
					return
				}
				if !pk.control() {
					p.ack(pk.id)
				}
				continue
			case <-timeout:
			}
			break
		}
	}
	p.t.Fatalf("no resynchronisation")
}

// drain acknowledges whatever repeats are still on the way.
func (p *probe) drain() {
	for {
		select {
		case pk := <-p.pkts:
			if !pk.control() && pk.bad == "" {
				p.ack(pk.id)
			}
		case <-time.After(200 * time.Millisecond):
			return
		}
	}
}

func TestNoisyLineStillUsable(t *testing.T) {
	cfg := Config{Stopped: true, Seed: 11, Noise: 0.1, Drop: 0.1, Dup: 0.1, Garbage: 0.2}
	simTest(t, cfg, func(t *testing.T, r *rig) {
		p := r.p
		p.resync()
		for i := 0; i < 10; i++ {
			v := p.robustRequest(apiGetVersion, nil)
			if v.u64(0x20) != r.m.KernBase() {
				t.Fatalf("KernBase %#x", v.u64(0x20))
			}
			mz := p.robustRequest(apiReadVirtual, union(r.m.KernBase(), uint32(2)))
			if !strings.HasPrefix(string(mz.data()), "MZ") {
				t.Fatalf("read % x", mz.data())
			}
		}
	})
}

func TestBaudPacing(t *testing.T) {
	simTest(t, Config{Stopped: true, Baud: 9600}, func(t *testing.T, r *rig) {
		start := time.Now()
		r.p.expect(tStateChange, idInitial|idSync)
		// 261 bytes at 10 bit times each.
		if d, want := time.Since(start), 261*10*time.Second/9600; d < want {
			t.Errorf("state change took %v; want at least %v", d, want)
		}
	})
}
