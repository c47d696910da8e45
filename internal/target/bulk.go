package target

import (
	"context"
	"errors"
	"fmt"

	"github.com/gokd/kd/kdproto"
)

// UnreadableError says the target refused to read memory at Addr.
type UnreadableError struct{ Addr uint64 }

func (e *UnreadableError) Error() string {
	return fmt.Sprintf("Unable to read memory at %08x`%08x", e.Addr>>32, uint32(e.Addr))
}

// StreamChunk is how much ReadStream and WriteStream move per call of
// their callback: 256 KiB, 67 requests of 3944 bytes.
const StreamChunk = 64 * MemoryChunk

// ReadStream reads n bytes at addr in chunks, passing each to fn in
// order, without keeping them in the cache: it serves transfers of any
// size in bounded memory. fn must not keep b, whose buffer serves the
// next chunk. At the first byte the target refuses it passes
// the readable prefix and returns *UnreadableError. A cancelled ctx stops
// it after the request in flight.
func (t *Target) ReadStream(ctx context.Context, addr, n uint64, fn func(b []byte) error) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	buf := make([]byte, min(n, StreamChunk)) // fn does not keep b: one buffer serves every chunk
	for done := uint64(0); done < n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		want := int(min(n-done, StreamChunk))
		at := addr + done
		got, err := s.eng.ReadVirtualInto(ctx, s.cpu, at, buf[:want])
		b := buf[:got]
		if len(b) > 0 {
			if ferr := fn(b); ferr != nil {
				return ferr
			}
		}
		done += uint64(len(b))
		if err != nil {
			var st kdproto.Status
			if errors.As(err, &st) {
				return &UnreadableError{Addr: addr + done}
			}
			return err
		}
	}
	return nil
}

// WriteStream writes the bytes next returns at addr, chunk after chunk,
// until next returns no bytes. It returns how many bytes were written; a
// byte the target refuses ends it with *AccessError.
func (t *Target) WriteStream(ctx context.Context, addr uint64, next func() ([]byte, error)) (uint64, error) {
	s, err := t.needStopped()
	if err != nil {
		return 0, err
	}
	s.mem.clear()
	var done uint64
	for {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		b, err := next()
		if len(b) > 0 {
			n, werr := s.eng.WriteVirtual(ctx, s.cpu, addr+done, b)
			done += uint64(n)
			if werr != nil {
				var st kdproto.Status
				if errors.As(werr, &st) {
					return done, &AccessError{Addr: addr + done}
				}
				return done, werr
			}
		}
		if err != nil || len(b) == 0 {
			return done, err
		}
	}
}
