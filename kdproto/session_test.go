package kdproto

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

var updateSessions = flag.Bool("update", false, "rewrite the host (->) lines of testdata/sessions from what the engine sends")

// Session transcripts (testdata/sessions/*.txt) are conversations between
// the engine and a target, one packet per line:
//
//	<- HEX   the target sends these bytes
//	-> HEX   the engine must write exactly these bytes next
//	! CMD    the host does something (in the background): request API,
//	         read ADDR N, go, step, breakin, resync, answer TEXT;
//	         "! wait" waits for every background command to succeed,
//	         "! sleep D" advances the fake clock, "! event KIND" expects an event,
//	         "! idle" expects the engine to have written nothing more.
//
// Blank lines and text after '#' are ignored. With -update, the -> lines
// are rewritten from the engine's actual output (review the diff).
func TestSessionTranscripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/sessions/*.txt")
	if len(files) == 0 {
		t.Fatal("no session transcripts in testdata/sessions")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { replaySession(t, file) })
	}
}

func replaySession(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer // rewritten transcript for -update
	synctest.Test(t, func(t *testing.T) {
		host, target := net.Pipe()
		ft := newFakeTarget(t, target)
		e := NewEngine(host, Options{AckTimeout: time.Second, ReplyTimeout: 5 * time.Second, Retries: 3})
		defer target.Close()
		defer e.Close()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs []error
		run := func(name string, f func() error) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := f(); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("%s: %w", name, err))
					mu.Unlock()
				}
			}()
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			body, _, _ := strings.Cut(line, "#")
			body = strings.TrimSpace(body)
			switch {
			case body == "":
			case strings.HasPrefix(body, "<-"):
				ft.send(mustHex(t, n, body[2:]))
			case strings.HasPrefix(body, "->"):
				w := ft.next()
				want := mustHex(t, n, body[2:])
				if *updateSessions {
					_, comment, _ := strings.Cut(line, "#")
					line = "-> " + spacedHex(w.raw)
					if comment != "" {
						line += "  #" + comment
					}
				} else if !bytes.Equal(w.raw, want) {
					t.Fatalf("%s:%d: engine wrote %s\n(%v)\nwant %s", file, n, spacedHex(w.raw), w, spacedHex(want))
				}
			case strings.HasPrefix(body, "!"):
				sessionCommand(t, file, n, strings.Fields(body[1:]), e, ft, run, &wg, &mu, &errs)
			default:
				t.Fatalf("%s:%d: cannot parse %q", file, n, line)
			}
			out.WriteString(line + "\n")
		}
		ft.wantIdle()
		wg.Wait()
		for _, err := range errs {
			t.Errorf("%s: %v", file, err)
		}
	})
	if *updateSessions && !t.Failed() {
		if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func sessionCommand(t *testing.T, file string, n int, f []string, e *Engine, ft *fakeTarget,
	run func(string, func() error), wg *sync.WaitGroup, mu *sync.Mutex, errs *[]error) {
	t.Helper()
	ctx := context.Background()
	if len(f) == 0 {
		t.Fatalf("%s:%d: empty command", file, n)
	}
	arg := func(i int) uint64 {
		if i >= len(f) {
			t.Fatalf("%s:%d: %s needs more arguments", file, n, f[0])
		}
		v, err := strconv.ParseUint(f[i], 0, 64)
		if err != nil {
			t.Fatalf("%s:%d: %v", file, n, err)
		}
		return v
	}
	switch f[0] {
	case "request":
		api, ok := apiByName(f[1])
		if !ok {
			t.Fatalf("%s:%d: unknown API %q", file, n, f[1])
		}
		run(f[1], func() error { _, err := e.Request(ctx, NewManipulate(api, 0, nil, nil)); return err })
	case "read":
		addr, size := arg(1), arg(2)
		run("read", func() error { _, err := e.ReadVirtual(ctx, 0, addr, int(size)); return err })
	case "go":
		run("go", func() error { return e.Go(ctx) })
	case "step":
		run("step", func() error { return e.Step(ctx) })
	case "breakin":
		if err := e.BreakIn(); err != nil {
			t.Fatal(err)
		}
	case "resync":
		run("resync", func() error { _, err := e.Resync(ctx, ResyncOptions{Interval: time.Second}); return err })
	case "answer":
		text := strings.Join(f[1:], " ")
		run("answer", func() error { return e.AnswerPrompt(ctx, []byte(text)) })
	case "wait":
		synctest.Wait()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, err := range *errs {
			t.Fatalf("%s:%d: %v", file, n, err)
		}
	case "sleep":
		d, err := time.ParseDuration(f[1])
		if err != nil {
			t.Fatalf("%s:%d: %v", file, n, err)
		}
		time.Sleep(d)
	case "event":
		ev := nextEvent(t, e)
		if ev.Kind.String() != f[1] {
			t.Fatalf("%s:%d: event %v; want %s", file, n, ev, f[1])
		}
		if len(f) > 2 && f[2] == "repeat" && !ev.Repeat {
			t.Fatalf("%s:%d: event %v is not a repeat", file, n, ev)
		}
	case "idle":
		ft.wantIdle()
	default:
		t.Fatalf("%s:%d: unknown command %q", file, n, f[0])
	}
}

func apiByName(name string) (API, bool) {
	for a, n := range apiNames {
		if n == name {
			return a, true
		}
	}
	return 0, false
}

func mustHex(t *testing.T, n int, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("line %d: %v", n, err)
	}
	return b
}

// spacedHex formats b as space-separated 16-byte hex groups of 4 bytes.
func spacedHex(b []byte) string {
	var sb strings.Builder
	for i := 0; i < len(b); i += 4 {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(hex.EncodeToString(b[i:min(i+4, len(b))]))
	}
	return sb.String()
}
