package target

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gokd/kd/kdproto"
)

// MSRs kd names in its output and the simulator offers.
const (
	MsrTSC         = 0x10
	MsrAPICBase    = 0x1B
	MsrBiosSignID  = 0x8B // microcode update signature (high 32 bits)
	MsrEFER        = 0xC0000080
	MsrSTAR        = 0xC0000081
	MsrLSTAR       = 0xC0000082
	MsrCSTAR       = 0xC0000083
	MsrSFMASK      = 0xC0000084
	MsrFSBase      = 0xC0000100
	MsrGSBase      = 0xC0000101
	MsrKernelGSBas = 0xC0000102
	MsrTSCAux      = 0xC0000103
)

// TargetStatusError is a request the target answered with a failure
// status: an MSR it has not got, a port it refused.
type TargetStatusError struct {
	What   string // "MSR c0000082", "port 3f8"
	Status kdproto.Status
}

func (e *TargetStatusError) Error() string {
	return fmt.Sprintf("the target refused %s (%s)", e.What, e.Status.String())
}

// statusErr names the target's failure status inside err, if any.
func statusErr(what string, err error) error {
	var st kdproto.Status
	if errors.As(err, &st) {
		return &TargetStatusError{What: what, Status: st}
	}
	return err
}

// ReadMSR reads a model-specific register of the current processor.
func (t *Target) ReadMSR(ctx context.Context, msr uint32) (uint64, error) {
	s, err := t.needStopped()
	if err != nil {
		return 0, err
	}
	return t.readMSROf(ctx, s, s.cpu, msr)
}

func (t *Target) readMSROf(ctx context.Context, s *session, cpu uint16, msr uint32) (uint64, error) {
	v, err := s.eng.ReadMSR(ctx, cpu, msr)
	if err != nil {
		return 0, statusErr(fmt.Sprintf("to read MSR %x", msr), err)
	}
	return v, nil
}

// WriteMSR writes a model-specific register of the current processor.
func (t *Target) WriteMSR(ctx context.Context, msr uint32, v uint64) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	if err := s.eng.WriteMSR(ctx, s.cpu, msr, v); err != nil {
		return statusErr(fmt.Sprintf("to write MSR %x", msr), err)
	}
	return nil
}

// ReadPort reads an I/O port of size 1, 2 or 4 bytes (ib, iw, id).
func (t *Target) ReadPort(ctx context.Context, port uint64, size uint32) (uint32, error) {
	s, err := t.needStopped()
	if err != nil {
		return 0, err
	}
	if err := checkPort(port, size); err != nil {
		return 0, err
	}
	v, err := s.eng.ReadIO(ctx, s.cpu, port, size)
	if err != nil {
		return 0, statusErr(fmt.Sprintf("to read port %x", port), err)
	}
	return v & uint32(mask(uint(8*size))), nil
}

// WritePort writes an I/O port of size 1, 2 or 4 bytes (ob, ow, od).
func (t *Target) WritePort(ctx context.Context, port uint64, size, v uint32) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	if err := checkPort(port, size); err != nil {
		return err
	}
	if err := s.eng.WriteIO(ctx, s.cpu, port, size, v); err != nil {
		return statusErr(fmt.Sprintf("to write port %x", port), err)
	}
	return nil
}

func checkPort(port uint64, size uint32) error {
	if size != 1 && size != 2 && size != 4 {
		return fmt.Errorf("an I/O port is read 1, 2 or 4 bytes at a time, not %d", size)
	}
	if port+uint64(size) > 0x10000 || port+uint64(size) < port {
		return fmt.Errorf("port %x is outside the x64 I/O space (0-ffff)", port)
	}
	return nil
}

// controlPointerOf reads control-space pointer which of processor cpu.
func (t *Target) controlPointerOf(ctx context.Context, s *session, cpu uint16, which uint64) (uint64, error) {
	b, err := s.eng.ReadControlSpace(ctx, cpu, which, 8)
	if err != nil {
		return 0, err
	}
	if len(b) < 8 {
		return 0, fmt.Errorf("the target sent %d bytes for control-space pointer %d, want 8", len(b), which)
	}
	return binary.LittleEndian.Uint64(b), nil
}

// Processor is one line of ~: a processor, its KPCR and KPRCB, the
// thread it runs and where.
type Processor struct {
	Number  uint16
	Current bool
	KPCR    uint64
	KPRCB   uint64
	Thread  uint64
	PC      uint64
	Symbol  string // "" when unknown
	Err     error  // what could not be read about it
}

// maxProcessors bounds ~ against a target that claims absurd counts.
const maxProcessors = 1024

// Processors lists the target's processors (~). A processor whose state
// cannot be read keeps the error in its line.
func (t *Target) Processors(ctx context.Context) ([]Processor, error) {
	s, err := t.needStopped()
	if err != nil {
		return nil, err
	}
	_, n := t.Processor()
	n = min(max(n, 1), maxProcessors)
	out := make([]Processor, 0, n)
	for i := uint16(0); uint32(i) < n; i++ {
		p := Processor{Number: i, Current: i == s.cpu}
		p.KPCR, p.Err = t.controlPointerOf(ctx, s, i, ControlKPCR)
		if p.Err == nil {
			p.KPRCB, p.Err = t.controlPointerOf(ctx, s, i, ControlKPRCB)
		}
		if p.Err == nil {
			p.Thread, p.Err = t.controlPointerOf(ctx, s, i, ControlKThread)
		}
		if p.Err == nil {
			var regs Registers
			regs, p.Err = t.registersOf(ctx, s, i)
			if p.Err == nil {
				p.PC = regs.PC()
				p.Symbol = t.symbolize(ctx, s, p.PC)
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		out = append(out, p)
	}
	return out, nil
}

// registersOf returns processor cpu's context, cached like the current one.
func (t *Target) registersOf(ctx context.Context, s *session, cpu uint16) (Registers, error) {
	if cx, ok := s.contexts[cpu]; ok {
		return Registers{cx}, nil
	}
	b, err := s.eng.GetContext(ctx, cpu)
	if err != nil {
		return Registers{}, err
	}
	if len(b) < kdproto.AMD64ContextSize {
		return Registers{}, fmt.Errorf("the target sent a %d-byte CONTEXT, want %d", len(b), kdproto.AMD64ContextSize)
	}
	cx := kdproto.Context{Regs: kdproto.AMD64Regs, Raw: b}
	if s.contexts == nil {
		s.contexts = make(map[uint16]kdproto.Context)
	}
	s.contexts[cpu] = cx
	return Registers{cx}, nil
}
