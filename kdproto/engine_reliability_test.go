package kdproto

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"testing/synctest"
	"time"
)

// Issue 13: kd's view of the target never drifts. Each test is one rule of
// docs/protocol.md section 12.

func memReply(addr uint64, data []byte) Manipulate {
	return NewManipulate(APIReadVirtualMemory, 0, Memory{Address: addr, TransferCount: uint32(len(data)), ActualBytes: uint32(len(data))}, data)
}

// A data packet whose header was hit by noise passes the checksum (it
// covers the payload only). Acknowledging it would lose it: the engine
// asks for it again instead, whichever header field was hit.
func TestEngineDamagedHeaderAskedAgain(t *testing.T) {
	damage := []struct {
		name string
		typ  PacketType
		id   uint32
	}{
		{"type field", PacketType(0x4202), InitialPacketID},
		{"type of another packet", PacketTypeDebugIO, InitialPacketID},
		{"id field", PacketTypeStateManipulate, InitialPacketID | 0x00010000},
	}
	for _, d := range damage {
		t.Run(d.name, func(t *testing.T) {
			engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
				ch := goRequest(e, NewManipulate(APIReadVirtualMemory, 0, Memory{Address: 0x1000, TransferCount: 4}, nil))
				ft.wantManipulate(InitialPacketID, APIReadVirtualMemory)
				ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
				rep := memReply(0x1000, []byte{1, 2, 3, 4})
				ft.sendData(d.typ, d.id, rep.Append(nil))
				ft.wantControl(PacketTypeResend, 0)
				ft.reply(InitialPacketID, rep)
				ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
				r := wantResult(t, ch)
				if r.err != nil || !bytes.Equal(r.m.Data, []byte{1, 2, 3, 4}) {
					t.Fatalf("reply %v, %v", r.m, r.err)
				}
			})
		})
	}
}

// A DbgPrint whose id was hit is not shown, so the copy the target sends
// again is shown once.
func TestEnginePrintWithDamagedIDShownOnce(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		d := DebugIO{API: APIPrintString, Length: 3, Data: []byte("hi\n")}
		ft.sendData(PacketTypeDebugIO, InitialPacketID^0x00400000, d.Append(nil))
		ft.wantControl(PacketTypeResend, 0)
		ft.sendData(PacketTypeDebugIO, InitialPacketID, d.Append(nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		if ev := nextEvent(t, e); ev.Kind != EventPrint || string(ev.Text) != "hi\n" {
			t.Fatalf("event %v", ev)
		}
		synctest.Wait()
		select {
		case ev := <-e.Events():
			t.Fatalf("second event %v", ev)
		default:
		}
	})
}

// A reply is matched to the request by what it echoes, not by its API
// alone: a late reply to an earlier read at another address is stale.
func TestEngineReplyForAnotherAddressIsStale(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ch := goRequest(e, NewManipulate(APIReadVirtualMemory, 0, Memory{Address: 0x2000, TransferCount: 2}, nil))
		ft.wantManipulate(InitialPacketID, APIReadVirtualMemory)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		ft.reply(InitialPacketID, memReply(0x1000, []byte{0xEE, 0xEE}))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		ft.reply(InitialPacketID|1, memReply(0x2000, []byte{7, 8}))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID|1)
		if r := wantResult(t, ch); r.err != nil || !bytes.Equal(r.m.Data, []byte{7, 8}) {
			t.Fatalf("reply %v, %v; want the bytes at 0x2000", r.m, r.err)
		}
	})
}

// A packet with the sync bit says the target started over (it rebooted,
// the VM was reset): its next expected id is InitialPacketID, whatever the
// host's sequence was.
func TestEngineSyncBitRenumbersHost(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetVersion)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		ft.reply(InitialPacketID, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		wantResult(t, ch)
		// The target reboots: its first stop carries the sync bit.
		ft.sendData(PacketTypeStateChange64, InitialPacketID|SyncPacketID, stateChange(0x1000))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		nextEvent(t, e)
		ch = goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetVersion) // not 0x80800001
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		ft.reply(InitialPacketID|1, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID|1)
		if r := wantResult(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	})
}

// A stop whose packet carries the sync bit is Fresh (the engine
// renumbered: the ids are in step without a RESET); a duplicate of it, a
// stop without the bit and the stop of a KDNET-like link are not.
func TestEngineFreshStop(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		sc := stateChange(0x1000)
		ft.sendData(PacketTypeStateChange64, InitialPacketID|SyncPacketID, sc)
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		if ev := nextEvent(t, e); ev.Kind != EventStateChange || !ev.Fresh {
			t.Fatalf("first stop %v; want fresh", ev)
		}
		// The ACK was lost: the same packet again is a duplicate.
		ft.sendData(PacketTypeStateChange64, InitialPacketID|SyncPacketID, sc)
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetVersion)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		ft.reply(InitialPacketID|1, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID|1)
		if r := wantResult(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
		// A stop without the sync bit (after a go) is not fresh.
		ft.sendData(PacketTypeStateChange64, InitialPacketID, stateChange(0x2000))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		if ev := nextEvent(t, e); ev.Kind != EventStateChange || ev.Fresh {
			t.Fatalf("stop without the sync bit %v; want not fresh", ev)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		host, tgt := net.Pipe()
		ft := newFakeTarget(t, tgt)
		link := capsLink{NewKDCOMLink(host, 0, 0), LinkCaps{ResetKeepsIDs: true, Name: "test"}}
		e := NewEngineLink(link, Options{})
		defer tgt.Close()
		defer e.Close()
		ft.sendData(PacketTypeStateChange64, InitialPacketID|SyncPacketID, stateChange(0x1000))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		if ev := nextEvent(t, e); ev.Kind != EventStateChange || ev.Fresh {
			t.Fatalf("stop on a link whose RESET keeps the ids %v; want not fresh", ev)
		}
	})
}

// A target whose sync bit sticks (VirtualKD clears bit 3 instead of 0x800
// after an ACK): its first stop is fresh, its replies carry the bit too.
// A reply cannot mean a restart: from then on the bit renumbers nothing,
// until a RESET clears it and a fresh target is believed again.
func TestEngineStickySyncBitIsNotARestart(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		const sync = InitialPacketID | SyncPacketID
		ft.sendData(PacketTypeStateChange64, sync, stateChange(0x1000))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		if ev := nextEvent(t, e); !ev.Fresh {
			t.Fatalf("first stop %v; want fresh", ev)
		}
		// Target ids 0x80800801, 0x80800800, ... (the bit stays); the
		// host's go on 0x80800000, 0x80800001, 0x80800000.
		own := uint32(sync | 1)
		for i, want := range []uint32{InitialPacketID, InitialPacketID | 1, InitialPacketID} {
			ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
			ft.wantManipulate(want, APIGetVersion)
			ft.sendControl(PacketTypeAcknowledge, want)
			ft.reply(own, NewManipulate(APIGetVersion, 0, nil, nil))
			ft.wantControl(PacketTypeAcknowledge, own&^SyncPacketID)
			if r := wantResult(t, ch); r.err != nil {
				t.Fatalf("request %d: %v", i, r.err)
			}
			own ^= 1
		}
		// A later stop with the bit is not a restart either.
		ft.sendData(PacketTypeStateChange64, own, stateChange(0x2000))
		ft.wantControl(PacketTypeAcknowledge, own&^SyncPacketID)
		if ev := nextEvent(t, e); ev.Kind != EventStateChange || ev.Fresh {
			t.Fatalf("stop of a sticky target %v; want not fresh", ev)
		}
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID|1, APIGetVersion) // not renumbered
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID|1)
		ft.reply(own^1, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantControl(PacketTypeAcknowledge, (own^1)&^SyncPacketID)
		if r := wantResult(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
		// A RESET clears the bit on the target: a sync bit after it
		// means a restart again.
		ft.sendControl(PacketTypeReset, 0)
		if ev := nextEvent(t, e); ev.Kind != EventTargetReset {
			t.Fatalf("event %v; want the target's RESET", ev)
		}
		ft.sendData(PacketTypeStateChange64, sync, stateChange(0x3000))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		if ev := nextEvent(t, e); !ev.Fresh {
			t.Fatalf("stop with the sync bit after a RESET %v; want fresh", ev)
		}
	})
}

// The ACK of a Continue is lost but the target prints: only a running
// target prints, so the Continue was taken.
func TestEngineResumeAckLostTargetTalks(t *testing.T) {
	engineTest(t, Options{AckTimeout: time.Second}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ft.sendData(PacketTypeStateChange64, InitialPacketID, stateChange(0x1000))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		nextEvent(t, e)
		ch := goRequest(e, NewManipulate(APIContinue2, 0, Continue2{Status: DbgContinue}, nil))
		ft.wantManipulate(InitialPacketID, APIContinue2)
		d := DebugIO{API: APIPrintString, Length: 3, Data: []byte("hi\n")}
		ft.sendData(PacketTypeDebugIO, InitialPacketID|1, d.Append(nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID|1)
		if r := wantResult(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
		if e.State() != StateRunning {
			t.Fatalf("state %v; want running", e.State())
		}
	})
}

// The stop the target re-sent before it took the Continue (it re-sends on
// a RESEND or a stray byte) comes after the Continue went out, but before
// its ACK: it is the old stop, not a new one, and the target runs.
func TestEngineOldStopBeforeResumeAckDropped(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		sc := stateChange(0x1000)
		ft.sendData(PacketTypeStateChange64, InitialPacketID, sc)
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		nextEvent(t, e)
		ch := goRequest(e, NewManipulate(APIContinue2, 0, Continue2{Status: DbgContinue}, nil))
		ft.wantManipulate(InitialPacketID, APIContinue2)
		ft.sendData(PacketTypeStateChange64, InitialPacketID|1, sc) // the old stop again
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID|1)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		if r := wantResult(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
		synctest.Wait()
		select {
		case ev := <-e.Events():
			t.Fatalf("event %v; the old stop must not count", ev)
		default:
		}
		if e.State() != StateRunning {
			t.Fatalf("state %v; want running", e.State())
		}
		// The same stop after the ACK is a new stop (the breakpoint hit again).
		ft.sendData(PacketTypeStateChange64, InitialPacketID, sc)
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		if ev := nextEvent(t, e); ev.Kind != EventStateChange || ev.Repeat {
			t.Fatalf("event %v; want a new stop", ev)
		}
	})
}

// A request cancelled after its packet went out returns at once, but the
// exchange is finished: the late ACK and reply are taken, the reply
// acknowledged, and the next request goes out with the next id.
func TestEngineCancelledRequestIsFinished(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ctx, cancel := context.WithCancel(context.Background())
		ch := make(chan result, 1)
		go func() {
			r, err := e.Request(ctx, NewManipulate(APIReadVirtualMemory, 0, Memory{Address: 0x1000, TransferCount: 2}, nil))
			ch <- result{r, err}
		}()
		ft.wantManipulate(InitialPacketID, APIReadVirtualMemory)
		cancel()
		if r := wantResult(t, ch); !errors.Is(r.err, context.Canceled) {
			t.Fatalf("err %v; want cancelled", r.err)
		}
		// The next request waits for the slot while the exchange ends.
		ch = goRequest(e, NewManipulate(APIReadVirtualMemory, 0, Memory{Address: 0x2000, TransferCount: 2}, nil))
		ft.wantIdle()
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		ft.reply(InitialPacketID, memReply(0x1000, []byte{1, 1}))
		// The ACK of the abandoned reply goes with the next request.
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		ft.wantManipulate(InitialPacketID|1, APIReadVirtualMemory)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID|1)
		ft.reply(InitialPacketID|1, memReply(0x2000, []byte{2, 2}))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID|1)
		if r := wantResult(t, ch); r.err != nil || !bytes.Equal(r.m.Data, []byte{2, 2}) {
			t.Fatalf("reply %v, %v", r.m, r.err)
		}
	})
}

// A read acknowledged but never answered (the target's ids fell out of
// step, or it lost its reply): the engine resynchronises with a RESET,
// sends the read again and says what it did in one line.
func TestEngineLostReplyRepairedWithReset(t *testing.T) {
	engineTest(t, Options{ReplyTimeout: 3 * time.Second}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetVersion)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		time.Sleep(3 * time.Second)
		ft.wantControl(PacketTypeReset, 0)
		ft.sendControl(PacketTypeReset, 0)
		ft.wantManipulate(InitialPacketID, APIGetVersion)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		ft.reply(InitialPacketID, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		if r := wantResult(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
		if ev := nextEvent(t, e); ev.Kind != EventRepaired || !bytes.Contains(ev.Text, []byte("GetVersion")) {
			t.Fatalf("event %v; want the repair said", ev)
		}
	})
}
