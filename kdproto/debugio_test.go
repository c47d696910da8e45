package kdproto_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	. "github.com/gokd/kd/kdproto"
)

func TestDebugIORoundTrip(t *testing.T) {
	tests := []struct {
		name string
		d    DebugIO
		wire string
	}{
		{"print string", DebugIO{API: APIPrintString, ProcessorLevel: 6, Processor: 1, Length: 6, Data: []byte("hello\n")}, `
			30320000 0600 0100 | 0x00 ApiNumber PrintString, ProcessorLevel, Processor
			06000000           | 0x08 LengthOfString
			00000000           | 0x0C unused for PrintString
			68656c6c6f0a       | 0x10 "hello\n"`},
		{"get string prompt", DebugIO{API: APIGetString, Length: 4, LengthRead: 0x200, Data: []byte("kd> ")}, `
			31320000 0000 0000 | 0x00 ApiNumber GetString
			04000000           | 0x08 LengthOfPromptString
			00020000           | 0x0C LengthOfStringRead (the most the target accepts)
			6b643e20           | 0x10 "kd> "`},
		{"get string answer", DebugIO{API: APIGetString, LengthRead: 3, Data: []byte("yes")}, `
			31320000 0000 0000 00000000 03000000
			796573`},
		{"empty", DebugIO{API: APIPrintString}, "30320000 0000 0000 00000000 00000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.wire)
			got := tt.d.Append(nil)
			if !bytes.Equal(got, want) {
				t.Fatalf("DebugIO.Append(%+v) = %x; want %x", tt.d, got, want)
			}
			back, err := ParseDebugIO(got)
			if err != nil {
				t.Fatalf("ParseDebugIO(%x): %v", got, err)
			}
			if len(tt.d.Data) == 0 {
				tt.d.Data = []byte{}
			}
			if !reflect.DeepEqual(back, tt.d) {
				t.Errorf("ParseDebugIO(%x) = %+v; want %+v", got, back, tt.d)
			}
		})
	}
}

func TestDebugIOTextBounded(t *testing.T) {
	tests := []struct {
		name   string
		length uint32
		data   string
		want   string
	}{
		{"exact", 5, "hello", "hello"},
		{"shorter", 2, "hello", "he"},
		{"zero", 0, "hello", ""},
		{"lying 6", 6, "hello", "hello"},
		{"lying 0x7fffffff", 0x7FFFFFFF, "hello", "hello"},
		{"lying 0x80000000", 0x80000000, "hello", "hello"},
		{"lying 0xffffffff", 0xFFFFFFFF, "hello", "hello"},
		{"lying, no data", 100, "", ""},
		{"NUL kept", 6, "hello\x00", "hello\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DebugIO{API: APIPrintString, Length: tt.length, Data: []byte(tt.data)}
			if got := string(d.Text()); got != tt.want {
				t.Errorf("DebugIO{Length: %#x, Data: %q}.Text() = %q; want %q", tt.length, tt.data, got, tt.want)
			}
		})
	}
}

func TestParseDebugIOShort(t *testing.T) {
	for n := 0; n < DebugIOSize; n++ {
		if _, err := ParseDebugIO(make([]byte, n)); !errors.Is(err, ErrShortPayload) {
			t.Errorf("ParseDebugIO(%d bytes) = %v; want %v", n, err, ErrShortPayload)
		}
	}
	b := make([]byte, DebugIOSize+3)
	d, err := ParseDebugIO(b)
	if err != nil || &d.Data[0] != &b[DebugIOSize] || cap(d.Data) != 3 {
		t.Errorf("ParseDebugIO(%x).Data does not alias the payload with a capped capacity (err %v)", b, err)
	}
}

func TestFileIORoundTrip(t *testing.T) {
	// rizin answers every FILE_IO request with STATUS_NO_SUCH_FILE.
	refusal := FileIO{API: APICreateFile, Status: StatusNoSuchFile}
	// A CreateFile request: access, attributes, share, disposition, options,
	// then the UTF-16 file name as data.
	create := FileIO{API: APICreateFile, Data: []byte("a\x00b\x00")}
	copy(create.U[:], unhex(t, "00000080 80000000 01000000 01000000 20000000"))
	tests := []struct {
		name string
		f    FileIO
		wire string
	}{
		{"refusal", refusal, "30340000 0f0000c0 | ApiNumber CreateFile, Status STATUS_NO_SUCH_FILE\n" + strings.Repeat("00", 0x38)},
		{"create request", create, `
			30340000 00000000  | 0x00 ApiNumber CreateFile, Status
			00000080 80000000 01000000 01000000 20000000 | 0x08 DesiredAccess, FileAttributes, ShareAccess, CreateDisposition, CreateOptions
			00000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000 | to 0x40
			61006200           | 0x40 file name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.wire)
			got := tt.f.Append(nil)
			if !bytes.Equal(got, want) {
				t.Fatalf("FileIO.Append = %x; want %x", got, want)
			}
			back, err := ParseFileIO(got)
			if err != nil {
				t.Fatalf("ParseFileIO(%x): %v", got, err)
			}
			if back.API != tt.f.API || back.Status != tt.f.Status || back.U != tt.f.U || !bytes.Equal(back.Data, tt.f.Data) {
				t.Errorf("ParseFileIO(%x) = %v %v %x %x; want %v %v %x %x", got, back.API, back.Status.String(), back.U, back.Data, tt.f.API, tt.f.Status.String(), tt.f.U, tt.f.Data)
			}
		})
	}
	for _, n := range []int{0, 8, FileIOSize - 1} {
		if _, err := ParseFileIO(make([]byte, n)); !errors.Is(err, ErrShortPayload) {
			t.Errorf("ParseFileIO(%d bytes) = %v; want %v", n, err, ErrShortPayload)
		}
	}
}
