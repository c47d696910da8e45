// Package console is kd's KD-style console: the command loop, the control
// keys, the connection flow and the first commands.
//
// # Shape
//
// One goroutine, the runner (Console.Run), owns the session: it opens the
// transport, drives the connection, turns engine events into KD's lines
// (connection banner, break-in box, stop location, DbgPrint text) and runs
// command lines one at a time. Everything else feeds it:
//
//   - an Input (a readline terminal, or a line scanner for piped stdin)
//     delivers command lines when the runner asks for one, and calls
//     Console.Key at once for every control key it sees, also while the
//     target runs and no prompt is shown;
//   - the runner reads the engine's events itself, between commands (the
//     engine queues them, so a busy runner never stalls the protocol);
//   - the RESET loops (connection, CTRL+R ENTER) and the break-in loops run
//     in goroutines of their own, so that a command stalled on a link that
//     fell out of step completes once the RESET exchange is done, and a
//     running target that missed a break-in byte gets another.
//
// # Re-sent stops
//
// A stopped target re-sends its state change after every RESET. kd shows a
// stop it already knows only once: a repeat while it is stopped is
// dropped, and so is a repeat that reaches it after it resumed the target
// (the engine then says running, which a new stop would have changed).
// The first stop of a connection waits for a RESET exchange, so that no
// request goes out with packet ids out of step.
//
// # Interrupts
//
// CTRL+C, CTRL+F ENTER and SIGINT all end in Console.Interrupt: it breaks
// in when the target runs (or while kd is still waiting for it), and
// cancels the command in progress when the target is stopped.
//
// # Output
//
// All user output goes through one Output: whole lines, tee'd to the log
// file, and through readline's Stdout while a prompt is up so the edit line
// is redrawn rather than torn. Text that comes from the target is passed
// through Sanitize first. Diagnostics go to stderr as "kd: error: ..." and
// "kd: hint: ..." lines.
//
// # Commands
//
// The command table (commands.go) is data: names, group, help text and a
// handler. Help and docs/commands.md are generated from it; a
// longest-prefix tokenizer (tokenize.go) splits KD syntax such as db@rsp,
// ~1s and r rax=1.
package console
