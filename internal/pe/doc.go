// Package pe reads the parts of a Windows PE32 or PE32+ image that a kernel
// debugger needs: the headers (machine, timestamp, checksum, image size),
// the section table, the export directory (names, ordinals and forwarders),
// the debug directory with its CodeView RSDS record (PDB GUID, age and name,
// and the symbol-store key built from them) and the exception directory
// (the .pdata array of RUNTIME_FUNCTION entries that x64 stack unwinding
// starts from).
//
// An image is read through an io.ReaderAt in one of two layouts. In the
// Memory layout the reader is a loaded image, as the target's memory holds
// it: offset 0 is the image base and an RVA is an offset. In the File layout
// the reader is the image file on disk and RVAs are turned into file offsets
// through the section table. Structure decoding uses debug/pe's header types;
// debug/pe.NewFile itself is not used because it assumes the file layout and
// reads the COFF symbol table, which a loaded kernel image does not map.
//
// Every byte comes from a target or a file and is treated as hostile: all
// reads are bounded by the size given to Open, every count read from the
// image has a fixed ceiling, names are cut at a fixed length and any byte
// that is not printable ASCII is shown as \xNN, so that no terminal escape
// reaches the console through a name. Errors say what was being read and at
// which RVA.
package pe
