package kdproto

import (
	"context"
	"fmt"
	"slices"
)

// Typed requests over Engine.Request, one per manipulate API. Each returns
// a *RequestError wrapping the target's Status when ReturnStatus is not a
// success value, so errors.As(err, new(Status)) finds it.

func (e *Engine) call(ctx context.Context, api API, cpu uint16, u Union, data []byte) (Manipulate, error) {
	r, err := e.Request(ctx, NewManipulate(api, cpu, u, data))
	if err != nil {
		return r, err
	}
	if api.HasReply() && !r.ReturnStatus.Success() {
		return r, &RequestError{API: api, Err: r.ReturnStatus}
	}
	return r, nil
}

// GetVersion asks for DBGKD_GET_VERSION64.
func (e *Engine) GetVersion(ctx context.Context) (Version, error) {
	r, err := e.call(ctx, APIGetVersion, 0, nil, nil)
	if err != nil {
		return Version{}, err
	}
	return r.Version(), nil
}

// MemoryError reports a memory transfer that stopped early: Done bytes from
// Address on were transferred.
type MemoryError struct {
	Address uint64
	Done    int
	Err     error
}

func (e *MemoryError) Error() string {
	return fmt.Sprintf("memory access at %#x failed after %d bytes: %v", e.Address, e.Done, e.Err)
}

// Unwrap returns the cause.
func (e *MemoryError) Unwrap() error { return e.Err }

// readMemory reads n bytes in MaxTransfer chunks, holding the request slot
// throughout so that each reply's ACK travels with the next request. The
// link's reader copies each reply's data straight into the result. On
// failure it returns the bytes read before the failing one and a
// *MemoryError.
func (e *Engine) readMemory(ctx context.Context, api API, cpu uint16, addr uint64, n int, mode uint32) ([]byte, error) {
	if err := e.acquire(ctx); err != nil {
		return nil, &MemoryError{Address: addr, Err: &RequestError{API: api, Err: err}}
	}
	defer e.release()
	out := make([]byte, 0, min(n, 1<<20))
	for len(out) < n {
		chunk := min(n-len(out), MaxTransfer)
		out = slices.Grow(out, chunk)
		got, err := e.readChunk(ctx, api, cpu, addr+uint64(len(out)), out[len(out):len(out)+chunk:len(out)+chunk], mode)
		out = out[:len(out)+got] // the data is already there
		if err != nil {
			return out, &MemoryError{Address: addr, Done: len(out), Err: err}
		}
	}
	return out, nil
}

// readMemoryInto is readMemory into dst (all of it): it returns how many
// bytes it read.
func (e *Engine) readMemoryInto(ctx context.Context, api API, cpu uint16, addr uint64, dst []byte, mode uint32) (int, error) {
	if err := e.acquire(ctx); err != nil {
		return 0, &MemoryError{Address: addr, Err: &RequestError{API: api, Err: err}}
	}
	defer e.release()
	done := 0
	for done < len(dst) {
		chunk := min(len(dst)-done, MaxTransfer)
		got, err := e.readChunk(ctx, api, cpu, addr+uint64(done), dst[done:done+chunk:done+chunk], mode)
		done += got
		if err != nil {
			return done, &MemoryError{Address: addr, Done: done, Err: err}
		}
	}
	return done, nil
}

// readChunk reads len(buf) bytes (at most MaxTransfer) at addr into buf
// and returns how many the target gave; fewer than asked is an error.
func (e *Engine) readChunk(ctx context.Context, api API, cpu uint16, addr uint64, buf []byte, mode uint32) (int, error) {
	chunk := len(buf)
	r, err := e.request(ctx, NewManipulate(api, cpu, Memory{Address: addr, TransferCount: uint32(chunk), ActualBytes: mode}, nil), buf)
	if err != nil {
		return 0, err
	}
	got := len(r.Data)
	if actual := r.Memory().ActualBytes; uint64(actual) < uint64(got) {
		got = int(actual)
	}
	got = min(got, chunk)
	if !r.ReturnStatus.Success() || got < chunk {
		st := error(r.ReturnStatus)
		if r.ReturnStatus.Success() {
			st = StatusUnsuccessful
		}
		return got, &RequestError{API: api, Err: st}
	}
	return got, nil
}

// writeMemory writes data in MaxTransfer chunks, holding the request slot
// throughout so that each reply's ACK travels with the next request.
func (e *Engine) writeMemory(ctx context.Context, api API, cpu uint16, addr uint64, data []byte, mode uint32) (int, error) {
	if err := e.acquire(ctx); err != nil {
		return 0, &MemoryError{Address: addr, Err: &RequestError{API: api, Err: err}}
	}
	defer e.release()
	done := 0
	for done < len(data) {
		chunk := data[done:min(len(data), done+MaxTransfer)]
		at := addr + uint64(done)
		r, err := e.request(ctx, NewManipulate(api, cpu, Memory{Address: at, TransferCount: uint32(len(chunk)), ActualBytes: mode}, chunk), nil)
		if err != nil {
			return done, &MemoryError{Address: addr, Done: done, Err: err}
		}
		n := len(chunk)
		if actual := r.Memory().ActualBytes; uint64(actual) < uint64(n) {
			n = int(actual)
		}
		done += n
		if !r.ReturnStatus.Success() || n < len(chunk) {
			st := error(r.ReturnStatus)
			if r.ReturnStatus.Success() {
				st = StatusUnsuccessful
			}
			return done, &MemoryError{Address: addr, Done: done, Err: &RequestError{API: api, Err: st}}
		}
	}
	return done, nil
}

// ReadVirtual reads n bytes of virtual memory as seen by processor cpu.
func (e *Engine) ReadVirtual(ctx context.Context, cpu uint16, addr uint64, n int) ([]byte, error) {
	return e.readMemory(ctx, APIReadVirtualMemory, cpu, addr, n, 0)
}

// ReadVirtualInto reads len(dst) bytes of virtual memory into dst, as
// ReadVirtual does, and returns how many it read: a stream of reads can
// reuse one buffer.
func (e *Engine) ReadVirtualInto(ctx context.Context, cpu uint16, addr uint64, dst []byte) (int, error) {
	return e.readMemoryInto(ctx, APIReadVirtualMemory, cpu, addr, dst, 0)
}

// WriteVirtual writes data to virtual memory and returns the bytes written.
func (e *Engine) WriteVirtual(ctx context.Context, cpu uint16, addr uint64, data []byte) (int, error) {
	return e.writeMemory(ctx, APIWriteVirtualMemory, cpu, addr, data, 0)
}

// Physical memory caching modes.
const (
	CacheDefault        = 0
	CacheCached         = 1
	CacheUncached       = 2
	CacheWriteCombined  = 3
	ControlSpaceKPCR    = 0
	ControlSpaceKPRCB   = 1
	ControlSpaceSpecial = 2
	ControlSpaceKThread = 3
)

// ReadPhysical reads physical memory with a caching mode (CacheDefault...).
func (e *Engine) ReadPhysical(ctx context.Context, addr uint64, n int, mode uint32) ([]byte, error) {
	return e.readMemory(ctx, APIReadPhysicalMemory, 0, addr, n, mode)
}

// WritePhysical writes physical memory with a caching mode.
func (e *Engine) WritePhysical(ctx context.Context, addr uint64, data []byte, mode uint32) (int, error) {
	return e.writeMemory(ctx, APIWritePhysicalMemory, 0, addr, data, mode)
}

// ReadControlSpace reads processor control space (on x64 addr selects
// KPCR, KPRCB, special registers or KTHREAD: ControlSpace*).
func (e *Engine) ReadControlSpace(ctx context.Context, cpu uint16, addr uint64, n int) ([]byte, error) {
	return e.readMemory(ctx, APIReadControlSpace, cpu, addr, n, 0)
}

// WriteControlSpace writes processor control space.
func (e *Engine) WriteControlSpace(ctx context.Context, cpu uint16, addr uint64, data []byte) (int, error) {
	return e.writeMemory(ctx, APIWriteControlSpace, cpu, addr, data, 0)
}

// GetContext returns the CONTEXT record of processor cpu.
func (e *Engine) GetContext(ctx context.Context, cpu uint16) ([]byte, error) {
	r, err := e.call(ctx, APIGetContext, cpu, nil, nil)
	if err != nil {
		return nil, err
	}
	return r.Data, nil
}

// SetContext replaces the CONTEXT record of processor cpu. The target
// accepts it only after a GetContext in the same stop.
func (e *Engine) SetContext(ctx context.Context, cpu uint16, flags uint32, record []byte) error {
	_, err := e.call(ctx, APISetContext, cpu, Uint32Field(flags), record)
	return err
}

// GetContextEx reads n bytes of the CONTEXT record from offset off.
func (e *Engine) GetContextEx(ctx context.Context, cpu uint16, off, n uint32) ([]byte, error) {
	r, err := e.call(ctx, APIGetContextEx, cpu, ContextEx{Offset: off, ByteCount: n}, nil)
	if err != nil {
		return nil, err
	}
	d := r.Data
	if c := r.ContextEx().BytesCopied; uint64(c) < uint64(len(d)) {
		d = d[:c]
	}
	return d, nil
}

// SetContextEx writes data into the CONTEXT record at offset off.
func (e *Engine) SetContextEx(ctx context.Context, cpu uint16, off uint32, data []byte) error {
	_, err := e.call(ctx, APISetContextEx, cpu, ContextEx{Offset: off, ByteCount: uint32(len(data))}, data)
	return err
}

// WriteBreakPoint plants a software breakpoint and returns its handle.
func (e *Engine) WriteBreakPoint(ctx context.Context, cpu uint16, addr uint64) (uint32, error) {
	r, err := e.call(ctx, APIWriteBreakPoint, cpu, BreakPoint{Address: addr}, nil)
	if err != nil {
		return 0, err
	}
	return r.BreakPoint().Handle, nil
}

// RestoreBreakPoint removes the breakpoint with the given handle.
func (e *Engine) RestoreBreakPoint(ctx context.Context, cpu uint16, handle uint32) error {
	_, err := e.call(ctx, APIRestoreBreakPoint, cpu, Uint32Field(handle), nil)
	return err
}

// Continue resumes the target with DbgKdContinueApi.
func (e *Engine) Continue(ctx context.Context, status Status) error {
	_, err := e.call(ctx, APIContinue, 0, Uint32Field(status), nil)
	return err
}

// Continue2 resumes the target with DbgKdContinueApi2: go (TraceFlag 0) or
// single step (TraceFlag 1). A SymbolStart of 1 leaves the target's symbol
// range unchanged.
func (e *Engine) Continue2(ctx context.Context, c Continue2) error {
	_, err := e.call(ctx, APIContinue2, 0, c, nil)
	return err
}

// Go resumes a stopped target (Continue2, DBG_CONTINUE, no trace).
func (e *Engine) Go(ctx context.Context) error {
	return e.Continue2(ctx, Continue2{Status: DbgContinue, SymbolStart: 1})
}

// Step single-steps the target (Continue2 with TraceFlag set).
func (e *Engine) Step(ctx context.Context) error {
	return e.Continue2(ctx, Continue2{Status: DbgContinue, TraceFlag: 1, SymbolStart: 1})
}

// ReadIO reads an I/O port of size 1, 2 or 4.
func (e *Engine) ReadIO(ctx context.Context, cpu uint16, port uint64, size uint32) (uint32, error) {
	r, err := e.call(ctx, APIReadIoSpace, cpu, IO{Address: port, DataSize: size}, nil)
	if err != nil {
		return 0, err
	}
	return r.IO().Value, nil
}

// WriteIO writes an I/O port of size 1, 2 or 4.
func (e *Engine) WriteIO(ctx context.Context, cpu uint16, port uint64, size, value uint32) error {
	_, err := e.call(ctx, APIWriteIoSpace, cpu, IO{Address: port, DataSize: size, Value: value}, nil)
	return err
}

// ReadIOExtended reads I/O space on a given bus.
func (e *Engine) ReadIOExtended(ctx context.Context, cpu uint16, io IOExtended) (uint32, error) {
	r, err := e.call(ctx, APIReadIoSpaceExtended, cpu, io, nil)
	if err != nil {
		return 0, err
	}
	return r.IOExtended().Value, nil
}

// WriteIOExtended writes I/O space on a given bus.
func (e *Engine) WriteIOExtended(ctx context.Context, cpu uint16, io IOExtended) error {
	_, err := e.call(ctx, APIWriteIoSpaceExtended, cpu, io, nil)
	return err
}

// ReadMSR reads a model-specific register.
func (e *Engine) ReadMSR(ctx context.Context, cpu uint16, msr uint32) (uint64, error) {
	r, err := e.call(ctx, APIReadMachineSpecificRegister, cpu, MSR{MSR: msr}, nil)
	if err != nil {
		return 0, err
	}
	return r.MSR().Value, nil
}

// WriteMSR writes a model-specific register.
func (e *Engine) WriteMSR(ctx context.Context, cpu uint16, msr uint32, v uint64) error {
	_, err := e.call(ctx, APIWriteMachineSpecificRegister, cpu, MSR{MSR: msr, Value: v}, nil)
	return err
}

// SwitchProcessor asks processor cpu to report; the target answers with a
// new state change from that processor.
func (e *Engine) SwitchProcessor(ctx context.Context, cpu uint16) error {
	_, err := e.call(ctx, APISwitchProcessor, cpu, nil, nil)
	return err
}

// Reboot reboots the target; the link drops and the target comes back as a
// fresh boot.
func (e *Engine) Reboot(ctx context.Context) error {
	_, err := e.call(ctx, APIReboot, 0, nil, nil)
	return err
}

// CauseBugCheck makes the target bug-check (MANUALLY_INITIATED_CRASH).
func (e *Engine) CauseBugCheck(ctx context.Context) error {
	_, err := e.call(ctx, APICauseBugCheck, 0, nil, nil)
	return err
}

// QueryMemory asks which address space addr belongs to and its protection.
func (e *Engine) QueryMemory(ctx context.Context, addr uint64) (QueryMemory, error) {
	r, err := e.call(ctx, APIQueryMemory, 0, QueryMemory{Address: addr}, nil)
	if err != nil {
		return QueryMemory{}, err
	}
	return r.QueryMemory(), nil
}

// SearchMemory searches length bytes from addr for pattern and returns
// where it was found.
func (e *Engine) SearchMemory(ctx context.Context, addr, length uint64, pattern []byte) (uint64, error) {
	r, err := e.call(ctx, APISearchMemory, 0, SearchMemory{Address: addr, Length: length, PatternLength: uint32(len(pattern))}, pattern)
	if err != nil {
		return 0, err
	}
	return r.SearchMemory().Address, nil
}

// FillMemory fills length bytes from addr with pattern (flags 1 virtual, 2 physical).
func (e *Engine) FillMemory(ctx context.Context, addr uint64, length uint32, flags uint16, pattern []byte) error {
	_, err := e.call(ctx, APIFillMemory, 0, FillMemory{Address: addr, Length: length, Flags: flags, PatternLength: uint16(len(pattern))}, pattern)
	return err
}

// GetBusData reads bus configuration data (for example PCI config space).
func (e *Engine) GetBusData(ctx context.Context, b BusData) ([]byte, error) {
	r, err := e.call(ctx, APIGetBusData, 0, b, nil)
	if err != nil {
		return nil, err
	}
	d := r.Data
	if n := r.BusData().Length; uint64(n) < uint64(len(d)) {
		d = d[:n]
	}
	return d, nil
}

// SetBusData writes bus configuration data.
func (e *Engine) SetBusData(ctx context.Context, b BusData, data []byte) error {
	b.Length = uint32(len(data))
	_, err := e.call(ctx, APISetBusData, 0, b, data)
	return err
}
