package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/target"
)

func init() {
	addCommands(cpuCommands...)
}

var cpuCommands = []*Command{
	{
		Names: []string{"~"}, Group: groupTarget,
		Example: "~",
		Help: "List the processors.\n\n\t~\n\n" +
			"One line a processor: its number (the current one marked with a dot), its KPCR, the thread it runs and " +
			"where it is stopped. KD has no documented kernel-mode list; this layout is kd's own. ~Ns switches.",
		Run: cmdProcessors,
	},
	{
		Names: []string{"rdmsr"}, Group: groupData,
		Example: "rdmsr c0000082",
		Help: "Read a model-specific register of the current processor.\n\n\trdmsr Address\n\n" +
			"Shows KD's msr[c0000082] = fffff801`e74bf640. An MSR the processor has not got fails with the target's status.",
		Run: cmdRdmsr,
	},
	{
		Names: []string{"wrmsr"}, Group: groupData,
		Example: "wrmsr c0000102 0",
		Help: "Write a model-specific register of the current processor.\n\n\twrmsr Address Value\n\n" +
			"Value is a 64-bit expression. Nothing is shown on success. Writing MSRs of a live kernel can crash it.",
		Run: cmdWrmsr,
	},
	portIn("ib", 1, "byte"), portIn("iw", 2, "word"), portIn("id", 4, "double word"),
	portOut("ob", 1, "byte"), portOut("ow", 2, "word"), portOut("od", 4, "double word"),
	{
		Names: []string{"dg"}, Group: groupData,
		Example: "dg 10\ndg 0 50",
		Help: "Show segment descriptors from the current processor's GDT.\n\n\tdg FirstSelector [LastSelector]\n\n" +
			"One line a selector (at most 256 of them), in the layout of public KD transcripts: base, limit (the " +
			"granularity applied), type, privilege level, size (Bg/Nb), granularity (Pg/By), presence (P/NP), long " +
			"mode (Lo/Nl) and the descriptor's access and flag bits. A TSS descriptor's base is 64 bits. LDT " +
			"selectors (bit 2 set) are refused: x64 Windows has no LDT.",
		Run: cmdDg,
	},
	{
		Names: []string{"!pcr"}, Group: groupTarget,
		Example: "!pcr\n!pcr 1",
		Help: "Show a processor's KPCR and the threads of its KPRCB.\n\n\t!pcr [Processor]\n\n" +
			"Without a number, the current processor. kd reads the fields the x64 ABI fixes (GdtBase, TssBase, " +
			"UserRsp, Self, CurrentPrcb, IdtBase, Irql, the version and StallScaleFactor; the KPRCB's CurrentThread, " +
			"NextThread, IdleThread and Number) at their offsets, not through nt's types. KD's own !pcr prints " +
			"NtTib fields that overlap these on x64; kd names each field for what it holds, so its layout differs. " +
			"x64 has no IRR/IDR, and the KPRCB's DPC queue sits at an offset that changes between builds: kd does not show it.",
		Run: cmdPCR,
	},
	{
		Names: []string{"!idt"}, Group: groupTarget,
		Example: "!idt\n!idt e",
		Help: "Show the interrupt descriptor table of the current processor.\n\n\t!idt [Vector]\n\n" +
			"kd reads the table at IDTR's base up to its limit and decodes every present 16-byte gate: the vector, " +
			"the handler with its symbol and, for gates that switch stacks, the IST stack from the processor's TSS. " +
			"KD's -a flag (every processor) is not supported: use ~Ns and !idt.",
		Run: cmdIDT,
	},
	{
		Names: []string{"!cpuinfo"}, Group: groupTarget,
		Example: "!cpuinfo",
		Help: "Show what the target says about its processors' identity.\n\n\t!cpuinfo\n\n" +
			"Family, model and stepping, vendor, MHz and feature bits come from each KPRCB through nt's type " +
			"information (CpuType, CpuStep, VendorString, MHz, FeatureBits); the microcode signature, APIC base and " +
			"time stamp counter from MSRs 8B, 1B and 10. kd cannot run CPUID on the target; a field the symbols do " +
			"not describe is shown as missing.",
		Run: cmdCPUInfo,
	},
}

func cmdProcessors(ctx context.Context, e *Env, args string) (Result, error) {
	if err := noArgs("~", args); err != nil {
		return nil, err
	}
	ps, err := e.T.Processors(ctx)
	if err != nil {
		return nil, err
	}
	return ProcessorList{Processors: ps}, nil
}

// evalFirst evaluates the first expression of s and returns the rest.
func (e *Env) evalFirst(ctx context.Context, s string) (uint64, string, error) {
	return evalPrefix(s, exprTarget{ctx, e})
}

// ParseOneArg checks that args is one expression and returns it (parsed
// by eval); it is the shape of rdmsr, ib, iw and id.
func parseOne(line, args string, eval func(string) (uint64, string, error)) (uint64, error) {
	if strings.TrimSpace(args) == "" {
		return 0, syntaxErr(line, "an address is expected")
	}
	v, rest, err := eval(args)
	if err != nil {
		return 0, syntaxErr(line, "%v", err)
	}
	if strings.TrimSpace(rest) != "" {
		return 0, syntaxErr(line, "extra characters %q", strings.TrimSpace(rest))
	}
	return v, nil
}

// parseTwo parses "Address Value" (wrmsr, ob, ow, od).
func parseTwo(line, args string, eval func(string) (uint64, string, error)) (uint64, uint64, error) {
	if strings.TrimSpace(args) == "" {
		return 0, 0, syntaxErr(line, "an address and a value are expected")
	}
	a, rest, err := eval(args)
	if err != nil {
		return 0, 0, syntaxErr(line, "%v", err)
	}
	if strings.TrimSpace(rest) == "" {
		return 0, 0, syntaxErr(line, "a value is expected after the address")
	}
	v, err := parseOne(line, rest, eval)
	return a, v, err
}

func checkMSR(line string, v uint64) error {
	if v > 0xFFFFFFFF {
		return &Error{Msg: fmt.Sprintf("%s: %x is not an MSR number (they are 32 bits)", line, v), Hints: []string{"rdmsr c0000082 reads IA32_LSTAR"}}
	}
	return nil
}

func cmdRdmsr(ctx context.Context, e *Env, args string) (Result, error) {
	line := strings.TrimSpace("rdmsr " + args)
	eval := func(s string) (uint64, string, error) { return e.evalFirst(ctx, s) }
	msr, err := parseOne(line, args, eval)
	if err != nil {
		return nil, err
	}
	if err := checkMSR(line, msr); err != nil {
		return nil, err
	}
	v, err := e.T.ReadMSR(ctx, uint32(msr))
	if err != nil {
		return nil, hardwareErr(line, err, "the processor may not have this MSR")
	}
	return MSRValue{MSR: uint32(msr), Value: v}, nil
}

func cmdWrmsr(ctx context.Context, e *Env, args string) (Result, error) {
	line := strings.TrimSpace("wrmsr " + args)
	eval := func(s string) (uint64, string, error) { return e.evalFirst(ctx, s) }
	msr, v, err := parseTwo(line, args, eval)
	if err != nil {
		return nil, err
	}
	if err := checkMSR(line, msr); err != nil {
		return nil, err
	}
	if err := e.T.WriteMSR(ctx, uint32(msr), v); err != nil {
		return nil, hardwareErr(line, err, "the processor may not have this MSR, or refuse the value")
	}
	return nil, nil
}

// hardwareErr turns a refusal by the target into one line and a hint.
func hardwareErr(line string, err error, hint string) error {
	var se *target.TargetStatusError
	if errors.As(err, &se) {
		return &Error{Msg: line + ": " + se.Error(), Hints: []string{hint}}
	}
	return err
}

func portIn(name string, size int, what string) *Command {
	// The example reads an aligned port kdsim answers: the COM1 line
	// status register, the 8254's counter 0 pair, the PCI data port.
	example := map[int]string{1: " 3fd", 2: " 40", 4: " cfc"}[size]
	return &Command{
		Names: []string{name}, Group: groupData,
		Example: name + example,
		Help: fmt.Sprintf("Read a %s from an I/O port.\n\n\t%s Port\n\n", what, name) +
			"The port is an expression below 10000. kd shows the port and the value (`000003fd: 60`); KD's exact " +
			"layout is not documented.",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			line := strings.TrimSpace(name + " " + args)
			eval := func(s string) (uint64, string, error) { return e.evalFirst(ctx, s) }
			port, err := parseOne(line, args, eval)
			if err != nil {
				return nil, err
			}
			v, err := e.T.ReadPort(ctx, port, uint32(size))
			if err != nil {
				return nil, portErr(line, err)
			}
			return PortValue{Port: port, Size: size, Value: v}, nil
		},
	}
}

func portOut(name string, size int, what string) *Command {
	return &Command{
		Names: []string{name}, Group: groupData,
		Example: name + " 70 " + strings.Repeat("0", 2*size-1) + "a",
		Help: fmt.Sprintf("Write a %s to an I/O port.\n\n\t%s Port Value\n\n", what, name) +
			"Nothing is shown on success. Writing ports of a live machine drives its hardware.",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			line := strings.TrimSpace(name + " " + args)
			eval := func(s string) (uint64, string, error) { return e.evalFirst(ctx, s) }
			port, v, err := parseTwo(line, args, eval)
			if err != nil {
				return nil, err
			}
			if v >= 1<<(8*size) {
				return nil, &Error{Msg: fmt.Sprintf("%s: %x does not fit in a %s", line, v, what),
					Hints: []string{fmt.Sprintf("give a value up to %x", uint64(1)<<(8*size)-1)}}
			}
			if err := e.T.WritePort(ctx, port, uint32(size), uint32(v)); err != nil {
				return nil, portErr(line, err)
			}
			return nil, nil
		},
	}
}

func portErr(line string, err error) error {
	var se *target.TargetStatusError
	if errors.As(err, &se) {
		return hardwareErr(line, err, "the port may not exist, or need an aligned address")
	}
	if errors.Is(err, target.ErrNotStopped) {
		return err
	}
	return &Error{Msg: line + ": " + err.Error(), Hints: []string{"ports are 0-ffff; ib/ob move bytes, iw/ow words, id/od double words"}}
}

// processorArg parses !pcr's optional processor number.
func processorArg(ctx context.Context, e *Env, line, args string) (uint16, error) {
	if strings.TrimSpace(args) == "" {
		cpu, _ := e.T.Processor()
		return cpu, nil
	}
	eval := func(s string) (uint64, string, error) { return e.evalFirst(ctx, s) }
	n, err := parseOne(line, args, eval)
	if err != nil {
		return 0, err
	}
	if _, count := e.T.Processor(); n >= uint64(max(count, 1)) {
		return 0, &Error{Msg: fmt.Sprintf("%s: processor %x does not exist", line, n),
			Hints: []string{fmt.Sprintf("the target has %d processors (0-%x); ~ lists them", max(count, 1), max(count, 1)-1)}}
	}
	return uint16(n), nil
}

func cmdPCR(ctx context.Context, e *Env, args string) (Result, error) {
	line := strings.TrimSpace("!pcr " + args)
	cpu, err := processorArg(ctx, e, line, args)
	if err != nil {
		return nil, err
	}
	p, err := e.T.ReadPCR(ctx, cpu)
	if err != nil {
		return nil, err
	}
	return PCRInfo{p}, nil
}

func cmdIDT(ctx context.Context, e *Env, args string) (Result, error) {
	line := strings.TrimSpace("!idt " + args)
	vector := -1
	if strings.TrimSpace(args) != "" {
		if strings.HasPrefix(strings.TrimSpace(args), "-") {
			return nil, &Error{Msg: line + ": kd's !idt takes no options", Hints: []string{"!idt [Vector] shows the current processor's table; ~Ns switches processor"}}
		}
		eval := func(s string) (uint64, string, error) { return e.evalFirst(ctx, s) }
		v, err := parseOne(line, args, eval)
		if err != nil {
			return nil, err
		}
		if v > 0xFF {
			return nil, &Error{Msg: fmt.Sprintf("%s: %x is not an interrupt vector", line, v), Hints: []string{"vectors are 0-ff"}}
		}
		vector = int(v)
	}
	idt, err := e.T.ReadIDT(ctx, vector)
	if err != nil {
		return nil, err
	}
	return IDTInfo{idt}, nil
}

func cmdCPUInfo(ctx context.Context, e *Env, args string) (Result, error) {
	if err := noArgs("!cpuinfo", args); err != nil {
		return nil, err
	}
	_, n := e.T.Processor()
	var out CPUInfoList
	for i := uint16(0); uint32(i) < max(n, 1) && i < 1024; i++ {
		c, err := e.T.ReadCPUInfo(ctx, i)
		if err != nil {
			return nil, err
		}
		out.CPUs = append(out.CPUs, c)
	}
	return out, nil
}

func cmdDg(ctx context.Context, e *Env, args string) (Result, error) {
	line := strings.TrimSpace("dg " + args)
	if strings.TrimSpace(args) == "" {
		return nil, syntaxErr(line, "a selector is expected")
	}
	eval := func(s string) (uint64, string, error) { return e.evalFirst(ctx, s) }
	first, rest, err := eval(args)
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	last := first
	if strings.TrimSpace(rest) != "" {
		if last, err = parseOne(line, rest, eval); err != nil {
			return nil, err
		}
	}
	if first > 0xFFFF || last > 0xFFFF {
		return nil, &Error{Msg: fmt.Sprintf("%s: a selector is 16 bits", line), Hints: []string{"dg 10 shows the kernel code segment"}}
	}
	ds, err := e.T.ReadDescriptors(ctx, uint16(first), uint16(last))
	if err != nil {
		if errors.Is(err, target.ErrNotStopped) {
			return nil, err
		}
		return nil, &Error{Msg: line + ": " + err.Error(), Hints: []string{"dg FirstSelector [LastSelector], at most 256 selectors"}}
	}
	return DescriptorList{Descriptors: ds}, nil
}
