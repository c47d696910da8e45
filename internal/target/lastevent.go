package target

import (
	"sync"
	"time"
)

// lastEvent remembers the last stop kd reported, for .lastevent. It is
// written by whoever emits events and read by commands.
type lastEvent struct {
	mu   sync.Mutex
	stop Stopped
	at   time.Time
	have bool
}

// note records e when it is a stop.
func (l *lastEvent) note(e Event, now func() time.Time) {
	st, ok := e.(Stopped)
	if !ok {
		return
	}
	l.mu.Lock()
	l.stop, l.at, l.have = st, now(), true
	l.mu.Unlock()
}

// LastEvent returns the last stop kd reported and when it saw it; ok is
// false before the first stop.
func (t *Target) LastEvent() (st Stopped, at time.Time, ok bool) {
	t.last.mu.Lock()
	defer t.last.mu.Unlock()
	return t.last.stop, t.last.at, t.last.have
}
