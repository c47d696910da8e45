package sim

import "bytes"

// framedPrologue is asm.prologue's bytes: push rbp; mov rbp,rsp;
// sub rsp,20h.
var framedPrologue = []byte{0x55, 0x48, 0x89, 0xE5, 0x48, 0x83, 0xEC, 0x20}

// unwindInfo describes framedPrologue for the Windows unwinder: version 1,
// no handler, an 8-byte prolog, two codes in reverse prolog order
// (UWOP_ALLOC_SMALL 20h ending at offset 8, UWOP_PUSH_NONVOL RBP ending at
// offset 1). RBP is set up but not declared as a frame register, since
// the functions never move RSP after their prolog.
var unwindInfo = []byte{0x01, 0x08, 0x02, 0x00, 0x08, 0x32, 0x01, 0x50}

// unwindData writes the image's .pdata into its .rdata page rd (at rdRVA)
// and returns the exception directory's size. Every function that starts
// with framedPrologue gets a RUNTIME_FUNCTION covering it up to the next
// function (int3 padding included); the others (int3; ret, or code that
// never returns) are leaf functions and, as on Windows, have none.
func unwindData(rd []byte, a *asm, rdRVA uint32) uint32 {
	copy(rd[rdataUnwind:], unwindInfo)
	n := 0
	for i, start := range a.fns {
		end := len(a.buf)
		if i+1 < len(a.fns) {
			end = a.fns[i+1]
		}
		if !bytes.HasPrefix(a.buf[start:end], framedPrologue) {
			continue
		}
		e := rd[rdataPdata+12*n:]
		if len(e) < 12 {
			panic("sim: .pdata does not fit in .rdata") // the code is static; this cannot happen
		}
		le.PutUint32(e[0:], rvaText+uint32(start))
		le.PutUint32(e[4:], rvaText+uint32(end))
		le.PutUint32(e[8:], rdRVA+rdataUnwind)
		n++
	}
	return uint32(12 * n)
}
