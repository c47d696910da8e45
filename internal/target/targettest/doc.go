// Package targettest runs kd's debugger core against the simulator for
// tests: a Rig is a target.Target connected in-process to a sim.Machine,
// with the test's goroutine as the target's runner. It records the
// target's events and the machine's, waits for them with a deadline (never
// a sleep), and lets a test compare what kd says with what the machine
// holds (sim.Machine.PeekVirtual, Context, Stop). Only tests import it: the
// debugger itself never links the simulator.
package targettest
