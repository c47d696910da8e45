package kdproto

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"testing/synctest"
)

// serveReads answers ReadVirtualMemory requests from mem until want requests were seen.
func serveRead(t *testing.T, ft *fakeTarget, id uint32, mem map[uint64]byte) Manipulate {
	t.Helper()
	m, _ := ft.wantManipulate(id, APIReadVirtualMemory)
	ft.sendControl(PacketTypeAcknowledge, id)
	req := m.Memory()
	var data []byte
	for i := uint64(0); i < uint64(req.TransferCount); i++ {
		b, ok := mem[req.Address+i]
		if !ok {
			break
		}
		data = append(data, b)
	}
	st := StatusSuccess
	if len(data) < int(req.TransferCount) {
		st = StatusUnsuccessful
	}
	rep := NewManipulate(APIReadVirtualMemory, 0, Memory{Address: req.Address, TransferCount: req.TransferCount, ActualBytes: uint32(len(data))}, data)
	rep.ReturnStatus = st
	ft.reply(id, rep)
	ft.wantControl(PacketTypeAcknowledge, id)
	return m
}

func TestReadVirtualChunksAndStopsAtHole(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		mem := map[uint64]byte{}
		for i := uint64(0); i < 5000; i++ {
			mem[0x10000+i] = byte(i)
		}
		type res struct {
			b   []byte
			err error
		}
		ch := make(chan res, 1)
		go func() {
			b, err := e.ReadVirtual(context.Background(), 0, 0x10000, 6000)
			ch <- res{b, err}
		}()
		m := serveRead(t, ft, InitialPacketID, mem)
		if m.Memory().TransferCount != MaxTransfer {
			t.Fatalf("first chunk = %d bytes; want %d", m.Memory().TransferCount, MaxTransfer)
		}
		m = serveRead(t, ft, InitialPacketID|1, mem)
		if m.Memory().Address != 0x10000+MaxTransfer || m.Memory().TransferCount != 6000-MaxTransfer {
			t.Fatalf("second chunk = %+v", m.Memory())
		}
		synctest.Wait()
		r := <-ch
		var me *MemoryError
		var st Status
		if !errors.As(r.err, &me) || me.Done != 5000 || !errors.As(r.err, &st) || st != StatusUnsuccessful {
			t.Fatalf("err = %v; want MemoryError after 5000 bytes with STATUS_UNSUCCESSFUL", r.err)
		}
		want := make([]byte, 5000)
		for i := range want {
			want[i] = byte(i)
		}
		if !bytes.Equal(r.b, want) {
			t.Fatalf("read %d bytes; want the 5000 readable ones", len(r.b))
		}
	})
}

func TestTypedCallsReturnStatusErrors(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ch := make(chan error, 1)
		go func() { _, err := e.ReadMSR(context.Background(), 0, 0x1234); ch <- err }()
		m, _ := ft.wantManipulate(InitialPacketID, APIReadMachineSpecificRegister)
		if m.MSR().MSR != 0x1234 {
			t.Fatalf("msr = %#x", m.MSR().MSR)
		}
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		rep := m
		rep.ReturnStatus = StatusNoSuchDevice
		ft.reply(InitialPacketID, rep)
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		synctest.Wait()
		err := <-ch
		var st Status
		if !errors.As(err, &st) || st != StatusNoSuchDevice {
			t.Fatalf("err = %v; want STATUS_NO_SUCH_DEVICE", err)
		}
	})
}

func TestGoAndStepEncodeContinue2(t *testing.T) {
	for _, tc := range []struct {
		name  string
		call  func(*Engine) error
		trace uint32
		sum   uint32
	}{
		{"go", func(e *Engine) error { return e.Go(context.Background()) }, 0, 0x70 + 1},
		{"step", func(e *Engine) error { return e.Step(context.Background()) }, 1, 0x71 + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
				ch := make(chan error, 1)
				go func() { ch <- tc.call(e) }()
				m, w := ft.wantManipulate(InitialPacketID, APIContinue2)
				c := m.Continue2()
				// Spec §9.5 checksums plus 1 for CurrentSymbolStart = 1 ("unchanged").
				if c.TraceFlag != tc.trace || c.Status != DbgContinue || w.pkt.Checksum != tc.sum {
					t.Fatalf("continue2 = %+v sum %#x; want trace %d sum %#x", c, w.pkt.Checksum, tc.trace, tc.sum)
				}
				ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
				synctest.Wait()
				if err := <-ch; err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}
