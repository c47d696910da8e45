// Package console is kd's KD-style console: the command loop, the
// control keys, the terminal and script input, the prompt, the log file
// and the wait timeout. It holds no debugger state of its own.
//
// # Shape
//
// One goroutine, the runner (Console.Run), drives a session: it passes
// what the debugger core (internal/target) hands it to Target.Handle,
// runs command lines one at a time through the command table
// (internal/commands), and shows every event and result through a
// renderer (internal/render: KD's text, or JSON lines with --json).
// Everything else feeds it:
//
//   - an Input (a readline terminal, or a script reader for piped stdin)
//     delivers command lines when the runner asks for one, and calls
//     Console.Key for every control key it sees, also while a command
//     runs or the target runs and no prompt is shown;
//   - the core's background work (RESET loops, break-in loops, resyncs)
//     runs in goroutines of the core and reaches the runner through
//     Target.Incoming.
//
// # Interrupts
//
// CTRL+C, CTRL+F ENTER and SIGINT all end in Console.Interrupt: the core
// breaks in when the target runs (or while kd is still waiting for it, or
// is not sure), and otherwise the command in progress is cancelled.
//
// # Output
//
// All text output goes through one Output: whole lines, copied to the log
// file, and through readline's Stdout while a prompt is up so the edit
// line is redrawn rather than torn. Text from the target is sanitised
// (internal/safetext). Diagnostics go to stderr as "kd: error: ..." and
// "kd: hint: ..." lines.
package console
