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

type resyncResult struct {
	r   ResyncResult
	err error
}

func goResync(e *Engine, o ResyncOptions) chan resyncResult {
	ch := make(chan resyncResult, 1)
	go func() {
		r, err := e.Resync(context.Background(), o)
		ch <- resyncResult{r, err}
	}()
	return ch
}

func TestEngineResyncWithRequestInFlight(t *testing.T) {
	engineTest(t, Options{AckTimeout: 10 * time.Second}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		// Get the host's id away from the initial value first.
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetVersion)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		ft.reply(InitialPacketID, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		wantResult(t, ch)

		// A request goes unanswered; the user resyncs.
		ch = goRequest(e, NewManipulate(APIReadVirtualMemory, 0, Memory{Address: 0x1000, TransferCount: 4}, nil))
		ft.wantManipulate(InitialPacketID|1, APIReadVirtualMemory)
		rs := goResync(e, ResyncOptions{Interval: time.Second})
		ft.wantControl(PacketTypeReset, 0)
		ft.sendControl(PacketTypeReset, 0)
		// The request is sent again, renumbered from the initial id.
		ft.wantManipulate(InitialPacketID, APIReadVirtualMemory)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		ft.reply(InitialPacketID, NewManipulate(APIReadVirtualMemory, 0, Memory{Address: 0x1000, TransferCount: 4, ActualBytes: 4}, []byte{1, 2, 3, 4}))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		if r := wantResult(t, ch); r.err != nil || string(r.m.Data) != "\x01\x02\x03\x04" {
			t.Fatalf("request after resync = %v, %v", r.m, r.err)
		}
		synctest.Wait()
		res := <-rs
		if res.err != nil || res.r.Resets != 1 {
			t.Fatalf("Resync = %+v, %v; want 1 RESET, nil", res.r, res.err)
		}
	})
}

func TestEngineResyncInterruptedTwiceFails(t *testing.T) {
	engineTest(t, Options{AckTimeout: 10 * time.Second}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetVersion)
		ft.sendControl(PacketTypeReset, 0)
		nextEvent(t, e) // EventTargetReset
		ft.wantManipulate(InitialPacketID, APIGetVersion)
		ft.sendControl(PacketTypeReset, 0)
		nextEvent(t, e)
		if r := wantResult(t, ch); !errors.Is(r.err, ErrResyncInterrupted) {
			t.Fatalf("err = %v; want ErrResyncInterrupted", r.err)
		}
	})
}

func TestEngineResyncRunningTargetAnswersLater(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		rs := goResync(e, ResyncOptions{Interval: time.Second})
		// A running target eats the first RESETs.
		ft.wantControl(PacketTypeReset, 0)
		time.Sleep(time.Second)
		ft.wantControl(PacketTypeReset, 0)
		time.Sleep(time.Second)
		ft.wantControl(PacketTypeReset, 0)
		// It talks (a DbgPrint) and, waiting for the ACK, reads the RESET.
		ft.sendControl(PacketTypeReset, 0)
		synctest.Wait()
		res := <-rs
		if res.err != nil || res.r.Resets != 3 || res.r.Elapsed != 2*time.Second {
			t.Fatalf("Resync = %+v, %v; want 3 RESETs in 2s", res.r, res.err)
		}
		// A stopped target re-sends its state change with the initial id;
		// the duplicate filter was cleared, not seeded, so it is delivered.
		ft.sendData(PacketTypeStateChange64, InitialPacketID, stateChange(0x1000))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		if ev := nextEvent(t, e); ev.Kind != EventStateChange {
			t.Fatalf("event = %v; want state change", ev)
		}
	})
}

func TestEngineResyncGivesUpAfterMax(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		rs := goResync(e, ResyncOptions{Interval: time.Second, Max: 2})
		ft.wantControl(PacketTypeReset, 0)
		time.Sleep(time.Second)
		ft.wantControl(PacketTypeReset, 0)
		time.Sleep(time.Second)
		res := <-rs
		if !errors.Is(res.err, ErrResyncFailed) || res.r.Resets != 2 {
			t.Fatalf("Resync = %+v, %v; want ErrResyncFailed after 2", res.r, res.err)
		}
		ft.wantIdle()
	})
}

func TestEngineResyncCancelled(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ctx, cancel := context.WithCancel(context.Background())
		ch := make(chan error, 1)
		go func() { _, err := e.Resync(ctx, ResyncOptions{}); ch <- err }()
		ft.wantControl(PacketTypeReset, 0)
		cancel()
		synctest.Wait()
		if err := <-ch; !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v; want context.Canceled", err)
		}
	})
}

func TestEngineTargetResetRenumbers(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ft.sendData(PacketTypeStateChange64, InitialPacketID, stateChange(0x1000))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		nextEvent(t, e)
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetVersion)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		ft.reply(InitialPacketID|1, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID|1)
		wantResult(t, ch)

		ft.sendControl(PacketTypeReset, 0)
		if ev := nextEvent(t, e); ev.Kind != EventTargetReset {
			t.Fatalf("event = %v; want target reset", ev)
		}
		ft.wantIdle() // the host does not answer a RESET with a RESET
		// The host's next packet starts again at the initial id.
		ch = goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetVersion)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		// And a target packet with the id seen before the reset is new.
		ft.reply(InitialPacketID|1, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID|1)
		if r := wantResult(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	})
}

func TestEngineBadPacketsAskForResend(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		good := AppendData(nil, PacketTypeStateChange64, InitialPacketID, stateChange(0x1000))
		bad := append([]byte(nil), good...)
		bad[HeaderSize+0x20] ^= 0x01 // one payload bit flipped
		ft.send(bad)
		ft.wantControl(PacketTypeResend, 0)
		trailer := append([]byte(nil), good...)
		trailer[len(trailer)-1] = 0x00
		ft.send(trailer)
		ft.wantControl(PacketTypeResend, 0)
		big := AppendHeader(nil, Header{Leader: PacketLeader, Type: PacketTypeDebugIO, ByteCount: 0xFFFF, ID: InitialPacketID})
		ft.send(big)
		ft.wantControl(PacketTypeResend, 0)
		ft.send(append([]byte("junk\x00iii"), good...))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		if ev := nextEvent(t, e); ev.Kind != EventStateChange {
			t.Fatalf("event = %v; want state change after junk", ev)
		}
	})
}

func TestEngineBreakInAndRunningState(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ft.sendData(PacketTypeStateChange64, InitialPacketID|SyncPacketID, stateChange(0x1000))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		nextEvent(t, e)
		ch := goRequest(e, NewManipulate(APIContinue2, 0, Continue2{Status: DbgContinue}, nil))
		m, _ := ft.wantManipulate(InitialPacketID, APIContinue2)
		if c := m.Continue2(); c.Status != DbgContinue || c.TraceFlag != 0 {
			t.Fatalf("continue = %+v", c)
		}
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		if r := wantResult(t, ch); r.err != nil {
			t.Fatalf("Continue2 = %v; want nil after the ACK alone", r.err)
		}
		if e.State() != StateRunning {
			t.Fatalf("state = %v; want running", e.State())
		}
		if r := wantResult(t, goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))); !errors.Is(r.err, ErrTargetRunning) {
			t.Fatalf("request while running = %v; want ErrTargetRunning", r.err)
		}
		ft.wantIdle()
		if err := e.BreakIn(); err != nil {
			t.Fatal(err)
		}
		if w := ft.next(); !w.breakin {
			t.Fatalf("host wrote %v; want the break-in byte", w)
		}
		ft.sendData(PacketTypeStateChange64, InitialPacketID|1, stateChange(0x2000))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID|1)
		if ev := nextEvent(t, e); ev.State.PC != 0x2000 || e.State() != StateStopped {
			t.Fatalf("event = %v, state %v", ev, e.State())
		}
	})
}

func TestEnginePrintPromptAndFileIO(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		d := DebugIO{API: APIPrintString, Length: 6, Data: []byte("hello\n")}
		ft.sendData(PacketTypeDebugIO, InitialPacketID|SyncPacketID, d.Append(nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		if ev := nextEvent(t, e); ev.Kind != EventPrint || string(ev.Text) != "hello\n" {
			t.Fatalf("event = %v; want print", ev)
		}
		// A lying length is bounded by the data.
		d = DebugIO{API: APIPrintString, Length: 0xFFFFFFFF, Data: []byte("x")}
		ft.sendData(PacketTypeDebugIO, InitialPacketID|1, d.Append(nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID|1)
		if ev := nextEvent(t, e); string(ev.Text) != "x" {
			t.Fatalf("event = %v; want bounded text", ev)
		}
		p := DebugIO{API: APIGetString, Length: 3, LengthRead: 16, Data: []byte("ok?")}
		ft.sendData(PacketTypeDebugIO, InitialPacketID, p.Append(nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		ev := nextEvent(t, e)
		if ev.Kind != EventPrompt || string(ev.Text) != "ok?" || ev.MaxReply != 16 {
			t.Fatalf("event = %v; want prompt", ev)
		}
		done := make(chan error, 1)
		go func() { done <- e.AnswerPrompt(context.Background(), []byte("yes")) }()
		w := ft.wantData(PacketTypeDebugIO, InitialPacketID)
		a, _ := ParseDebugIO(w.pkt.Payload)
		if a.API != APIGetString || string(a.Data) != "yes" {
			t.Fatalf("answer = %+v", a)
		}
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		synctest.Wait()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		f := FileIO{API: APICreateFile}
		ft.sendData(PacketTypeFileIO, InitialPacketID|1, f.Append(nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID|1)
		w = ft.wantData(PacketTypeFileIO, InitialPacketID|1)
		if r, _ := ParseFileIO(w.pkt.Payload); r.API != APICreateFile || r.Status != StatusNoSuchFile {
			t.Fatalf("file I/O answer = %+v", r)
		}
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID|1)
		ft.wantIdle()
	})
}

func TestEngineLinkFailure(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetVersion)
		ft.conn.Close()
		r := wantResult(t, ch)
		var le *LinkError
		if !errors.As(r.err, &le) {
			t.Fatalf("err = %v; want a LinkError", r.err)
		}
		ev := nextEvent(t, e)
		if ev.Kind != EventLinkError {
			t.Fatalf("event = %v; want link error", ev)
		}
		if _, ok := <-e.Events(); ok {
			t.Fatal("events not closed after the link error")
		}
		if r := wantResult(t, goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))); !errors.As(r.err, &le) {
			t.Fatalf("request after failure = %v; want LinkError", r.err)
		}
	})
}

func TestEngineRequestCancelled(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ctx, cancel := context.WithCancel(context.Background())
		ch := make(chan error, 1)
		go func() { _, err := e.Request(ctx, NewManipulate(APIGetVersion, 0, nil, nil)); ch <- err }()
		ft.wantManipulate(InitialPacketID, APIGetVersion)
		cancel()
		synctest.Wait()
		if err := <-ch; !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v; want context.Canceled", err)
		}
	})
}

func TestEngineTraceHook(t *testing.T) {
	var lines []string
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		e.SetTrace(func(r TraceRecord) { lines = append(lines, r.String()) })
		ft.sendData(PacketTypeStateChange64, InitialPacketID|SyncPacketID, stateChange(0x1000))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		nextEvent(t, e)
		e.BreakIn()
		ft.next()
		e.SetTrace(nil)
		e.BreakIn()
		ft.next()
	})
	want := []string{
		"<- STATE_CHANGE64 id=80800800 len=244 Exception",
		"-> ACK id=80800000",
		"-> BREAKIN 62",
	}
	if len(lines) != len(want) {
		t.Fatalf("trace = %q; want %d lines", lines, len(want))
	}
	for i, w := range want {
		if len(lines[i]) < len(w) || lines[i][:len(w)] != w {
			t.Errorf("trace line %d = %q; want prefix %q", i, lines[i], w)
		}
	}
}

func TestEngineSlowConsumerNeverStallsProtocol(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		line := bytes.Repeat([]byte("x"), 3000)
		id := InitialPacketID
		n := maxQueuedText/len(line) + 10
		for i := 0; i < n; i++ {
			d := DebugIO{API: APIPrintString, Length: uint32(len(line)), Data: line}
			ft.sendData(PacketTypeDebugIO, id, d.Append(nil))
			ft.wantControl(PacketTypeAcknowledge, id)
			id ^= 1
		}
		// Nobody read the events, yet every print was acknowledged and a
		// request still completes.
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetVersion)
		ft.reply(id, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantControl(PacketTypeAcknowledge, id)
		if r := wantResult(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
		prints, warned := 0, false
		for i := 0; i < n; i++ {
			ev := nextEvent(t, e)
			if ev.Kind == EventWarning {
				warned = true
				break
			}
			prints++
		}
		// The queue holds maxQueuedText bytes; one more print is in the
		// forwarder's hands, waiting on the Events channel.
		if want := maxQueuedText/len(line) + 1; !warned || prints != want {
			t.Fatalf("got %d prints then warning=%v; want %d then a drop warning", prints, warned, want)
		}
	})
}

func TestEngineStopOvertakingContinueAckLeavesTargetStopped(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ft.sendData(PacketTypeStateChange64, InitialPacketID|SyncPacketID, stateChange(0x1000))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		nextEvent(t, e)
		ch := goRequest(e, NewManipulate(APIContinue2, 0, Continue2{Status: DbgContinue, TraceFlag: 1}, nil))
		ft.wantManipulate(InitialPacketID, APIContinue2)
		if e.State() != StateRunning {
			t.Fatalf("state while Continue2 awaits its ACK = %v; want running", e.State())
		}
		// The single step's state change arrives before the ACK (which the
		// line delayed): the reply-less request takes it as done.
		ft.sendData(PacketTypeStateChange64, InitialPacketID|1, stateChange(0x1001))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID|1)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		if r := wantResult(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
		if e.State() != StateStopped {
			t.Fatalf("state = %v; want stopped: the step's state change came in", e.State())
		}
		if ev := nextEvent(t, e); ev.State.PC != 0x1001 || ev.Repeat {
			t.Fatalf("event = %v", ev)
		}
	})
}

// A Continue that gets no ACK may have been taken by the target (its ACK
// lost) or not: the engine says it does not know, rather than stopped.
func TestEngineUnacknowledgedContinueLeavesStateUnknown(t *testing.T) {
	engineTest(t, Options{AckTimeout: time.Second, Retries: 1}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ft.sendData(PacketTypeStateChange64, InitialPacketID|SyncPacketID, stateChange(0x1000))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		nextEvent(t, e)
		ch := goRequest(e, NewManipulate(APIContinue2, 0, Continue2{Status: DbgContinue}, nil))
		ft.wantManipulate(InitialPacketID, APIContinue2)
		time.Sleep(time.Second)
		ft.wantManipulate(InitialPacketID, APIContinue2)
		time.Sleep(time.Second)
		if r := wantResult(t, ch); !errors.Is(r.err, ErrNoAck) {
			t.Fatalf("err = %v; want ErrNoAck", r.err)
		}
		if e.State() != StateUnknown {
			t.Fatalf("state = %v; want unknown: the continue may have arrived", e.State())
		}
	})
}

func TestEngineFileIOFloodRefusedOnceAtATime(t *testing.T) {
	engineTest(t, Options{AckTimeout: time.Second, Retries: 1}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		id := InitialPacketID
		for i := 0; i < 200; i++ {
			f := FileIO{API: APICreateFile}
			ft.sendData(PacketTypeFileIO, id, f.Append(nil))
			ft.wantControl(PacketTypeAcknowledge, id)
			if i == 0 {
				// The one refusal; the target never ACKs it.
				ft.wantData(PacketTypeFileIO, InitialPacketID)
			}
			id ^= 1
		}
		ft.wantIdle() // no other refusal while the first is under way
		time.Sleep(time.Second)
		ft.wantData(PacketTypeFileIO, InitialPacketID) // its one retransmission
		time.Sleep(time.Second)
		ft.wantIdle()
		// The slot is free again: requests go through.
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetVersion)
		ft.reply(id, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantControl(PacketTypeAcknowledge, id)
		if r := wantResult(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	})
}

func TestEngineRequestWaitingForSlotHonoursContext(t *testing.T) {
	engineTest(t, Options{AckTimeout: time.Minute}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		first := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetVersion) // never answered
		ctx, cancel := context.WithCancel(context.Background())
		ch := make(chan error, 1)
		go func() { _, err := e.Request(ctx, NewManipulate(APIGetVersion, 0, nil, nil)); ch <- err }()
		synctest.Wait()
		cancel()
		synctest.Wait()
		if err := <-ch; !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v; want context.Canceled while the first request holds the slot", err)
		}
		ft.wantIdle()
		e.Close()
		if r := wantResult(t, first); !errors.Is(r.err, ErrClosed) {
			t.Fatalf("first request = %v; want ErrClosed after Close", r.err)
		}
	})
}

func TestEngineLyingLengthsInRepliesAreBounded(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		type res struct {
			b   []byte
			err error
		}
		ch := make(chan res, 1)
		go func() {
			b, err := e.ReadVirtual(context.Background(), 0, 0x1000, 4)
			ch <- res{b, err}
		}()
		ft.wantManipulate(InitialPacketID, APIReadVirtualMemory)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		// ActualBytes 0xFFFFFFFF, data of 2 bytes: a short read, not a panic
		// (int(0xFFFFFFFF) is negative on 32-bit hosts).
		ft.reply(InitialPacketID, NewManipulate(APIReadVirtualMemory, 0, Memory{Address: 0x1000, TransferCount: 4, ActualBytes: 0xFFFFFFFF}, []byte{1, 2}))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		synctest.Wait()
		r := <-ch
		var me *MemoryError
		if !errors.As(r.err, &me) || me.Done != 2 || len(r.b) != 2 {
			t.Fatalf("ReadVirtual = %x, %v; want 2 bytes and a MemoryError", r.b, r.err)
		}
	})
}

func TestEngineStopsAreNeverDroppedForASlowConsumer(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		id := InitialPacketID
		for i := 0; i < maxQueuedEvents+10; i++ {
			d := DebugIO{API: APIPrintString, Length: 1, Data: []byte("x")}
			ft.sendData(PacketTypeDebugIO, id, d.Append(nil))
			ft.wantControl(PacketTypeAcknowledge, id)
			id ^= 1
		}
		ft.sendData(PacketTypeStateChange64, id, stateChange(0x1000))
		ft.wantControl(PacketTypeAcknowledge, id)
		kinds := map[EventKind]int{}
		for {
			synctest.Wait()
			select {
			case ev := <-e.Events():
				kinds[ev.Kind]++
				continue
			default:
			}
			break
		}
		if kinds[EventStateChange] != 1 || kinds[EventWarning] == 0 || kinds[EventPrint] > maxQueuedEvents+1 {
			t.Fatalf("events = %v; want the stop, a drop warning and at most %d prints", kinds, maxQueuedEvents+1)
		}
	})
}

func TestEngineReaderNeverWaitsForAStuckLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		host, target := net.Pipe()
		e := NewEngine(host, Options{})
		defer target.Close()
		defer e.Close()
		// A target that talks but does not read: net.Pipe has no buffer,
		// so the engine's ACKs cannot go out. Its packets must still be
		// read and delivered at once.
		go func() {
			for i := uint32(0); i < 3; i++ {
				d := DebugIO{API: APIPrintString, Length: 1, Data: []byte{'a' + byte(i)}}
				if _, err := target.Write(AppendData(nil, PacketTypeDebugIO, InitialPacketID|i&1, d.Append(nil))); err != nil {
					return
				}
			}
		}()
		for i := 0; i < 3; i++ {
			synctest.Wait()
			select {
			case ev := <-e.Events():
				if ev.Kind != EventPrint || ev.Text[0] != 'a'+byte(i) {
					t.Fatalf("event %d = %v", i, ev)
				}
			default:
				t.Fatalf("print %d not delivered while the link is stuck", i)
			}
		}
	})
}

func TestEngineResetCrossingAnAcceptedRequest(t *testing.T) {
	engineTest(t, Options{AckTimeout: 10 * time.Second}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		// The host's request (id 80800000) went out just after the target
		// reset itself, so the target takes it and answers; but the host
		// reads the target's RESET first and sends the request again with
		// the same id, which the target ACKs and drops as a duplicate. The
		// reply to the first copy must complete the request.
		ch := goRequest(e, NewManipulate(APIGetContext, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetContext)
		ft.sendControl(PacketTypeReset, 0)
		nextEvent(t, e)                                   // EventTargetReset
		ft.wantManipulate(InitialPacketID, APIGetContext) // sent again
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		ft.reply(InitialPacketID, NewManipulate(APIGetContext, 0, nil, []byte{1, 2, 3}))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID) // the duplicate's ACK
		if r := wantResult(t, ch); r.err != nil || len(r.m.Data) != 3 {
			t.Fatalf("GetContext = %v, %v; want the first copy's reply", r.m, r.err)
		}
		ft.wantIdle()
	})
}

func TestEngineResetAckAndReplyInOneBurst(t *testing.T) {
	engineTest(t, Options{AckTimeout: 10 * time.Second}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		// As above, but the RESET, the ACK and the reply arrive together,
		// possibly before the request goroutine looks at any of them.
		ch := goRequest(e, NewManipulate(APIGetContext, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetContext)
		burst := AppendControl(nil, PacketTypeReset, 0)
		burst = AppendControl(burst, PacketTypeAcknowledge, InitialPacketID)
		rep := NewManipulate(APIGetContext, 0, nil, []byte{1, 2, 3})
		burst = AppendData(burst, PacketTypeStateManipulate, InitialPacketID, rep.Append(nil))
		ft.send(burst)
		synctest.Wait()
		select {
		case r := <-ch:
			if r.err != nil || len(r.m.Data) != 3 {
				t.Fatalf("GetContext = %v, %v; want the reply", r.m, r.err)
			}
		default:
			// The request was sent again first: the target ACKs the
			// duplicate, and the reply already in hand completes it.
			ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
			if r := wantResult(t, ch); r.err != nil || len(r.m.Data) != 3 {
				t.Fatalf("GetContext = %v, %v; want the reply", r.m, r.err)
			}
		}
	})
}
