// Package sim simulates a Windows 10 x64 machine behind a KDCOM serial
// debug port: the target side of the KD protocol, modelled on the ReactOS
// kddll/kd64 behaviour described in the project's protocol notes, over a
// believable memory image, deterministic from a seed.
//
// A Machine keeps its state across host connections, like a VM whose COM
// port is reconnected. Serve runs it on one connection (net.Pipe, a Unix
// or TCP socket, a pseudo-terminal); ListenAndServe, ServeListener,
// Connect and ServePTY wrap it for the usual set-ups. Config selects the
// machine (seed, build, processors), the line (baud, noise, drops,
// duplicates, junk, desync, mute, hostile packets) and the observers (a
// wire trace and a stream of Events).
//
// Inside, uart.go models the serial line: a reader goroutine moves bytes
// from the connection into a 16-byte receive FIFO, stamped with the time
// they arrive at the configured baud rate, and the target goroutine takes
// them one at a time with a per-byte timeout, as kdcom reads its UART; on
// a paced line a transmitter goroutine hands the target's bytes to the
// connection as they arrive. kdcom.go is the packet layer (leader scan,
// RESEND rules, ids, retries), target.go the running and stopped states,
// api.go the manipulate requests, cpu.go a tiny x86-64 interpreter for the
// hand-assembled code in code.go, image.go the memory image and bigmem.go
// its bulk pool, 256 MiB generated on demand. docs/kdsim.md documents the
// machine for users.
package sim
