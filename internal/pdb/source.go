package pdb

import (
	"fmt"
	"io"
	"os"
)

// source is the PDB file's bytes: either a read-only mapping of the whole
// file or an open file read with ReadAt.
type source struct {
	f    *os.File
	size int64
	mem  []byte // the mapping (or the bytes), nil when unavailable
	// mapped is set when mem is a mapping that close must undo.
	mapped bool
}

// bytesSource serves a PDB held in memory.
func bytesSource(b []byte) *source { return &source{size: int64(len(b)), mem: b} }

// openSource opens path and maps it where the system allows.
func openSource(path string) (*source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	s := &source{f: f, size: st.Size()}
	if s.size > 0 && s.size == int64(int(s.size)) {
		s.mem = mapFile(f, int(s.size)) // nil on failure: fall back to ReadAt
		s.mapped = s.mem != nil
	}
	return s, nil
}

// readAt fills p from offset off; a short read is an error.
func (s *source) readAt(p []byte, off int64) error {
	if off < 0 || off > s.size || int64(len(p)) > s.size-off {
		return errTruncated
	}
	if s.mem != nil {
		copy(p, s.mem[off:])
		return nil
	}
	_, err := s.f.ReadAt(p, off)
	if err == io.EOF {
		err = errTruncated
	}
	return err
}

// view returns n bytes at off without copying when the file is mapped;
// ok is false otherwise.
func (s *source) view(off, n int64) ([]byte, bool) {
	if s.mem == nil || off < 0 || n < 0 || off > s.size || n > s.size-off {
		return nil, false
	}
	return s.mem[off : off+n : off+n], true
}

func (s *source) close() error {
	var err error
	if s.mapped {
		err = unmapFile(s.mem)
	}
	s.mem, s.mapped = nil, false
	if s.f != nil {
		if cerr := s.f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
