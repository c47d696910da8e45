package sim

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gokd/kd/kdproto"
)

// The simulator against kd's own host engine (kdproto.Engine).

func waitEvent(t *testing.T, e *kdproto.Engine, kind kdproto.EventKind) kdproto.Event {
	t.Helper()
	for {
		select {
		case ev, ok := <-e.Events():
			if !ok {
				t.Fatalf("engine closed: %v", e.Err())
			}
			if ev.Kind == kind {
				return ev
			}
			if ev.Kind == kdproto.EventLinkError {
				t.Fatalf("link error: %v", ev.Err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no %v event", kind)
		}
	}
}

func TestEngineSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New(Config{PrintEvery: 500 * time.Millisecond})
		a, b := net.Pipe()
		done := make(chan error, 1)
		go func() { done <- m.Serve(context.Background(), a) }()
		e := kdproto.NewEngine(b, kdproto.Options{})
		ctx := context.Background()

		if ev := waitEvent(t, e, kdproto.EventPrint); string(ev.Text) != "simdrv: timer tick 1\n" {
			t.Errorf("print %q", ev.Text)
		}
		if err := e.BreakIn(); err != nil {
			t.Fatal(err)
		}
		sc := waitEvent(t, e, kdproto.EventStateChange).State
		if sc.PC != m.Symbol("nt!DbgBreakPointWithStatus") || sc.Exception.Code != kdproto.StatusBreakpoint {
			t.Fatalf("break-in stop %v", sc)
		}
		v, err := e.GetVersion(ctx)
		if err != nil || v.KernBase != m.KernBase() || v.MachineType != kdproto.MachineAMD64 {
			t.Fatalf("GetVersion %+v, %v", v, err)
		}
		if mz, err := e.ReadVirtual(ctx, 0, m.KernBase(), 2); err != nil || string(mz) != "MZ" {
			t.Fatalf("ReadVirtual % x, %v", mz, err)
		}
		bp := m.Symbol("simdrv!SimDrvTimerRoutine_inc")
		h, err := e.WriteBreakPoint(ctx, 0, bp)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Go(ctx); err != nil {
			t.Fatal(err)
		}
		if sc := waitEvent(t, e, kdproto.EventStateChange).State; sc.PC != bp {
			t.Fatalf("stop at %#x; want the breakpoint %#x", sc.PC, bp)
		}
		if err := e.RestoreBreakPoint(ctx, 0, h); err != nil {
			t.Fatal(err)
		}
		if err := e.Step(ctx); err != nil {
			t.Fatal(err)
		}
		if sc := waitEvent(t, e, kdproto.EventStateChange).State; sc.Exception.Code != kdproto.StatusSingleStep || sc.PC != bp+6 {
			t.Fatalf("step: %v; want single step at %#x", sc, bp+6)
		}
		if _, err := e.Resync(ctx, kdproto.ResyncOptions{}); err != nil {
			t.Fatal(err)
		}
		waitEvent(t, e, kdproto.EventStateChange)
		if _, err := e.GetVersion(ctx); err != nil {
			t.Fatalf("GetVersion after resync: %v", err)
		}
		if err := e.Go(ctx); err != nil {
			t.Fatal(err)
		}
		e.Close()
		<-done
	})
}

func TestEngineOverUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "kd.sock")
	ln, err := Listen("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	m := New(Config{Stopped: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, m, ln) }()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	e := kdproto.NewEngine(c, kdproto.Options{})
	waitEvent(t, e, kdproto.EventStateChange)
	if v, err := e.GetVersion(ctx); err != nil || v.MinorVersion != DefaultBuild {
		t.Fatalf("GetVersion %+v, %v", v, err)
	}
	if err := e.Reboot(ctx); err != nil {
		t.Fatal(err)
	}
	e.Close()
	cancel()
	<-done
}
