package console

import (
	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/render"
	"github.com/gokd/kd/internal/safetext"
	"github.com/gokd/kd/internal/target"
)

// renderer is where the console's output goes: KD's text on the terminal
// or one JSON object per line (--json).
type renderer interface {
	Event(target.Event)
	// Result shows what a command line gave, or why it failed.
	Result(line string, res commands.Result, err error)
	// Echo shows a script line about to run after its prompt.
	Echo(prompt, line string)
	// Answer shows a script's answer to a DbgPrompt.
	Answer(line string)
	// Message is a console message (a control key's answer).
	Message(text string)
	// Error is a console-level error with hints.
	Error(msg string, hints ...string)
	// Ready says a command can be sent now.
	Ready(prompt string)
	// Exit says kd exits with status.
	Exit(status int)
}

// textRenderer writes KD's text through the console's Output.
type textRenderer struct {
	out  *Output
	text *render.Text
}

func (r *textRenderer) Event(ev target.Event) { r.text.Event(ev) }

func (r *textRenderer) Result(line string, res commands.Result, err error) {
	if err != nil {
		r.text.Error(line, err)
		return
	}
	if res != nil {
		r.text.Result(res)
	}
}

func (r *textRenderer) Echo(prompt, line string) {
	r.out.Printf("%s%s", prompt, sanitize([]byte(line)))
}
func (r *textRenderer) Answer(line string)                { r.out.Continue(sanitize([]byte(line)) + "\n") }
func (r *textRenderer) Message(text string)               { r.out.Printf("%s", text) }
func (r *textRenderer) Error(msg string, hints ...string) { r.out.Errorf(msg, hints...) }
func (r *textRenderer) Ready(string)                      {}
func (r *textRenderer) Exit(int)                          {}

// jsonRenderer writes JSON lines (docs/json.md).
type jsonRenderer struct{ j *render.JSON }

func (r *jsonRenderer) Event(ev target.Event) { r.j.Event(ev) }
func (r *jsonRenderer) Result(line string, res commands.Result, err error) {
	r.j.Result(line, res, err)
}
func (r *jsonRenderer) Echo(string, string) {}
func (r *jsonRenderer) Answer(string)       {}
func (r *jsonRenderer) Message(text string) { r.j.Message("console", text) }
func (r *jsonRenderer) Ready(prompt string) { r.j.Ready(prompt) }
func (r *jsonRenderer) Exit(status int)     { r.j.Exit(status) }
func (r *jsonRenderer) Error(msg string, hints ...string) {
	r.j.Message("error", msg)
	for _, h := range hints {
		r.j.Message("hint", h)
	}
}

// sanitize is safetext.Sanitize for console lines.
func sanitize(b []byte) string { return safetext.Sanitize(b) }
