package console

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/transport"
)

// waitLimit bounds every wait of the tests; it is a safety net against a
// hung test, not a synchronisation (waits return as soon as the text is
// there).
const waitLimit = 20 * time.Second

// screen is a goroutine-safe buffer that wakes waiters on every write.
type screen struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	wake chan struct{}
}

func newScreen() *screen { return &screen{wake: make(chan struct{})} }

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	close(s.wake)
	s.wake = make(chan struct{})
	return len(p), nil
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitFor waits until the text holds want n times and returns the text.
func (s *screen) waitFor(t testing.TB, want string, n int) string {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		text := s.buf.String()
		wake := s.wake
		s.mu.Unlock()
		if strings.Count(text, want) >= n {
			return text
		}
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %d× %q; screen:\n%s", n, want, text)
			return ""
		}
	}
}

// session is a console running against the embedded simulator.
type testSession struct {
	t      testing.TB
	out    *screen
	errs   *screen
	in     *io.PipeWriter
	c      *Console
	status chan int
	events *eventLog
}

// eventLog records the simulator's events and wakes waiters.
type eventLog struct {
	mu     sync.Mutex
	events []sim.Event
	wake   chan struct{}
}

func (l *eventLog) add(e sim.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	if l.wake != nil {
		close(l.wake)
		l.wake = nil
	}
	l.mu.Unlock()
}

// waitFor waits until the simulator reported n events of kind.
func (l *eventLog) waitFor(t testing.TB, kind string, n int) {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		got := 0
		for _, e := range l.events {
			if e.Kind == kind {
				got++
			}
		}
		if got >= n {
			l.mu.Unlock()
			return
		}
		if l.wake == nil {
			l.wake = make(chan struct{})
		}
		wake := l.wake
		l.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %d simulator events %q", n, kind)
		}
	}
}

func (l *eventLog) count(kind string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// testConfig is a console configuration plus the embedded simulator's.
type testConfig struct {
	Config
	Sim sim.Config
	// NoSimSymbols leaves out the simulator's symbol table (names come
	// from the target or its PDBs only).
	NoSimSymbols bool
}

type option func(*testConfig)

// startScript runs a console on the simulator with scripted stdin.
func startScript(t testing.TB, opts ...option) *testSession {
	t.Helper()
	pr, pw := io.Pipe()
	return start(t, NewScriptInput(pr), pw, opts...)
}

func start(t testing.TB, in Input, pw *io.PipeWriter, opts ...option) *testSession {
	t.Helper()
	ts := &testSession{t: t, out: newScreen(), errs: newScreen(), in: pw, status: make(chan int, 1), events: &eventLog{}}
	cfg := testConfig{Config: Config{
		Spec:      transport.Spec{Kind: transport.KindSim, Resets: -1},
		Stdout:    ts.out,
		Stderr:    ts.errs,
		Input:     in,
		NoSignals: true,
		Now:       func() time.Time { return time.Date(2026, 11, 27, 3, 32, 18, 123e6, time.UTC) },
		Engine:    kdproto.Options{AckTimeout: 500 * time.Millisecond, ReplyTimeout: time.Second},
	}, Sim: sim.Config{Stopped: true, Seed: 1}}
	cfg.Sim.Events = ts.events.add
	trace := newScreen()
	cfg.Trace = trace
	for _, o := range opts {
		o(&cfg)
	}
	d := sim.NewDialer(cfg.Sim)
	cfg.Dial = d.Dial
	if !cfg.NoSimSymbols {
		cfg.Symbols = d.Machine().Symbols()
	}
	ts.c = New(cfg.Config)
	go func() { ts.status <- ts.c.Run(context.Background()) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("packet trace:\n%s", trace)
		}
		_ = pw.Close()
		ts.c.detach()
		select {
		case <-ts.status:
		case <-time.After(waitLimit):
			t.Errorf("the console did not stop")
		}
		d.Wait()
	})
	return ts
}

// send writes script lines.
func (ts *testSession) send(lines string) {
	ts.t.Helper()
	if _, err := io.WriteString(ts.in, lines); err != nil {
		ts.t.Fatalf("writing input: %v", err)
	}
}

// wait waits for the console to exit and returns its status.
func (ts *testSession) wait() int {
	ts.t.Helper()
	select {
	case st := <-ts.status:
		ts.status <- st
		return st
	case <-time.After(waitLimit):
		ts.t.Fatalf("the console did not exit; screen:\n%s\nstderr:\n%s", ts.out, ts.errs)
		return -1
	}
}
