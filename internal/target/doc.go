// Package target is kd's debugger core: everything kd knows about the
// machine it debugs, and every operation on it, with no printing.
//
// A Target owns one connection at a time (a transport, a kdproto engine on
// it and the state behind it) and is the single source of truth for the
// stop/run state machine: whether the target is stopped, on which
// processor, at which address and why. It keeps the per-processor register
// contexts, a page-granular memory cache (filled by the fewest read
// requests that cover what was asked for and emptied whenever the target
// runs, is written, switches processor or reboots), the breakpoint table,
// the step-over and step-off-a-breakpoint logic, the loaded-module list with
// the export names of each module, and the connection phase (RESET packets,
// repeated break-ins, reconnects after a reboot).
//
// What the target says on its own, and what happens to the connection, is
// reported as typed Events through Config.Sink; results of operations are
// returned as values. Presentation (KD's text, JSON) lives in
// internal/render and the console in internal/console. Every wire operation
// takes a context, so the user's CTRL+C cancels anything, including the
// symbol and module reads done at a stop.
//
// Concurrency: the owner (the console's runner goroutine) calls Handle for
// each Incoming value it takes from Incoming(), and calls the operations
// (Registers, ReadMemory, Go, ...) from that same goroutine. Interrupt,
// BreakIn, Resync, CycleBreakState, SetTrace and the state queries are safe
// from any goroutine. The Sink may be called from any goroutine.
package target
