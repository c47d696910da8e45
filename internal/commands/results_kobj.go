package commands

import "github.com/gokd/kd/internal/target"

// ProcessDump is !process: the processes found, with the flags that say
// how much of each to show. All is the "**** NT ACTIVE PROCESS DUMP ****"
// form (every process, or a search by image name).
type ProcessDump struct {
	target.ProcessList
	Flags uint64
	All   bool
}

// ThreadDump is !thread.
type ThreadDump struct {
	target.ThreadDetail
	Flags uint64
}

// ThreadContext is .thread: the implicit thread and the registers its
// switch frame saved.
type ThreadContext struct {
	Thread        uint64
	Current       bool // the current thread: the registers are the processor's
	RSP, RIP, RBP uint64
}

// IrqlInfo is !irql.
type IrqlInfo struct {
	Processor uint16
	Irql      uint64
}

// BugCheckInfo is .bugcheck.
type BugCheckInfo struct{ target.BugCheck }

// ResultName returns the result's JSON name.
func (ProcessDump) ResultName() string { return "processes" }

// ResultName returns the result's JSON name.
func (ThreadDump) ResultName() string { return "thread" }

// ResultName returns the result's JSON name.
func (ThreadContext) ResultName() string { return "thread_context" }

// ResultName returns the result's JSON name.
func (IrqlInfo) ResultName() string { return "irql" }

// ResultName returns the result's JSON name.
func (BugCheckInfo) ResultName() string { return "bugcheck" }
