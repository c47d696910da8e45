package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/transport"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// screen records what the text renderer prints, marking each stream.
type screen struct{ b strings.Builder }

func (s *screen) Printf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	s.b.WriteString(line)
}
func (s *screen) Target(b []byte) { s.b.WriteString("[target]" + string(b)) }
func (s *screen) FlushTarget()    { s.b.WriteString("[flush]\n") }
func (s *screen) Errorf(msg string, hints ...string) {
	s.b.WriteString("kd: error: " + msg + "\n")
	s.Hint(hints...)
}
func (s *screen) Hint(hints ...string) {
	for _, h := range hints {
		s.b.WriteString("kd: hint: " + h + "\n")
	}
}
func (s *screen) Warnf(format string, args ...any) {
	s.b.WriteString("kd: warning: " + fmt.Sprintf(format, args...) + "\n")
}

var when = time.Date(2026, 11, 27, 3, 32, 18, 123e6, time.UTC)

func sampleRegs() target.Registers {
	cx := kdproto.NewAMD64Context()
	for n, v := range map[string]uint64{"rax": 1, "rip": 0xfffff80036a01030, "rsp": 0xfffff8003aa0ff68, "cs": 0x10, "ss": 0x18, "efl": 0x246} {
		cx.Set(n, v)
	}
	return target.Registers{Context: cx}
}

var loc = target.Location{Symbol: "nt!DbgBreakPointWithStatus", Inst: target.Instruction{Addr: 0xfffff80036a01030, Bytes: []byte{0xcc}, Text: "int     3", Len: 1, Valid: true}}

func sampleInfo() target.Info {
	return target.Info{Version: kdproto.Version{MajorVersion: 0xf, MinorVersion: 19041, ProtocolVersion: 6, Flags: kdproto.VersionFlagMP | kdproto.VersionFlagPtr64,
		MachineType: 0x8664, KernBase: 0xfffff80036a00000, PsLoadedModuleList: 0xfffff80036a04000}, NProcs: 2, Time: when}
}

// sampleEvents is one of every event.
func sampleEvents() []target.Event {
	regs := sampleRegs()
	return []target.Event{
		target.TransportEvent{Event: transport.Event{Kind: transport.EventOpened, Name: "/tmp/kd.sock"}},
		target.TransportEvent{Event: transport.Event{Kind: transport.EventReconnecting, Name: "/tmp/kd.sock", Err: errors.New("EOF")}},
		target.Opened{Name: "sim"},
		target.Waiting{},
		target.ResetAnswered{Elapsed: 3 * time.Millisecond, Resets: 1},
		target.ResetUnanswered{Resets: 10},
		target.Established{InitialBreak: true},
		target.Connected{Info: sampleInfo(), Announce: true},
		target.Stopped{CPU: 0, NProcs: 2, PC: loc.Inst.Addr, Kind: target.StopException, Code: kdproto.StatusBreakpoint, FirstChance: true, Breakpoint: -1, BreakIn: true, Location: loc},
		target.Stopped{CPU: 1, NProcs: 2, PC: loc.Inst.Addr, Kind: target.StopException, Code: kdproto.StatusBreakpoint, FirstChance: true, Breakpoint: 3, Location: loc},
		target.Stopped{CPU: 0, NProcs: 2, PC: loc.Inst.Addr, Kind: target.StopException, Code: kdproto.StatusSingleStep, FirstChance: true, Breakpoint: -1, Step: true, Regs: &regs, Location: loc},
		target.Stopped{CPU: 0, NProcs: 2, PC: loc.Inst.Addr, Kind: target.StopException, Code: kdproto.StatusAccessViolation, Breakpoint: -1, Location: loc},
		target.Stopped{CPU: 0, NProcs: 2, PC: loc.Inst.Addr, Kind: target.StopModuleLoad, Breakpoint: -1, Load: &target.ModuleLoad{Path: `\SystemRoot\system32\drivers\simdrv.sys`, Base: 0xfffff80037000000}, Location: loc},
		target.Stopped{CPU: 1, NProcs: 2, Kind: target.StopSwitch, Breakpoint: -1},
		target.Running{},
		target.Print{Text: []byte("simdrv: tick 1\n")},
		target.Prompt{Text: []byte("question?\nanswer> "), MaxReply: 16},
		target.ResyncStarted{},
		target.ResyncDone{Elapsed: 12 * time.Millisecond, Resets: 2, Stopped: true},
		target.ResyncDone{Resets: 10, Err: kdproto.ErrResyncFailed, Stopped: false},
		target.Where{Location: loc},
		target.ModuleLoad{Path: `\SystemRoot\system32\drivers\x.sys`, Base: 0xfffff80037100000},
		target.Rebooting{Time: when},
		target.Restarting{},
		target.TargetReset{},
		target.Warning{Text: `odd \x1b packet`},
		target.Failure{What: "GetVersion", Err: kdproto.ErrNoReply, Hints: []string{"press CTRL+R then ENTER"}},
		target.LinkLost{Err: &kdproto.LinkError{Err: errors.New("EOF")}},
	}
}

// sampleResults is one of every result.
func sampleResults() []commands.Result {
	info := sampleInfo()
	return append([]commands.Result{
		commands.RegisterDisplay{Regs: sampleRegs(), Location: loc},
		commands.RegisterValues{Values: []commands.RegValue{{Name: "rip", Value: 0xfffff80036a01030, Bits: 64}, {Name: "cs", Value: 0x10, Bits: 16}}},
		commands.MemoryDump{Form: "db", Size: 1, PerLine: 16, Addr: 0xfffff8003aa0ff68, Data: []byte("0123456789abcdefXY"), OK: []bool{true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, false}},
		commands.MemoryDump{Form: "dq", Size: 8, PerLine: 2, Addr: 0x1000, Data: make([]byte, 16), OK: make([]bool, 16)},
		commands.Disassembly{Lines: []target.Location{loc, {Inst: target.Instruction{Addr: 0xfffff80036a01031, Bytes: []byte{0xc3}, Text: "ret", Len: 1, Valid: true}}}},
		commands.BreakpointList{Breakpoints: []commands.BreakpointInfo{{Breakpoint: target.Breakpoint{ID: 0, Addr: 0xfffff80036a01030, Enabled: true, Hits: 2, Passes: 1, InitialPasses: 1}, Symbol: "nt!DbgBreakPointWithStatus"}}},
		commands.BreakpointRedefined{ID: 0},
		commands.BreakpointSet{ID: 1, Addr: 0x1000},
		commands.Evaluation{Value: 0xfffffffffffffff5},
		commands.TargetInfo{Info: info},
		commands.VersionInfo{Target: &info, Kd: "v0.test"},
		commands.Help{Text: "help text\n"},
		commands.Echo{Text: "marker"},
		commands.LogOpened{Path: "/tmp/new.log", Closed: "/tmp/old.log"},
		commands.LogClosed{Path: ""},
		commands.LogClosed{Path: "/tmp/new.log"},
		commands.Quit{},
		commands.FileTransfer{Op: ".writemem", File: "/tmp/m.bin", Addr: 0x1000, Bytes: 0x2000, Total: 0x2000, Elapsed: 15 * time.Millisecond},
		commands.FileTransfer{Op: ".readmem", File: "/tmp/m.bin", Addr: 0x1000, Bytes: 0x10, Total: 0x10},
	}, sampleCPUResults()...)
}

func sampleErrors() map[string]error {
	return map[string]error{
		"bogus":  fmt.Errorf("%w %q", commands.ErrUnknownCommand, "bogus"),
		"db (":   &commands.SyntaxError{Line: "db (", Msg: "missing )"},
		"r foo":  &commands.SyntaxError{Line: "r foo", Kind: "Bad register", Msg: `"foo" is not a register`},
		"bc 9":   &target.NoBreakpointError{ID: 9},
		"dd 0":   kdproto.ErrNoReply,
		"r":      target.ErrNotStopped,
		".logo":  &commands.Error{Msg: "cannot open log file", Hints: []string{"check the path"}},
		"g":      kdproto.ErrTargetRunning,
		"u":      errors.New("kdproto: something else"),
		"db 1 2": kdproto.ErrResyncInterrupted,
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/render -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the renderer's output (go test ./internal/render -update rewrites it):\n%s", path, got)
	}
}

// TestTextGolden renders every event, result and error kind in KD's text
// and compares with a golden transcript.
func TestTextGolden(t *testing.T) {
	var s screen
	verbose := true
	r := &Text{Out: &s, Verbose: func() bool { return verbose }, SymbolPath: "srv*c:\\symbols", Interactive: true, Runtime: "go test"}
	for _, ev := range sampleEvents() {
		fmt.Fprintf(&s.b, "== event %s\n", ev.EventName())
		r.Event(ev)
	}
	for _, res := range sampleResults() {
		fmt.Fprintf(&s.b, "== result %s\n", res.ResultName())
		r.Result(res)
	}
	errs := sampleErrors()
	for _, line := range sortedKeys(errs) {
		fmt.Fprintf(&s.b, "== error %s\n", line)
		r.Error(line, errs[line])
	}
	r.Quiet, r.Interactive, verbose = true, false, false
	s.b.WriteString("== quiet, scripted, not verbose\n")
	for _, ev := range sampleEvents() {
		r.Event(ev)
	}
	golden(t, "text.golden", s.b.String())
}

// TestJSONGolden renders the same in JSON: every line is one object with
// v=1 and a type, and the stream matches its golden file.
func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	j := NewJSON(&b)
	for _, ev := range sampleEvents() {
		j.Event(ev)
	}
	for _, res := range sampleResults() {
		j.Result("cmd", res, nil)
	}
	j.Result("g", nil, nil)
	errs := sampleErrors()
	for _, line := range sortedKeys(errs) {
		j.Result(line, nil, errs[line])
	}
	j.Ready("0: kd> ")
	j.Message("console", "Verbose mode ON.")
	j.Exit(1)
	for i, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		var o map[string]any
		if err := json.Unmarshal([]byte(line), &o); err != nil || o["v"] != float64(1) || o["type"] == nil {
			t.Fatalf("line %d is not a kd JSON object: %q (%v)", i+1, line, err)
		}
	}
	golden(t, "json.golden", b.String())
}

func sortedKeys(m map[string]error) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}
