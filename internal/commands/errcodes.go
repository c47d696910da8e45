package commands

import "fmt"

// ErrorCode is !error's answer.
type ErrorCode struct {
	Value   uint64
	Kind    string // "NTSTATUS" or "Win32"
	Name    string // the symbolic name, "" when unknown
	Message string // "" when kd has no text for it
}

// ResultName returns the result's JSON name.
func (ErrorCode) ResultName() string { return "error_code" }

// errText is one known code: its symbolic name and message. The messages
// were written for kd from the public NTSTATUS and system error code
// reference; %p and %s are KD's own placeholders, shown as they are.
type errText struct{ name, msg string }

var ntStatusTexts = map[uint32]errText{
	0x00000000: {"STATUS_SUCCESS", "STATUS_SUCCESS"},
	0x00000102: {"STATUS_TIMEOUT", "The wait operation timed out."},
	0x00000103: {"STATUS_PENDING", "The operation that was requested is pending completion."},
	0x80000002: {"STATUS_DATATYPE_MISALIGNMENT", "{EXCEPTION} Alignment Fault - A datatype misalignment was detected in a load or store instruction."},
	0x80000003: {"STATUS_BREAKPOINT", "{EXCEPTION} Breakpoint - A breakpoint has been reached."},
	0x80000004: {"STATUS_SINGLE_STEP", "{EXCEPTION} Single Step - A single step or trace operation has just been completed."},
	0x80000005: {"STATUS_BUFFER_OVERFLOW", "{Buffer Overflow} The data was too large to fit into the specified buffer."},
	0x80000006: {"STATUS_NO_MORE_FILES", "{No More Files} No more files were found which match the file specification."},
	0xC0000001: {"STATUS_UNSUCCESSFUL", "{Operation Failed} The requested operation was unsuccessful."},
	0xC0000002: {"STATUS_NOT_IMPLEMENTED", "{Not Implemented} The requested operation is not implemented."},
	0xC0000005: {"STATUS_ACCESS_VIOLATION", "The instruction at 0x%p referenced memory at 0x%p. The memory could not be %s."},
	0xC0000008: {"STATUS_INVALID_HANDLE", "An invalid HANDLE was specified."},
	0xC000000D: {"STATUS_INVALID_PARAMETER", "An invalid parameter was passed to a service or function."},
	0xC000000E: {"STATUS_NO_SUCH_DEVICE", "A device which does not exist was specified."},
	0xC000000F: {"STATUS_NO_SUCH_FILE", "{File Not Found} The file %hs does not exist."},
	0xC0000010: {"STATUS_INVALID_DEVICE_REQUEST", "The specified request is not a valid operation for the target device."},
	0xC0000017: {"STATUS_NO_MEMORY", "{Not Enough Quota} Not enough virtual memory or paging file quota is available to complete the specified operation."},
	0xC000001D: {"STATUS_ILLEGAL_INSTRUCTION", "{EXCEPTION} Illegal Instruction - An attempt was made to execute an illegal instruction."},
	0xC0000022: {"STATUS_ACCESS_DENIED", "{Access Denied} A process has requested access to an object, but has not been granted those access rights."},
	0xC0000023: {"STATUS_BUFFER_TOO_SMALL", "{Buffer Too Small} The buffer is too small to contain the entry. No information has been written to the buffer."},
	0xC0000024: {"STATUS_OBJECT_TYPE_MISMATCH", "{Wrong Type} There is a mismatch between the type of object required by the requested operation and the type of object that is specified in the request."},
	0xC0000034: {"STATUS_OBJECT_NAME_NOT_FOUND", "Object Name not found."},
	0xC0000035: {"STATUS_OBJECT_NAME_COLLISION", "Object Name already exists."},
	0xC000003A: {"STATUS_OBJECT_PATH_NOT_FOUND", "{Path Not Found} The path %hs does not exist."},
	0xC0000043: {"STATUS_SHARING_VIOLATION", "A file cannot be opened because the share access flags are incompatible."},
	0xC000008C: {"STATUS_ARRAY_BOUNDS_EXCEEDED", "{EXCEPTION} Array bounds exceeded."},
	0xC0000094: {"STATUS_INTEGER_DIVIDE_BY_ZERO", "{EXCEPTION} Integer division by zero."},
	0xC0000096: {"STATUS_PRIVILEGED_INSTRUCTION", "{EXCEPTION} Privileged instruction."},
	0xC000009A: {"STATUS_INSUFFICIENT_RESOURCES", "Insufficient system resources exist to complete the API."},
	0xC00000BB: {"STATUS_NOT_SUPPORTED", "The request is not supported."},
	0xC0000120: {"STATUS_CANCELLED", "The I/O request was canceled."},
	0xC0000135: {"STATUS_DLL_NOT_FOUND", "{Unable To Locate Component} This application has failed to start because %hs was not found."},
	0xC0000142: {"STATUS_DLL_INIT_FAILED", "{DLL Initialization Failed} Initialization of the dynamic link library %hs failed."},
	0xC00000FD: {"STATUS_STACK_OVERFLOW", "A new guard page for the stack cannot be created."},
	0xC0000374: {"STATUS_HEAP_CORRUPTION", "A heap has been corrupted."},
	0xC0000409: {"STATUS_STACK_BUFFER_OVERRUN", "The system detected an overrun of a stack-based buffer in this application."},
	0xC0000420: {"STATUS_ASSERTION_FAILURE", "An assertion failure has occurred."},
}

var win32Texts = map[uint32]errText{
	0:    {"ERROR_SUCCESS", "The operation completed successfully."},
	1:    {"ERROR_INVALID_FUNCTION", "Incorrect function."},
	2:    {"ERROR_FILE_NOT_FOUND", "The system cannot find the file specified."},
	3:    {"ERROR_PATH_NOT_FOUND", "The system cannot find the path specified."},
	5:    {"ERROR_ACCESS_DENIED", "Access is denied."},
	6:    {"ERROR_INVALID_HANDLE", "The handle is invalid."},
	8:    {"ERROR_NOT_ENOUGH_MEMORY", "Not enough memory resources are available to process this command."},
	13:   {"ERROR_INVALID_DATA", "The data is invalid."},
	32:   {"ERROR_SHARING_VIOLATION", "The process cannot access the file because it is being used by another process."},
	50:   {"ERROR_NOT_SUPPORTED", "The request is not supported."},
	87:   {"ERROR_INVALID_PARAMETER", "The parameter is incorrect."},
	122:  {"ERROR_INSUFFICIENT_BUFFER", "The data area passed to a system call is too small."},
	126:  {"ERROR_MOD_NOT_FOUND", "The specified module could not be found."},
	183:  {"ERROR_ALREADY_EXISTS", "Cannot create a file when that file already exists."},
	258:  {"WAIT_TIMEOUT", "The wait operation timed out."},
	995:  {"ERROR_OPERATION_ABORTED", "The I/O operation has been aborted because of either a thread exit or an application request."},
	997:  {"ERROR_IO_PENDING", "Overlapped I/O operation is in progress."},
	998:  {"ERROR_NOACCESS", "Invalid access to memory location."},
	1168: {"ERROR_NOT_FOUND", "Element not found."},
	1460: {"ERROR_TIMEOUT", "This operation returned because the timeout period expired."},
}

// LookupError decodes value as !error does: an NTSTATUS when ntstatus is
// set or the value carries NTSTATUS severity bits, else a Win32 error.
func LookupError(value uint64, ntstatus bool) ErrorCode {
	v := uint32(value)
	if value>>32 != 0 && value>>32 != 0xFFFFFFFF {
		return ErrorCode{Value: value, Kind: "unknown"}
	}
	if ntstatus || v>>30 != 0 || v>>16 != 0 {
		t := ntStatusTexts[v]
		return ErrorCode{Value: uint64(v), Kind: "NTSTATUS", Name: t.name, Message: t.msg}
	}
	t := win32Texts[v]
	return ErrorCode{Value: uint64(v), Kind: "Win32", Name: t.name, Message: t.msg}
}

// Line is KD's !error line: "Error code: (NTSTATUS) 0xc0000005
// (3221225477) - The instruction at ...".
func (c ErrorCode) Line() string {
	if c.Kind == "unknown" {
		return fmt.Sprintf("Error code: 0x%x is neither an NTSTATUS nor a Win32 error (both are 32 bits)", c.Value)
	}
	msg := c.Message
	if msg == "" {
		msg = "<Unable to get error code text>"
	}
	return fmt.Sprintf("Error code: (%s) 0x%x (%d) - %s", c.Kind, c.Value, c.Value, msg)
}
