package render

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/kdproto"
)

func TestFormatsLines(t *testing.T) {
	got := strings.Join(FormatsLines(0x1c407e62), "\n")
	want := strings.Join([]string{
		"Evaluate expression:",
		"  Hex:     00000000`1c407e62",
		"  Decimal: 473988706",
		"  Octal:   0000000000003420077142",
		"  Binary:  00000000 00000000 00000000 00000000 00011100 01000000 01111110 01100010",
		"  Chars:   .....@~b",
		"  Time:    Mon Jan 07 23:31:46 1985 (UTC)",
		"  Float:   low 6.36908e-022 high 0",
		"  Double:  2.34182e-315",
	}, "\n")
	if got != want {
		t.Errorf(".formats 1c407e62:\n%s\nwant\n%s", got, want)
	}
}

func TestFormatPieces(t *testing.T) {
	floats := []struct {
		bits uint32
		want string
	}{
		{0x3f800000, "1"}, {0xbfc00000, "-1.5"}, {0x7f800000, "1.#INF"}, {0xff800000, "-1.#INF"},
		{0xffc00000, "-1.#IND"}, {0x7fc00001, "1.#QNAN"}, {0xffffffff, "-1.#QNAN"}, {0x7f800001, "1.#SNAN"},
		{0x501502f9, "1e+010"}, {0, "0"},
	}
	for _, f := range floats {
		if got := float32Text(f.bits); got != f.want {
			t.Errorf("float32Text(%#x) = %q; want %q", f.bits, got, f.want)
		}
	}
	if got := float64Text(0xfff8000000000000); got != "-1.#IND" {
		t.Errorf("double indefinite = %q", got)
	}
	times := []struct {
		v    uint64
		want string
		ok   bool
	}{
		{0, "Thu Jan 01 00:00:00 1970 (UTC)", true},
		{0xffffffff, "Sun Feb 07 06:28:15 2106 (UTC)", true},
		{116444736000000000 + 1234*10000, "Thu Jan 01 00:00:01.234 1970 (UTC)", true},
		{0xffffffffffffffff, "", false},
	}
	for _, tt := range times {
		if got, ok := formatTime(tt.v); got != tt.want || ok != tt.ok {
			t.Errorf("formatTime(%#x) = %q, %v; want %q, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
	if got := formatChars(0x4142430a7f202e61); got != "ABC.. .a" {
		t.Errorf("formatChars = %q", got)
	}
	if got := Uptime(26*time.Hour + 3*time.Minute + 4*time.Second + 5*time.Millisecond); got != "1 days 2:03:04.005" {
		t.Errorf("Uptime = %q", got)
	}
}

// clearScreen is a Screen that records .cls.
type clearScreen struct {
	Screen
	cleared int
	lines   []string
}

func (c *clearScreen) ClearScreen() { c.cleared++ }
func (c *clearScreen) Printf(format string, args ...any) {
	c.lines = append(c.lines, fmt.Sprintf(format, args...))
}

// .cls clears a terminal only; in a script it prints nothing.
func TestClearScreen(t *testing.T) {
	for _, interactive := range []bool{true, false} {
		scr := &clearScreen{}
		r := &Text{Out: scr, Interactive: interactive}
		if !sessionText(r, commands.ClearScreen{}) {
			t.Fatal("ClearScreen not rendered")
		}
		if want := map[bool]int{true: 1, false: 0}[interactive]; scr.cleared != want || len(scr.lines) != 0 {
			t.Errorf("interactive %v: cleared %d times, printed %q; want %d and nothing", interactive, scr.cleared, scr.lines, want)
		}
	}
}

func TestEventText(t *testing.T) {
	tests := []struct {
		e    target.Stopped
		want string
	}{
		{target.Stopped{Kind: target.StopException, Code: kdproto.StatusBreakpoint, Breakpoint: 2}, "Hit breakpoint 2"},
		{target.Stopped{Kind: target.StopException, Code: kdproto.StatusBreakpoint, Breakpoint: -1, FirstChance: true},
			"Break instruction exception - code 80000003 (first chance)"},
		{target.Stopped{Kind: target.StopException, Code: kdproto.StatusBreakpoint, Breakpoint: 1, BreakIn: true, FirstChance: true},
			"Break instruction exception - code 80000003 (first chance)"},
		{target.Stopped{Kind: target.StopException, Code: 0xc0000005, Breakpoint: -1},
			ExceptionName(0xc0000005) + " - code c0000005 (!!! second chance !!!)"},
		{target.Stopped{Kind: target.StopModuleLoad, Load: &target.ModuleLoad{Path: "simdrv.sys", Base: 0xfffff80011a00000}},
			"Load module simdrv.sys at fffff800`11a00000"},
		{target.Stopped{Kind: target.StopSwitch, CPU: 1}, "Switch to processor 1"},
		{target.Stopped{Kind: target.StopOther, PC: 0xfffff80010a01030}, "State change at fffff800`10a01030"},
	}
	for _, tt := range tests {
		if got := EventText(tt.e); got != tt.want {
			t.Errorf("EventText(%+v) = %q; want %q", tt.e, got, tt.want)
		}
	}
}
