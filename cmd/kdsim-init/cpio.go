package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// File types of a cpio entry's mode (as in <sys/stat.h>).
const (
	modeDir  = 0o040000
	modeChar = 0o020000
	modeFile = 0o100000
)

// cpioEntry is one member of a newc ("070701") archive, the format the
// Linux kernel unpacks as an initramfs. Owner, group and times are 0, so
// the archive depends only on its contents.
type cpioEntry struct {
	Name                 string // relative path, no leading slash
	Mode                 uint32 // file type and permission bits
	RdevMajor, RdevMinor uint32 // device number of a device node
	Data                 []byte // contents of a regular file
}

// cpioWriter writes a newc archive: per entry a 110-byte ASCII header of
// thirteen 8-digit hex fields, the NUL-terminated name padded to 4 bytes,
// the data padded to 4 bytes; a TRAILER!!! entry ends the archive.
type cpioWriter struct {
	w   *bufio.Writer
	ino uint32
	err error
}

func newCpioWriter(w io.Writer) *cpioWriter { return &cpioWriter{w: bufio.NewWriter(w)} }

func (c *cpioWriter) add(e cpioEntry) error {
	if e.Name == "" || strings.HasPrefix(e.Name, "/") || strings.ContainsRune(e.Name, 0) || len(e.Name) > 4095 {
		return fmt.Errorf("%w: %q", errCpioName, e.Name)
	}
	if e.Mode&0o170000 != modeFile && len(e.Data) > 0 {
		return fmt.Errorf("cpio entry %q: only regular files have data", e.Name)
	}
	if uint64(len(e.Data)) > 0xFFFFFFFF {
		return fmt.Errorf("cpio entry %q: %d bytes is too large for newc", e.Name, len(e.Data))
	}
	c.ino++
	nlink := uint32(1)
	if e.Mode&0o170000 == modeDir {
		nlink = 2
	}
	c.header(c.ino, e.Mode, nlink, uint32(len(e.Data)), e.RdevMajor, e.RdevMinor, e.Name)
	c.write(e.Data)
	c.pad(len(e.Data))
	return c.err
}

// close writes the trailer and flushes.
func (c *cpioWriter) close() error {
	c.header(0, 0, 1, 0, 0, 0, "TRAILER!!!")
	if c.err != nil {
		return c.err
	}
	return c.w.Flush()
}

func (c *cpioWriter) header(ino, mode, nlink, size, rmaj, rmin uint32, name string) {
	// magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
	// devminor, rdevmajor, rdevminor, namesize, check
	h := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, 0, 0, nlink, 0, size, 0, 0, rmaj, rmin, len(name)+1, 0)
	c.write([]byte(h))
	c.write([]byte(name))
	c.write([]byte{0})
	c.pad(len(h) + len(name) + 1)
}

func (c *cpioWriter) pad(n int) {
	if r := n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

func (c *cpioWriter) write(b []byte) {
	if c.err == nil {
		_, c.err = c.w.Write(b)
	}
}
