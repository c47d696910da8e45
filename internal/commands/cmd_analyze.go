package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/target"
)

// bugCheckDesc describes one bug check code: its public name, a short
// description written for kd, what each parameter means, and which
// parameter (1-4, 0 for none) holds the faulting instruction's address.
type bugCheckDesc struct {
	name   string
	desc   string
	args   [4]string
	faultP int
}

// bugChecks are the codes !analyze names. The names are the public
// symbolic names of the bug check codes; the descriptions and parameter
// meanings were written for kd from the public bug check reference.
var bugChecks = map[uint32]bugCheckDesc{
	0x0A: {"IRQL_NOT_LESS_OR_EQUAL", "Kernel-mode code touched a pageable or invalid address while running at an IRQL too high for page faults.",
		[4]string{"memory referenced", "IRQL", "bitfield: bit 0 write, bit 3 execute", "address which referenced memory"}, 4},
	0x1A: {"MEMORY_MANAGEMENT", "The memory manager found its structures damaged.", [4]string{"subtype", "", "", ""}, 0},
	0x1E: {"KMODE_EXCEPTION_NOT_HANDLED", "A kernel-mode program raised an exception that no handler caught.",
		[4]string{"exception code", "address of the exception", "exception parameter 0", "exception parameter 1"}, 2},
	0x19: {"BAD_POOL_HEADER", "A pool header was found damaged.", [4]string{"subtype", "", "", ""}, 0},
	0x3B: {"SYSTEM_SERVICE_EXCEPTION", "An exception happened while a system service ran (on the way from user to kernel mode).",
		[4]string{"exception code", "address of the exception", "address of the context record", "0"}, 2},
	0x50: {"PAGE_FAULT_IN_NONPAGED_AREA", "An invalid system memory address was referenced.",
		[4]string{"memory referenced", "value 0 = read, 2 = write, 10 = execute", "address which referenced memory", "type of read"}, 3},
	0x7E: {"SYSTEM_THREAD_EXCEPTION_NOT_HANDLED", "A system thread raised an exception that no handler caught.",
		[4]string{"exception code", "address of the exception", "exception record address", "context record address"}, 2},
	0x7F: {"UNEXPECTED_KERNEL_MODE_TRAP", "The processor raised a trap the kernel cannot handle (a double fault, for example).",
		[4]string{"trap number", "", "", ""}, 0},
	0x9F: {"DRIVER_POWER_STATE_FAILURE", "A driver kept a power IRP too long or in an inconsistent state.",
		[4]string{"subtype", "", "", ""}, 0},
	0xC2: {"BAD_POOL_CALLER", "A thread made a bad pool request.", [4]string{"subtype", "", "", ""}, 0},
	0xC4: {"DRIVER_VERIFIER_DETECTED_VIOLATION", "Driver Verifier caught a driver breaking a rule.", [4]string{"violation code", "", "", ""}, 0},
	0xD1: {"DRIVER_IRQL_NOT_LESS_OR_EQUAL", "A driver touched a pageable or invalid address while running at an IRQL too high for page faults.",
		[4]string{"memory referenced", "IRQL", "value 0 = read, 1 = write, 8 = execute", "address which referenced memory"}, 4},
	0xE2: {"MANUALLY_INITIATED_CRASH", "The user crashed the machine on purpose (a debugger's .crash or the keyboard crash).",
		[4]string{"", "", "", ""}, 0},
	0xEF:  {"CRITICAL_PROCESS_DIED", "A process the system cannot run without ended.", [4]string{"process object", "", "", ""}, 0},
	0xF4:  {"CRITICAL_OBJECT_TERMINATION", "A process or thread the system needs ended.", [4]string{"object type", "terminating object", "process image name", "explanation"}, 0},
	0x101: {"CLOCK_WATCHDOG_TIMEOUT", "A processor did not take its clock interrupt in time.", [4]string{"clock interrupt time-out interval", "", "PRCB of the hung processor", ""}, 0},
	0x124: {"WHEA_UNCORRECTABLE_ERROR", "The hardware reported an error it could not correct.", [4]string{"error source", "WHEA_ERROR_RECORD address", "", ""}, 0},
	0x133: {"DPC_WATCHDOG_VIOLATION", "A DPC or the time spent at DISPATCH_LEVEL or above ran too long.", [4]string{"subtype", "", "", ""}, 0},
	0x139: {"KERNEL_SECURITY_CHECK_FAILURE", "The kernel found a critical data structure corrupted (a failed security check).",
		[4]string{"type of corruption", "address of the trap frame", "address of the exception record", ""}, 0},
}

// Analysis is !analyze's answer.
type Analysis struct {
	BugCheck target.BugCheck
	Name     string // "" for a code kd does not know
	Desc     string
	ArgDesc  [4]string
	Verbose  bool
	// FaultAddr is the faulting address (a parameter or the blamed frame).
	FaultAddr   uint64
	FaultSymbol string
	FaultInst   target.Location
	HaveFault   bool
	Module      string
	Image       string
	Stack       target.Stack
	StackErr    string
}

// ResultName returns the result's JSON name.
func (Analysis) ResultName() string { return "analysis" }

// unblamed are the modules a bug check passes through but is not blamed on.
var unblamed = map[string]bool{"nt": true, "hal": true, "kdcom": true, "kdnet": true}

func cmdAnalyze(ctx context.Context, e *Env, args string) (Result, error) {
	line := strings.TrimSpace("!analyze " + args)
	a := Analysis{}
	for _, w := range strings.Fields(args) {
		switch strings.ToLower(w) {
		case "-v":
			a.Verbose = true
		default:
			return nil, syntaxErr(line, "unknown option %s (kd knows !analyze [-v])", w)
		}
	}
	bc, err := e.T.BugCheckData(ctx)
	if err != nil {
		return nil, err
	}
	a.BugCheck = bc
	if bc.Code == 0 {
		return NoBugCheck{Addr: bc.Addr}, nil
	}
	code := bc.Code
	if code&0x10000000 != 0 && bugChecks[code&^0x10000000].name != "" {
		code &^= 0x10000000 // the _M forms carry the same parameters
	}
	d := bugChecks[code]
	a.Name, a.Desc, a.ArgDesc = d.name, d.desc, d.args
	st, err := e.T.Stack(ctx, target.StackFrom{}, 0, false)
	if err != nil {
		a.StackErr = err.Error()
	}
	a.Stack = st
	if d.faultP > 0 && bc.Params[d.faultP-1] != 0 {
		a.FaultAddr, a.HaveFault = bc.Params[d.faultP-1], true
	} else {
		for i, f := range st.Frames {
			if i == 0 {
				continue
			}
			mod, _, _ := strings.Cut(f.CallSite, "!")
			if strings.Contains(f.CallSite, "!") && !unblamed[strings.ToLower(mod)] {
				a.FaultAddr, a.HaveFault = f.IP, true
				break
			}
		}
		if !a.HaveFault {
			// Blame the caller of the bug check routine.
			for i, f := range st.Frames {
				if strings.Contains(f.CallSite, "!KeBugCheck") && i+1 < len(st.Frames) {
					a.FaultAddr, a.HaveFault = st.Frames[i+1].IP, true
					break
				}
			}
		}
	}
	if a.HaveFault {
		if loc, err := e.T.Location(ctx, a.FaultAddr); err == nil {
			a.FaultInst = loc
			a.FaultSymbol = loc.Symbol
		}
		if mods, err := e.T.Modules(ctx); err == nil {
			for _, m := range mods {
				if a.FaultAddr >= m.Base && a.FaultAddr-m.Base < uint64(m.Size) {
					a.Module = m.Name
					a.Image = m.File
				}
			}
		}
	}
	return a, nil
}

// NoBugCheck is !analyze's answer when the target has not bug-checked.
type NoBugCheck struct{ Addr uint64 }

// ResultName returns the result's JSON name.
func (NoBugCheck) ResultName() string { return "no_bugcheck" }

// BugCheckName returns the public name of a bug check code ("" when kd
// does not know it).
func BugCheckName(code uint32) string { return bugChecks[code].name }

// ArgText returns the meaning of parameter i (0-3).
func (a Analysis) ArgText(i int) string {
	if a.ArgDesc[i] == "" {
		return fmt.Sprintf("parameter %d", i+1)
	}
	return a.ArgDesc[i]
}
