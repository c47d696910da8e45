package sim

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// DbgPrint and DbgPrompt traffic (spec §5.4, §1.8, README field notes).

// eventLog collects events for assertions.
type eventLog struct {
	mu sync.Mutex
	ev []Event
}

func (l *eventLog) add(e Event) { l.mu.Lock(); l.ev = append(l.ev, e); l.mu.Unlock() }

func (l *eventLog) count(kind, status string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.ev {
		if e.Kind == kind && (status == "" || e.Status == status || strings.HasPrefix(e.Detail, status)) {
			n++
		}
	}
	return n
}

func printText(t *testing.T, pk rawPkt) string {
	t.Helper()
	if pk.u32(0) != 0x3230 {
		t.Fatalf("DEBUG_IO api %#x; want PrintString", pk.u32(0))
	}
	n := pk.u32(8)
	if int(n) != len(pk.payload)-0x10 {
		t.Fatalf("LengthOfString %d; data %d bytes", n, len(pk.payload)-0x10)
	}
	return string(pk.payload[0x10:])
}

func TestDbgPrintNumberedAndAcked(t *testing.T) {
	simTest(t, Config{PrintEvery: 100 * time.Millisecond}, func(t *testing.T, r *rig) {
		p := r.p
		for i, id := range []uint32{idInitial | idSync, idInitial | 1, idInitial} {
			pk := p.expect(tDebugIO, id)
			if got, want := printText(t, pk), fmt.Sprintf("simdrv: timer tick %d\n", i+1); got != want {
				t.Errorf("print %d = %q; want %q", i, got, want)
			}
			p.ack(pk.id)
		}
	})
}

func TestDbgPrintAbandonedAfterRetries(t *testing.T) {
	var log eventLog
	simTest(t, Config{PrintEvery: 100 * time.Millisecond, Events: log.add}, func(t *testing.T, r *rig) {
		p := r.p
		for i := 0; i < DefaultRetries; i++ {
			p.expect(tDebugIO, idInitial|idSync) // never acknowledged
		}
		p.quiet(5 * time.Second) // given up, and silent from now on
		if n := log.count(EventPrint, "abandoned"); n != 1 {
			t.Errorf("%d abandoned prints; want 1", n)
		}
		if log.count(EventPrint, "skipped") == 0 {
			t.Errorf("no skipped prints while the host was absent")
		}
		// A break-in brings the host back: ids start over at 0x80800800.
		p.write([]byte{0x62})
		p.stateChange(idInitial | idSync)
		p.send(apiContinue, 0, union(uint32(0x10001)), nil)
		pk := p.expect(tDebugIO, idInitial|1)
		if txt := printText(t, pk); !strings.HasPrefix(txt, "simdrv: timer tick ") || txt == "simdrv: timer tick 2\n" {
			t.Errorf("print after return %q; want a later number", txt)
		}
		p.ack(pk.id)
	})
}

func TestResetDuringDbgPrint(t *testing.T) {
	simTest(t, Config{PrintEvery: 100 * time.Millisecond}, func(t *testing.T, r *rig) {
		p := r.p
		first := p.expect(tDebugIO, idInitial|idSync)
		p.write(controlPkt(tReset, 0)) // heard: the target is waiting for an ACK
		p.expect(tReset, 0)
		again := p.expect(tDebugIO, idInitial)
		if !bytes.Equal(first.payload, again.payload) {
			t.Errorf("re-sent print differs")
		}
		p.ack(again.id)
		if next := p.expect(tDebugIO, idInitial|1); printText(t, next) != "simdrv: timer tick 2\n" {
			t.Errorf("next print %q", next.payload[0x10:])
		}
	})
}

func TestBreakInDuringDbgPrintAckWait(t *testing.T) {
	simTest(t, Config{PrintEvery: 100 * time.Millisecond}, func(t *testing.T, r *rig) {
		p := r.p
		p.expect(tDebugIO, idInitial|idSync)
		p.write([]byte{0x62}) // 0x62 then silence: re-send, and a break-in is pending
		pk := p.expect(tDebugIO, idInitial|idSync)
		p.ack(pk.id)
		sc := p.stateChange(idInitial | 1)
		if sc.u32(0x20) != 0x80000003 {
			t.Errorf("code %#x", sc.u32(0x20))
		}
	})
}

func TestDbgPromptOnAssertion(t *testing.T) {
	for _, tc := range []struct {
		answer string
		breaks bool
	}{{"b", true}, {"i", false}} {
		t.Run(tc.answer, func(t *testing.T) {
			var log eventLog
			stoppedTest(t, Config{Events: log.add}, func(t *testing.T, r *rig) {
				p := r.p
				p.request(apiWriteVirtual, 0, union(r.m.Symbol("simdrv!SimDrvAssertRequest"), uint32(4)), []byte{1, 0, 0, 0})
				p.send(apiContinue, 0, union(uint32(0x10001)), nil)
				pr := p.expect(tDebugIO, anyID)
				p.ack(pr.id)
				if !strings.Contains(printText(t, pr), "Assertion failed") {
					t.Errorf("assertion text %q", pr.payload[0x10:])
				}
				q := p.expect(tDebugIO, anyID)
				p.ack(q.id)
				if q.u32(0) != 0x3231 || q.u32(0xC) != maxPrompt || !strings.HasSuffix(string(q.payload[0x10:]), "(boipt)? ") {
					t.Fatalf("prompt api %#x max %d text %q", q.u32(0), q.u32(0xC), q.payload[0x10:])
				}
				ans := make([]byte, 0x10, 0x11)
				le32.PutUint32(ans, 0x3231)
				p.write(frame(dataLeader, tDebugIO, p.id, append(ans, tc.answer...)))
				p.expect(tAck, p.id)
				p.id ^= 1
				if !tc.breaks {
					p.quiet(time.Second)
					p.breakIn()
					return
				}
				sc := p.stateChange(anyID)
				if sc.u64(0x18) != r.m.Symbol("nt!DbgBreakPoint") {
					t.Errorf("assertion stop pc %#x; want nt!DbgBreakPoint", sc.u64(0x18))
				}
				if log.count(EventPrompt, tc.answer) != 1 {
					t.Errorf("no prompt event for %q", tc.answer)
				}
			})
		})
	}
}
