// Package faults measures how kd's debugger core (internal/target over
// kdproto) holds up on a bad line. It drives a target.Target against the
// simulator (internal/sim) with seeded line faults — noise, drops,
// duplicates, junk — and checks what kd reports against what the target
// did: every byte read against the simulator's generated memory, every
// DbgPrint the target delivered counted exactly once, every request
// answered or failed with an error within its deadline, and the break-in
// at the end answered by a stop.
//
// Run runs one seeded session and returns its Result; Matrix runs a grid
// of fault settings and seeds and Table formats it as the Markdown table
// of docs/reliability.md (make faults). Soak runs sessions back to back
// for a while with kdsim's hostile packets on and samples the memory and
// goroutine count of the process (make soak). The package is test
// machinery: kd itself does not link it.
package faults
