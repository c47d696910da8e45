package console

import (
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/gokd/kd/internal/commands"
)

// progressDelay is how long a transfer runs before a bar appears: short
// transfers print nothing but their result.
const progressDelay = time.Second

// Progress implements commands.Host: a bar (bytes, rate, ETA) on the
// terminal's stderr for a transfer that takes more than a second; nothing
// in scripts and --json, whose results carry bytes and milliseconds.
func (h host) Progress(total int64, what string) commands.Progress {
	c := h.c
	if c.cfg.JSON || c.in == nil || !c.in.Interactive() {
		return nopProgress{}
	}
	return &termProgress{w: c.cfg.Stderr, total: total, what: what, start: time.Now()}
}

type nopProgress struct{}

func (nopProgress) Add(int) {}
func (nopProgress) Done()   {}

// termProgress draws the bar once the transfer has run progressDelay.
type termProgress struct {
	mu    sync.Mutex
	w     io.Writer
	total int64
	what  string
	start time.Time
	done  int64
	bar   *progressbar.ProgressBar
}

func (p *termProgress) Add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += int64(n)
	if p.bar == nil {
		if time.Since(p.start) < progressDelay {
			return
		}
		p.bar = progressbar.NewOptions64(p.total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.what),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		_ = p.bar.Set64(p.done)
		return
	}
	_ = p.bar.Add(n)
}

func (p *termProgress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		_, _ = io.WriteString(p.w, "\r\x1b[K")
	}
}
