package sim

import (
	"bytes"
	"context"
	"net"
	"testing"
	"testing/synctest"

	"github.com/gokd/kd/kdproto"
)

func TestModuleLoadsAndInspection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New(Config{ModuleLoads: true})
		if _, _, ok := m.Stop(); ok {
			t.Fatal("a running machine reports a stop")
		}
		a, b := net.Pipe()
		done := make(chan error, 1)
		go func() { done <- m.Serve(context.Background(), a) }()
		e := kdproto.NewEngine(b, kdproto.Options{})
		ctx := context.Background()

		// The first tick after boot reports simdrv.sys, once.
		sc := waitEvent(t, e, kdproto.EventStateChange).State
		base := m.Symbol("simdrv!__ImageBase")
		if sc.NewState != kdproto.StateLoadSymbols || string(sc.ImagePath()) != `\SystemRoot\System32\drivers\simdrv.sys` ||
			sc.LoadSymbols.BaseOfDll != base || sc.LoadSymbols.SizeOfImage != 0x4000 || sc.LoadSymbols.Unload {
			t.Fatalf("first state change %v, path %q, %+v", sc, sc.ImagePath(), sc.LoadSymbols)
		}
		if cpu, pc, ok := m.Stop(); !ok || cpu != 0 || pc != sc.PC {
			t.Fatalf("Stop() = %d, %#x, %v; want 0, %#x", cpu, pc, ok, sc.PC)
		}
		if _, err := e.WriteVirtual(ctx, 0, base+0x3100, []byte{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		if data, ok := m.PeekVirtual(base+0x3FFE, 4); !bytes.Equal(data, []byte{0, 0, 0, 0}) || !ok[0] || !ok[1] || ok[2] || ok[3] {
			t.Fatalf("PeekVirtual over the end of simdrv = % x, %v", data, ok)
		}
		if data, _ := m.PeekVirtual(base+0x3100, 3); !bytes.Equal(data, []byte{1, 2, 3}) {
			t.Fatalf("PeekVirtual after a write = % x", data)
		}
		raw, err := e.GetContext(ctx, 1)
		if err != nil || !bytes.Equal(raw, m.Context(1)) || m.Context(2) != nil || m.Processors() != 2 {
			t.Fatalf("Context(1) differs from GetContext (%v), or Context(2) exists", err)
		}
		if err := e.Go(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.BreakIn(); err != nil {
			t.Fatal(err)
		}
		if sc := waitEvent(t, e, kdproto.EventStateChange).State; sc.NewState != kdproto.StateException {
			t.Fatalf("after the load, the next stop is %v; want the break-in", sc)
		}
		e.Close()
		<-done
	})
}
