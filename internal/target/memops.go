package target

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/gokd/kd/kdproto"
)

// Whole-range memory operations: search and fill. Each first asks the
// target to do the work (DbgKdSearchMemoryApi, DbgKdFillMemoryApi), which
// costs one request instead of a read or write of the whole range; a
// target that does not offer the API (it answers anything but success or
// "not found") gets the same result from maximal reads or writes.

// searchReadChunk is how much a host-side search reads at a time.
const searchReadChunk = 1 << 20

// MaxPattern bounds a search or fill pattern.
const MaxPattern = 1024

// SearchMemory finds the first occurrence of pattern that starts in
// [addr, addr+length) and lies in readable memory. found is false when
// there is none. viaTarget says whether the target's search API answered.
func (t *Target) SearchMemory(ctx context.Context, addr, length uint64, pattern []byte) (at uint64, found, viaTarget bool, err error) {
	s, err := t.needStopped()
	if err != nil {
		return 0, false, false, err
	}
	if len(pattern) == 0 || len(pattern) > MaxPattern {
		return 0, false, false, fmt.Errorf("a pattern of %d bytes (1 to %d)", len(pattern), MaxPattern)
	}
	if length == 0 {
		return 0, false, false, nil
	}
	if !s.noSearchAPI {
		a, err := s.eng.SearchMemory(ctx, addr, length, pattern)
		var st kdproto.Status
		switch {
		case err == nil:
			if a-addr < length {
				return a, true, true, nil
			}
			// An answer outside the range: trust the reads instead.
			s.noSearchAPI = true
		case errors.As(err, &st) && st == kdproto.StatusUnsuccessful:
			return 0, false, true, nil
		case errors.As(err, &st):
			s.noSearchAPI = true
		default:
			return 0, false, false, err
		}
	}
	a, ok, err := t.searchByReads(ctx, s, addr, length, pattern)
	return a, ok, false, err
}

// searchByReads searches with maximal reads through the cache, one
// chunk (plus the pattern's length of overlap) at a time. A match lies
// entirely inside [addr, addr+length), as the target's search finds it.
func (t *Target) searchByReads(ctx context.Context, s *session, addr, length uint64, pattern []byte) (uint64, bool, error) {
	plen := uint64(len(pattern))
	for off := uint64(0); off+plen <= length; off += searchReadChunk {
		if err := ctx.Err(); err != nil {
			return 0, false, err
		}
		n := min(length-off, searchReadChunk+plen-1)
		data, ok, err := t.readMemory(ctx, s, addr+off, int(n))
		if err != nil {
			return 0, false, err
		}
		for i := 0; ; {
			j := bytes.Index(data[i:], pattern)
			if j < 0 || uint64(i+j) >= searchReadChunk {
				break
			}
			k := i + j
			if allTrue(ok[k : k+len(pattern)]) {
				return addr + off + uint64(k), true, nil
			}
			i = k + 1
		}
	}
	return 0, false, nil
}

func allTrue(b []bool) bool {
	for _, v := range b {
		if !v {
			return false
		}
	}
	return true
}

// FillMemory writes pattern repeated over length bytes at addr. It
// returns viaTarget when the target's fill API did the work.
func (t *Target) FillMemory(ctx context.Context, addr, length uint64, pattern []byte) (viaTarget bool, err error) {
	s, err := t.needStopped()
	if err != nil {
		return false, err
	}
	if len(pattern) == 0 || len(pattern) > MaxPattern {
		return false, fmt.Errorf("a pattern of %d bytes (1 to %d)", len(pattern), MaxPattern)
	}
	s.mem.clear()
	if !s.noFillAPI && length <= 1<<31 {
		err := s.eng.FillMemory(ctx, addr, uint32(length), 1, pattern)
		var st kdproto.Status
		switch {
		case err == nil:
			return true, nil
		case errors.As(err, &st):
			// Not offered, or it stopped at an unwritable page: the
			// writes below find out which, and where.
			if st != kdproto.StatusUnsuccessful {
				s.noFillAPI = true
			}
		default:
			return false, err
		}
	}
	// Writes of whole chunks of the repeated pattern.
	const chunk = StreamChunk
	for done := uint64(0); done < length; {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		n := min(length-done, chunk)
		phase := done % uint64(len(pattern))
		src := make([]byte, n)
		for i := range src {
			src[i] = pattern[(phase+uint64(i))%uint64(len(pattern))]
		}
		if err := t.WriteMemory(ctx, addr+done, src); err != nil {
			return false, err
		}
		done += n
	}
	return false, nil
}
