package kdproto

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
)

// A request with a cancelled context fails at once and sends nothing,
// even when the request slot is free (a select would pick either).
func TestCancelledRequestSendsNothing(t *testing.T) {
	host, target := net.Pipe()
	wrote := make(chan int64, 1)
	go func() {
		n, _ := io.Copy(io.Discard, target)
		wrote <- n
	}()
	e := NewEngine(host, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 200 {
		if _, err := e.GetVersion(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("GetVersion with a cancelled context = %v", err)
		}
	}
	_ = e.Close()
	_ = target.Close()
	<-e.Done()
	if n := <-wrote; n != 0 {
		t.Fatalf("cancelled requests wrote %d bytes", n)
	}
}
