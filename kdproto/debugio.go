package kdproto

import "fmt"

// DebugIO is DBGKD_DEBUG_IO (packet type 3): a 0x10-byte header and the string.
//
//	0x00 ApiNumber (32), 0x04 ProcessorLevel (16), 0x06 Processor (16),
//	0x08 LengthOfString / LengthOfPromptString (32),
//	0x0C LengthOfStringRead (32, GetString only), 0x10 string bytes
type DebugIO struct {
	API            API // APIPrintString or APIGetString
	ProcessorLevel uint16
	Processor      uint16
	Length         uint32 // LengthOfString or LengthOfPromptString
	LengthRead     uint32 // GetString: the most bytes the target accepts in the answer
	Data           []byte
}

// ParseDebugIO decodes a DEBUG_IO payload. Data aliases b and is the whole
// remainder of the packet (hosts should trust ByteCount over Length).
func ParseDebugIO(b []byte) (DebugIO, error) {
	if len(b) < DebugIOSize {
		return DebugIO{}, fmt.Errorf("%w: debug I/O payload is %d bytes, want at least %d", ErrShortPayload, len(b), DebugIOSize)
	}
	return DebugIO{
		API: API(le.Uint32(b)), ProcessorLevel: le.Uint16(b[4:]), Processor: le.Uint16(b[6:]),
		Length: le.Uint32(b[8:]), LengthRead: le.Uint32(b[12:]), Data: b[DebugIOSize:len(b):len(b)],
	}, nil
}

// Append appends the payload of d to dst.
func (d *DebugIO) Append(dst []byte) []byte {
	dst = le.AppendUint32(dst, uint32(d.API))
	dst = le.AppendUint16(dst, d.ProcessorLevel)
	dst = le.AppendUint16(dst, d.Processor)
	dst = le.AppendUint32(dst, d.Length)
	dst = le.AppendUint32(dst, d.LengthRead)
	return append(dst, d.Data...)
}

// Text returns the string bytes, bounded by both Length and the data.
func (d *DebugIO) Text() []byte {
	n := int(d.Length)
	if n > len(d.Data) || n < 0 {
		n = len(d.Data)
	}
	return d.Data[:n]
}

// FileIO is the fixed header of DBGKD_FILE_IO (packet type 11).
//
//	0x00 ApiNumber (32), 0x04 Status (32), 0x08 union (7 x 64)
type FileIO struct {
	API    API
	Status Status
	U      [0x38]byte
	Data   []byte
}

// ParseFileIO decodes a FILE_IO payload.
func ParseFileIO(b []byte) (FileIO, error) {
	if len(b) < FileIOSize {
		return FileIO{}, fmt.Errorf("%w: file I/O payload is %d bytes, want at least %d", ErrShortPayload, len(b), FileIOSize)
	}
	f := FileIO{API: API(le.Uint32(b)), Status: Status(le.Uint32(b[4:])), Data: b[FileIOSize:len(b):len(b)]}
	copy(f.U[:], b[8:FileIOSize])
	return f, nil
}

// Append appends the payload of f to dst.
func (f *FileIO) Append(dst []byte) []byte {
	dst = le.AppendUint32(dst, uint32(f.API))
	dst = le.AppendUint32(dst, uint32(f.Status))
	dst = append(dst, f.U[:]...)
	return append(dst, f.Data...)
}
