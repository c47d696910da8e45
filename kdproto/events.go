package kdproto

import "fmt"

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	// EventStateChange: the target stopped (exception, breakpoint, step,
	// module load) and waits for requests.
	EventStateChange EventKind = iota
	// EventPrint: DbgPrint text from the target.
	EventPrint
	// EventPrompt: DbgPrompt; the target waits for AnswerPrompt.
	EventPrompt
	// EventTargetReset: the target sent a RESET the host did not ask for;
	// packet ids on both sides are back at InitialPacketID.
	EventTargetReset
	// EventLinkError: the link failed; the engine has stopped.
	EventLinkError
	// EventWarning: something odd but survivable (an unexpected packet type,
	// a malformed payload from the target).
	EventWarning
	// EventRepaired: the engine put the link right by itself (a RESET
	// exchange after a request was lost, say); Text says what it did.
	EventRepaired
)

var eventNames = [...]string{"state-change", "print", "prompt", "target-reset", "link-error", "warning", "repaired"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && k >= 0 {
		return eventNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is something the target said on its own, or the end of the link.
// Its byte slices are owned by the receiver.
type Event struct {
	Kind EventKind
	// State is the decoded state change (EventStateChange); its Extra is a copy.
	State StateChange
	// Repeat marks a state change identical to the previous one (the target
	// re-sent it after a RESEND, a RESET or a stray break-in byte).
	Repeat bool
	// Stale marks a Repeat that arrived while the engine had sent nothing
	// resuming the target since the stop it copies: a re-send for sure,
	// never a new stop, even when it is handled after a later resume.
	Stale bool
	// Fresh marks a state change whose packet carried the sync bit: the
	// target started its numbering over and the engine renumbered, so the
	// packet ids are in step without a RESET exchange. Never set on a
	// duplicate, on a link whose RESET keeps the ids (KDNET), or for a
	// target whose sync bit sticks (a reply carried it).
	Fresh bool
	// Text is the DbgPrint text, the DbgPrompt prompt or the warning. It is
	// raw target bytes: sanitise before display.
	Text []byte
	// MaxReply is the longest answer a DbgPrompt accepts.
	MaxReply uint32
	// Err is why the link failed (EventLinkError).
	Err error
}

func (e Event) String() string {
	switch e.Kind {
	case EventStateChange:
		return fmt.Sprintf("%s %s repeat=%v fresh=%v", e.Kind, e.State, e.Repeat, e.Fresh)
	case EventPrint, EventPrompt, EventWarning, EventRepaired:
		return fmt.Sprintf("%s %q", e.Kind, e.Text)
	case EventLinkError:
		return fmt.Sprintf("%s %v", e.Kind, e.Err)
	}
	return e.Kind.String()
}

// LinkError reports that reading the link failed; the engine has stopped.
type LinkError struct{ Err error }

func (e *LinkError) Error() string { return "kdproto: link failed: " + e.Err.Error() }

// Unwrap returns the transport's error.
func (e *LinkError) Unwrap() error { return e.Err }
