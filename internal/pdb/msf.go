package pdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// msfMagic starts every MSF 7.00 file.
var msfMagic = []byte("Microsoft C/C++ MSF 7.00\r\n\x1aDS\x00\x00\x00")

// smallMagic starts the older "small MSF" (PDB 2.00) container.
var smallMagic = []byte("Microsoft C/C++ program database 2.00\r\n")

const (
	superBlockSize = 56
	nilStreamSize  = 0xFFFFFFFF
	// maxStreams bounds the directory's stream count; real PDBs have a
	// few thousand (one per module).
	maxStreams = 1 << 20
)

var errTruncated = errors.New("file is truncated")

// msf is the container: the block size and, per stream, its size and
// the file blocks that hold it.
type msf struct {
	src       *source
	blockSize uint32
	numBlocks uint32
	sizes     []uint32   // per stream; nil streams have size 0
	blocks    [][]uint32 // per stream
}

// FormatError reports a PDB file that is damaged, truncated or not a PDB.
type FormatError struct {
	What string // the structure being read: "superblock", "DBI stream", ...
	Msg  string
}

func (e *FormatError) Error() string { return "bad PDB " + e.What + ": " + e.Msg }

func formatErr(what, format string, args ...any) error {
	return &FormatError{What: what, Msg: fmt.Sprintf(format, args...)}
}

// readMSF reads the superblock and the stream directory.
func readMSF(src *source) (*msf, error) {
	var sb [superBlockSize]byte
	if err := src.readAt(sb[:], 0); err != nil {
		if src.size >= int64(len(smallMagic)) {
			var head [64]byte
			n := min(int64(len(head)), src.size)
			if src.readAt(head[:n], 0) == nil && bytes.HasPrefix(head[:n], smallMagic) {
				return nil, formatErr("superblock", "PDB 2.00 (small MSF) files are not supported")
			}
		}
		return nil, formatErr("superblock", "file is %d bytes, too short for a PDB", src.size)
	}
	if !bytes.Equal(sb[:32], msfMagic) {
		if bytes.HasPrefix(sb[:], smallMagic) {
			return nil, formatErr("superblock", "PDB 2.00 (small MSF) files are not supported")
		}
		return nil, formatErr("superblock", "no MSF 7.00 signature: not a PDB file")
	}
	le := binary.LittleEndian
	m := &msf{src: src, blockSize: le.Uint32(sb[0x20:]), numBlocks: le.Uint32(sb[0x28:])}
	dirBytes := le.Uint32(sb[0x2C:])
	mapAddr := le.Uint32(sb[0x34:])
	switch m.blockSize {
	case 512, 1024, 2048, 4096:
	default:
		return nil, formatErr("superblock", "block size %d is not 512, 1024, 2048 or 4096", m.blockSize)
	}
	if int64(m.numBlocks)*int64(m.blockSize) > src.size {
		return nil, formatErr("superblock", "%d blocks of %d bytes but the file has only %d bytes: %v",
			m.numBlocks, m.blockSize, src.size, errTruncated)
	}
	if dirBytes < 4 || uint64(dirBytes) > uint64(m.numBlocks)*uint64(m.blockSize) {
		return nil, formatErr("superblock", "stream directory size %d does not fit the file", dirBytes)
	}
	if mapAddr == 0 || mapAddr >= m.numBlocks {
		return nil, formatErr("superblock", "directory block map at block %d, file has %d blocks", mapAddr, m.numBlocks)
	}
	// The directory block numbers lie in order from block mapAddr on.
	nDir := m.blocksFor(dirBytes)
	if int64(mapAddr)*int64(m.blockSize)+int64(nDir)*4 > int64(m.numBlocks)*int64(m.blockSize) {
		return nil, formatErr("superblock", "directory block map runs past the end of the file")
	}
	mapBuf := make([]byte, nDir*4)
	if err := src.readAt(mapBuf, int64(mapAddr)*int64(m.blockSize)); err != nil {
		return nil, formatErr("stream directory", "reading the block map: %v", err)
	}
	dirBlocks := make([]uint32, nDir)
	for i := range dirBlocks {
		dirBlocks[i] = le.Uint32(mapBuf[4*i:])
	}
	dir, err := m.gather(dirBlocks, dirBytes, "stream directory")
	if err != nil {
		return nil, err
	}
	if err := m.parseDirectory(dir); err != nil {
		return nil, err
	}
	return m, nil
}

// blocksFor is the number of blocks that hold n bytes.
func (m *msf) blocksFor(n uint32) uint32 {
	return uint32((uint64(n) + uint64(m.blockSize) - 1) / uint64(m.blockSize))
}

// parseDirectory decodes stream sizes and block lists.
func (m *msf) parseDirectory(dir []byte) error {
	le := binary.LittleEndian
	n := le.Uint32(dir)
	if n > maxStreams || uint64(n)*4 > uint64(len(dir)-4) {
		return formatErr("stream directory", "%d streams do not fit a %d-byte directory", n, len(dir))
	}
	m.sizes = make([]uint32, n)
	m.blocks = make([][]uint32, n)
	pos := 4 + int(n)*4
	for i := range m.sizes {
		sz := le.Uint32(dir[4+4*i:])
		if sz == nilStreamSize {
			continue
		}
		nb := int(m.blocksFor(sz))
		if uint32(nb) > m.numBlocks {
			return formatErr("stream directory", "stream %d claims %d bytes, more than the file", i, sz)
		}
		if nb > (len(dir)-pos)/4 {
			return formatErr("stream directory", "stream %d (%d bytes) needs %d blocks, directory lists fewer", i, sz, nb)
		}
		bl := make([]uint32, nb)
		for j := range bl {
			b := le.Uint32(dir[pos+4*j:])
			if b == 0 || b >= m.numBlocks {
				return formatErr("stream directory", "stream %d uses block %d, file has %d blocks", i, b, m.numBlocks)
			}
			bl[j] = b
		}
		pos += 4 * nb
		m.sizes[i] = sz
		m.blocks[i] = bl
	}
	return nil
}

// gather assembles size bytes from the listed blocks: in place when the
// blocks are consecutive and the file is mapped, else into one buffer.
func (m *msf) gather(blocks []uint32, size uint32, what string) ([]byte, error) {
	if size == 0 {
		return nil, nil
	}
	bs := int64(m.blockSize)
	contiguous := true
	for i := 1; i < len(blocks); i++ {
		if blocks[i] != blocks[i-1]+1 {
			contiguous = false
			break
		}
	}
	if contiguous {
		if v, ok := m.src.view(int64(blocks[0])*bs, int64(size)); ok {
			return v, nil
		}
	}
	buf := make([]byte, size)
	for i, b := range blocks {
		lo := int64(i) * bs
		hi := min(lo+bs, int64(size))
		if err := m.src.readAt(buf[lo:hi], int64(b)*bs); err != nil {
			return nil, formatErr(what, "reading block %d: %v", b, err)
		}
	}
	return buf, nil
}

// numStreams is the number of streams in the directory.
func (m *msf) numStreams() int { return len(m.sizes) }

// stream returns the bytes of stream i; a missing stream is an error
// naming what was wanted.
func (m *msf) stream(i int, what string) ([]byte, error) {
	if i < 0 || i >= len(m.sizes) {
		return nil, formatErr(what, "stream %d does not exist (the file has %d streams)", i, len(m.sizes))
	}
	return m.gather(m.blocks[i], m.sizes[i], what)
}
