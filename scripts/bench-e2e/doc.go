// Command bench-e2e measures kd end to end against the simulator and
// prints each figure next to its limit or goal (issue 9): payload bytes/s
// of a large memory read over a paced line against the stop-and-wait
// limit computed from the packet sizes, unthrottled MB/s for 1, 16 and 64
// MiB, resync time on a healthy and a noisy line, time to the first
// prompt, kd's idle CPU while the target runs and peak RSS. It serves the
// simulated target (internal/sim, kdsim's code) in-process on a Unix
// socket, so that it can time transfers from the target's side, and runs
// the client (the kd binary; for transfers its .writemem, or with -client
// engine a small client on kd's engine alone) as a separate process whose
// CPU and memory it reads from the operating system. Beside the unthrottled
// figures it measures their floor: bare round trips of one read's bytes
// between two Go processes over a Unix socket, with no protocol. Run it
// with `make bench-e2e`; docs/performance.md explains the method. It is a benchmark: nothing here asserts a time.
package main
