package render

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/safetext"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/transport"
)

// SchemaVersion is the "v" of every JSON object kd writes. It changes
// when a field changes meaning or disappears; new fields do not change it.
const SchemaVersion = 1

// JSON writes events and results as one JSON object per line (see
// docs/json.md). It is safe for concurrent use.
type JSON struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSON returns a JSON renderer writing to w.
func NewJSON(w io.Writer) *JSON { return &JSON{w: w} }

// Hex is a number written as a "0x..." string, the way JSON readers in
// any language keep 64-bit values exact.
type Hex uint64

// MarshalJSON writes the number as a hex string.
func (h Hex) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprintf(`"0x%x"`, uint64(h))), nil }

// write encodes one object. encoding/json escapes every control byte, so
// no target text reaches the stream raw.
func (j *JSON) write(obj map[string]any) {
	obj["v"] = SchemaVersion
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		buf.Reset()
		_ = enc.Encode(map[string]any{"v": SchemaVersion, "type": "internal_error", "error": err.Error()})
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	_, _ = j.w.Write(buf.Bytes())
}

// Ready says kd takes a command now.
func (j *JSON) Ready(prompt string) {
	j.write(map[string]any{"type": "ready", "prompt": prompt})
}

// Message writes a console message that is neither an event nor a result
// (a control key's answer, for example).
func (j *JSON) Message(kind, text string) {
	j.write(map[string]any{"type": "message", "kind": kind, "text": text})
}

// Exit says kd is about to exit with status.
func (j *JSON) Exit(status int) { j.write(map[string]any{"type": "exit", "status": status}) }

func text(b []byte) string { return safetext.Sanitize(b) }

func errString(err error) any {
	if err == nil {
		return nil
	}
	return ErrText(err)
}

func location(l target.Location) map[string]any {
	m := map[string]any{"address": Hex(l.Inst.Addr), "bytes": hex.EncodeToString(l.Inst.Bytes), "valid": l.Inst.Valid}
	if l.Inst.Valid {
		m["text"] = l.Inst.Text
	}
	if l.Symbol != "" {
		m["symbol"] = l.Symbol
	}
	return m
}

func info(i target.Info) map[string]any {
	v := i.Version
	return map[string]any{
		"os": WindowsName(v.MinorVersion), "build": v.MinorVersion, "machine": v.MachineName(), "ptr64": v.Ptr64(),
		"processors": max(i.NProcs, 1), "checked": v.Checked(), "kernel_base": Hex(v.KernBase),
		"ps_loaded_module_list": Hex(v.PsLoadedModuleList), "major": v.MajorVersion, "protocol": v.ProtocolVersion,
		"time": i.Time.UTC().Format(time.RFC3339Nano),
	}
}

func registers(cx kdproto.Context) map[string]any {
	m := make(map[string]any, len(cx.Regs))
	for _, r := range cx.Regs {
		if v, ok := cx.Get(r.Name); ok {
			m[r.Name] = Hex(v)
		}
	}
	return m
}

// Event writes one event.
func (j *JSON) Event(ev target.Event) {
	o := map[string]any{"type": ev.EventName()}
	switch e := ev.(type) {
	case target.TransportEvent:
		o["kind"] = e.Kind.String()
		o["name"] = e.Name
		if e.Err != nil {
			o["error"] = e.Err.Error()
		}
		if e.Kind == transport.EventOpened {
			o["type"] = "opened"
		}
	case target.Opened:
		o["name"] = e.Name
	case target.Established:
		o["initial_break"] = e.InitialBreak
	case target.Connected:
		o["target"] = info(e.Info)
		o["initial_break"] = e.InitialBreak
	case target.Stopped:
		o["cpu"] = e.CPU
		o["processors"] = e.NProcs
		o["pc"] = Hex(e.PC)
		o["reason"] = stopReason(e)
		if e.Kind == target.StopException {
			o["code"] = Hex(uint32(e.Code))
			o["exception"] = ExceptionName(e.Code)
			o["first_chance"] = e.FirstChance
		}
		if e.Breakpoint >= 0 {
			o["breakpoint"] = e.Breakpoint
			if e.Action != "" {
				o["action"] = safetext.Sanitize([]byte(e.Action))
			}
		}
		if e.Load != nil {
			o["module"] = map[string]any{"path": e.Load.Path, "base": Hex(e.Load.Base)}
		}
		if e.Regs != nil {
			o["registers"] = registers(e.Regs.Context)
		}
		if e.Kind != target.StopSwitch {
			o["location"] = location(e.Location)
			if e.Location.Symbol != "" {
				o["symbol"] = e.Location.Symbol
			}
		}
	case target.Running:
		o["step"] = e.Step
	case target.Print:
		o["text"] = text(e.Text)
	case target.Prompt:
		o["text"] = text(e.Text)
		o["max_reply"] = e.MaxReply
	case target.ResyncDone:
		o["ok"] = e.Err == nil
		o["ms"] = e.Elapsed.Milliseconds()
		o["resets"] = e.Resets
		if e.Err != nil {
			o["error"] = ErrText(e.Err)
		}
	case target.Where:
		o["location"] = location(e.Location)
	case target.ResetAnswered:
		o["ms"] = e.Elapsed.Milliseconds()
		o["resets"] = e.Resets
	case target.ResetUnanswered:
		o["resets"] = e.Resets
	case target.ModuleLoad:
		o["path"] = e.Path
		o["base"] = Hex(e.Base)
		o["unload"] = e.Unload
	case target.LinkLost:
		o["error"] = errString(e.Err)
	case target.Rebooting:
		o["time"] = e.Time.UTC().Format(time.RFC3339Nano)
	case target.Warning:
		o["text"] = e.Text
	case target.Repaired:
		o["text"] = e.What
	case target.SymbolMessage:
		o["module"] = e.Module
		o["text"] = e.Text
		o["noisy"] = e.Noisy
	case target.Failure:
		p := Describe(e.What, e.Err)
		o["what"] = e.What
		o["error"] = p.Message
		if len(p.Hints) > 0 {
			o["hint"] = p.Hints[0]
		}
	}
	j.write(o)
}

func stopReason(e target.Stopped) string {
	switch {
	case e.Kind == target.StopModuleLoad:
		return "module_load"
	case e.Kind == target.StopSwitch:
		return "processor_switch"
	case e.BreakIn:
		return "break_in"
	case e.Step && e.Breakpoint < 0:
		return "step"
	case e.Reached:
		return "reached"
	case e.Breakpoint >= 0:
		return "breakpoint"
	case e.Kind == target.StopException:
		return "exception"
	}
	return "other"
}

// Result writes the result object of one command line.
func (j *JSON) Result(line string, res commands.Result, err error) {
	o := map[string]any{"type": "result", "command": line, "ok": err == nil}
	if err != nil {
		p := Describe(line, err)
		o["error"] = p.Message
		if len(p.Hints) > 0 {
			o["hint"] = p.Hints[0]
		}
		j.write(o)
		return
	}
	if res != nil {
		o["kind"] = res.ResultName()
		o["data"] = resultData(res)
	}
	j.write(o)
}

func resultData(res commands.Result) any {
	switch v := res.(type) {
	case commands.RegisterDisplay, commands.RegisterValues:
		return registerData(res)
	case commands.MemoryDump:
		var bad []Hex
		for i, ok := range v.OK {
			if !ok && (i == 0 || v.OK[i-1]) {
				bad = append(bad, Hex(v.Addr+uint64(i)))
			}
		}
		data := make([]byte, len(v.Data))
		copy(data, v.Data)
		for i, ok := range v.OK {
			if !ok {
				data[i] = 0
			}
		}
		m := map[string]any{"form": v.Form, "address": Hex(v.Addr), "length": len(v.Data), "bytes": hex.EncodeToString(data), "element_size": v.Size}
		if len(bad) > 0 {
			m["unreadable_from"] = bad
			ok := make([]bool, len(v.OK))
			copy(ok, v.OK)
			m["readable"] = ok
		}
		return m
	case commands.Disassembly:
		lines := make([]any, len(v.Lines))
		for i, l := range v.Lines {
			lines[i] = location(l)
		}
		return map[string]any{"instructions": lines}
	case commands.Evaluation:
		return map[string]any{"value": Hex(v.Value), "decimal": int64(v.Value)}
	case commands.TargetInfo:
		m := info(v.Info)
		if v.HaveUptime {
			m["uptime_ms"] = v.Uptime.Milliseconds()
		}
		return m
	case commands.VersionInfo:
		m := map[string]any{"kd": v.Kd}
		if v.Target != nil {
			m["target"] = info(*v.Target)
		}
		return m
	case commands.Help:
		return map[string]any{"text": v.Text}
	case commands.Echo:
		return map[string]any{"text": v.Text}
	case commands.LogOpened:
		return map[string]any{"path": v.Path, "closed": v.Closed}
	case commands.LogClosed:
		return map[string]any{"path": v.Path}
	case commands.Quit:
		return map[string]any{}
	case commands.FileTransfer:
		return map[string]any{"op": v.Op, "file": v.File, "address": Hex(v.Addr), "bytes": v.Bytes, "total": v.Total, "ms": v.Elapsed.Milliseconds()}
	default:
		if m := symResultData(res); m != nil {
			return m
		}
		if d, ok := registeredData(res); ok {
			return d
		}
	}
	return map[string]any{}
}
