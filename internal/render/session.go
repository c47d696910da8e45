package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/kdproto"
)

func init() { addRenderers(sessionText, sessionJSON) }

// sessionText renders the session group's results (n, .formats, .time,
// .lastevent, .effmach, .cls, .logfile).
func sessionText(r *Text, res commands.Result) bool {
	o := r.Out
	switch v := res.(type) {
	case commands.Radix:
		if !v.Set {
			o.Printf("base is %d", v.Base)
		}
	case commands.Formats:
		o.Printf("%s", strings.Join(FormatsLines(v.Value), "\n"))
	case commands.SessionTime:
		o.Printf("Debug session time: %s", Time(v.Time))
		if v.HaveUptime {
			o.Printf("System Uptime: %s", Uptime(v.Uptime))
		} else {
			o.Printf("System Uptime: not available")
		}
	case commands.LastEvent:
		if !v.Have {
			o.Printf("Last event: none yet")
			return true
		}
		o.Printf("Last event: %s", EventText(v.Stop))
		o.Printf("  debugger time: %s", Time(v.At))
	case commands.EffectiveMachine:
		o.Printf("Effective machine: %s (%s)", v.Name, v.Long)
	case commands.ClearScreen:
		if c, ok := o.(interface{ ClearScreen() }); ok && r.Interactive {
			c.ClearScreen()
		}
	case commands.LogStatus:
		if v.Path == "" {
			o.Printf("No log file open")
		} else {
			o.Printf("Log '%s' open", v.Path)
		}
	default:
		return false
	}
	return true
}

func sessionJSON(res commands.Result) (any, bool) {
	switch v := res.(type) {
	case commands.Radix:
		return map[string]any{"base": v.Base, "set": v.Set}, true
	case commands.Formats:
		x := v.Value
		m := map[string]any{
			"hex": Hex(x), "decimal": int64(x), "unsigned": strconv.FormatUint(x, 10),
			"octal": fmt.Sprintf("%022o", x), "binary": fmt.Sprintf("%064b", x), "chars": formatChars(x),
			"float_low": float32Text(uint32(x)), "float_high": float32Text(uint32(x >> 32)), "double": float64Text(x),
		}
		if t, ok := formatTime(x); ok {
			m["time"] = t
		}
		return m, true
	case commands.SessionTime:
		m := map[string]any{"session_time": v.Time.Format(time.RFC3339Nano)}
		if v.HaveUptime {
			m["uptime_ms"] = v.Uptime.Milliseconds()
		}
		return m, true
	case commands.LastEvent:
		if !v.Have {
			return map[string]any{"event": nil}, true
		}
		return map[string]any{"event": EventText(v.Stop), "pc": Hex(v.Stop.PC), "processor": v.Stop.CPU,
			"breakpoint": v.Stop.Breakpoint, "code": fmt.Sprintf("%08x", uint32(v.Stop.Code)),
			"debugger_time": v.At.Format(time.RFC3339Nano)}, true
	case commands.EffectiveMachine:
		return map[string]any{"machine": v.Name, "name": v.Long}, true
	case commands.ClearScreen:
		return map[string]any{}, true
	case commands.LogStatus:
		return map[string]any{"path": v.Path, "open": v.Path != ""}, true
	}
	return nil, false
}

// FormatsLines returns .formats' block for x, as KD prints it for a
// 64-bit target (Time in UTC).
func FormatsLines(x uint64) []string {
	var bin []string
	for i := 7; i >= 0; i-- {
		bin = append(bin, fmt.Sprintf("%08b", byte(x>>(8*i))))
	}
	t, ok := formatTime(x)
	if !ok {
		t = "***** Invalid"
	}
	return []string{
		"Evaluate expression:",
		"  Hex:     " + Addr(x),
		"  Decimal: " + strconv.FormatInt(int64(x), 10),
		"  Octal:   " + fmt.Sprintf("%022o", x),
		"  Binary:  " + strings.Join(bin, " "),
		"  Chars:   " + formatChars(x),
		"  Time:    " + t,
		"  Float:   low " + float32Text(uint32(x)) + " high " + float32Text(uint32(x>>32)),
		"  Double:  " + float64Text(x),
	}
}

// formatChars shows the bytes of x from the most significant one,
// printable ASCII as itself and anything else as a dot.
func formatChars(x uint64) string {
	var b [8]byte
	for i := range b {
		c := byte(x >> (8 * (7 - i)))
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		b[i] = c
	}
	return string(b[:])
}

// formatTime reads x as a C time_t when it fits in 32 bits, else as a
// FILETIME, both shown in UTC; ok is false past the year 9999.
func formatTime(x uint64) (string, bool) {
	if x <= math.MaxUint32 {
		return time.Unix(int64(x), 0).UTC().Format("Mon Jan 02 15:04:05 2006") + " (UTC)", true
	}
	const filetimeToUnix = 116444736000000000 // 100 ns units from 1601 to 1970
	const maxFiletime = 2650467743999999999   // 9999-12-31 23:59:59.9999999
	if x > maxFiletime {
		return "", false
	}
	sec := int64(x/10000000) - filetimeToUnix/10000000
	t := time.Unix(sec, int64(x%10000000)*100).UTC()
	return t.Format("Mon Jan 02 15:04:05.000 2006") + " (UTC)", true
}

// float32Text formats the single-precision float with bits b as the
// Windows C runtime's %g does: six significant digits, a three-digit
// exponent, and 1.#INF, 1.#QNAN, 1.#SNAN or -1.#IND (the x86 "indefinite"
// NaN) for the special values.
func float32Text(b uint32) string {
	if b&0x7f800000 == 0x7f800000 && b&0x7fffff != 0 {
		return nanText(b>>31 != 0, b == 0xffc00000, b&0x400000 != 0)
	}
	return crtFloat(float64(math.Float32frombits(b)))
}

// float64Text is float32Text for a double.
func float64Text(b uint64) string {
	if b&0x7ff0000000000000 == 0x7ff0000000000000 && b&0xfffffffffffff != 0 {
		return nanText(b>>63 != 0, b == 0xfff8000000000000, b&0x8000000000000 != 0)
	}
	return crtFloat(math.Float64frombits(b))
}

func nanText(neg, indefinite, quiet bool) string {
	sign := ""
	if neg {
		sign = "-"
	}
	switch {
	case indefinite:
		return "-1.#IND"
	case quiet:
		return sign + "1.#QNAN"
	}
	return sign + "1.#SNAN"
}

// crtFloat formats a number that is not a NaN.
func crtFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "1.#INF"
	case math.IsInf(f, -1):
		return "-1.#INF"
	}
	s := strconv.FormatFloat(f, 'g', 6, 64)
	if i := strings.IndexByte(s, 'e'); i >= 0 {
		mant, exp := s[:i], s[i+1:]
		digits := strings.TrimLeft(exp[1:], "0")
		for len(digits) < 3 {
			digits = "0" + digits
		}
		s = mant + "e" + exp[:1] + digits
	}
	return s
}

// Uptime formats a duration as KD's "System Uptime": 0 days 0:00:20.534.
func Uptime(d time.Duration) string {
	ms := d.Milliseconds()
	days := ms / 86400000
	ms %= 86400000
	return fmt.Sprintf("%d days %d:%02d:%02d.%03d", days, ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// EventText describes a stop as .lastevent does.
func EventText(e target.Stopped) string {
	switch e.Kind {
	case target.StopModuleLoad:
		if e.Load != nil {
			return fmt.Sprintf("Load module %s at %s", e.Load.Path, Addr(e.Load.Base))
		}
		return "Load module"
	case target.StopSwitch:
		return fmt.Sprintf("Switch to processor %d", e.CPU)
	case target.StopException:
		if e.Code == kdproto.StatusBreakpoint && e.Breakpoint >= 0 && !e.BreakIn {
			return fmt.Sprintf("Hit breakpoint %d", e.Breakpoint)
		}
		chance := "(first chance)"
		if !e.FirstChance {
			chance = "(!!! second chance !!!)"
		}
		return fmt.Sprintf("%s - code %08x %s", ExceptionName(e.Code), uint32(e.Code), chance)
	}
	return fmt.Sprintf("State change at %s", Addr(e.PC))
}
