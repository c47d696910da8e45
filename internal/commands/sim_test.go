package commands_test

import (
	"sync"
	"testing"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target/targettest"
)

// host is the console's side of the commands: it records what the
// commands asked of it.
type host struct {
	mu       sync.Mutex
	log      string // the open log file
	appended bool
	quit     bool
	progress int64 // bytes reported by transfers
	done     int   // transfers finished
}

func (h *host) OpenLog(path string, appending bool) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	closed := h.log
	h.log, h.appended = path, appending
	return closed, nil
}

func (h *host) CloseLog() (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.log
	h.log = ""
	return p, nil
}

func (h *host) LogPath() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.log
}

func (h *host) Quit()             { h.quit = true }
func (h *host) KdVersion() string { return "kd test version" }

func (h *host) Progress(int64, string) commands.Progress { return progress{h} }

type progress struct{ h *host }

func (p progress) Add(n int) { p.h.mu.Lock(); p.h.progress += int64(n); p.h.mu.Unlock() }
func (p progress) Done()     { p.h.mu.Lock(); p.h.done++; p.h.mu.Unlock() }

// session is a command environment on a target stopped at kdsim's
// initial breakpoint.
type session struct {
	*targettest.Rig
	env  *commands.Env
	host *host
}

func newSession(t *testing.T, o targettest.Options) *session {
	t.Helper()
	r, _ := targettest.Stopped(t, o)
	h := &host{}
	return &session{Rig: r, env: commands.NewEnv(r.Target, h, commands.Default()), host: h}
}

// run runs one command line, failing the test on an error.
func (s *session) run(line string) commands.Result {
	s.T.Helper()
	res, _, err := s.env.Run(s.Ctx, line)
	if err != nil {
		s.T.Fatalf("%s: %v", line, err)
	}
	return res
}

// fail runs one command line that must fail, and returns the error.
func (s *session) fail(line string) error {
	s.T.Helper()
	res, _, err := s.env.Run(s.Ctx, line)
	if err == nil {
		s.T.Fatalf("%s succeeded with %#v; want an error", line, res)
	}
	return err
}

// as returns res as an R, failing the test when it is something else.
func as[R commands.Result](t testing.TB, line string, res commands.Result) R {
	t.Helper()
	v, ok := res.(R)
	if !ok {
		var want R
		t.Fatalf("%s returned %T, want %T", line, res, want)
	}
	return v
}
