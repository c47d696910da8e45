//go:build unix

package pdb

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps the file read-only; nil means "use ReadAt instead".
func mapFile(f *os.File, size int) []byte {
	b, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil
	}
	return b
}

func unmapFile(b []byte) error { return unix.Munmap(b) }
