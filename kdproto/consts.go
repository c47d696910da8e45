package kdproto

import "fmt"

// Wire constants of the KD serial protocol (names follow the public windbgkd.h
// header as published in reactos/reactos sdk/include/reactos/windbgkd.h).
const (
	// PacketLeader starts every data packet ("0000").
	PacketLeader uint32 = 0x30303030
	// ControlPacketLeader starts every control packet ("iiii").
	ControlPacketLeader uint32 = 0x69696969
	// PacketLeaderByte is one byte of PacketLeader.
	PacketLeaderByte byte = 0x30
	// ControlLeaderByte is one byte of ControlPacketLeader.
	ControlLeaderByte byte = 0x69
	// BreakinPacketByte is the single byte a host sends to break into a running target.
	BreakinPacketByte byte = 0x62
	// PacketTrailingByte ends every data packet.
	PacketTrailingByte byte = 0xAA

	// InitialPacketID is the first id each side uses after a RESET.
	InitialPacketID uint32 = 0x80800000
	// SyncPacketID is the flag bit a freshly booted target ORs into its first id.
	SyncPacketID uint32 = 0x00000800

	// HeaderSize is the size of the KD packet header.
	HeaderSize = 16
	// MaxPacketSize is the largest ByteCount the protocol allows (PACKET_MAX_SIZE).
	MaxPacketSize = 4000
	// ManipulateSize is the size of DBGKD_MANIPULATE_STATE64.
	ManipulateSize = 0x38
	// StateChangeSize is the size of DBGKD_ANY_WAIT_STATE_CHANGE.
	StateChangeSize = 0xF0
	// VersionSize is the size of DBGKD_GET_VERSION64.
	VersionSize = 0x28
	// DebugIOSize is the size of the DBGKD_DEBUG_IO header.
	DebugIOSize = 0x10
	// FileIOSize is the size of DBGKD_FILE_IO.
	FileIOSize = 0x40
	// MaxTransfer is the largest memory transfer in one request (PACKET_MAX_SIZE - 0x38).
	MaxTransfer = MaxPacketSize - ManipulateSize
	// MaxInstructionStream is DBGKD_MAXSTREAM, the bytes of code in a control report.
	MaxInstructionStream = 16
)

// PacketType is the PacketType field of the KD packet header.
type PacketType uint16

// Packet types.
const (
	PacketTypeUnused          PacketType = 0
	PacketTypeStateChange32   PacketType = 1
	PacketTypeStateManipulate PacketType = 2
	PacketTypeDebugIO         PacketType = 3
	PacketTypeAcknowledge     PacketType = 4
	PacketTypeResend          PacketType = 5
	PacketTypeReset           PacketType = 6
	PacketTypeStateChange64   PacketType = 7
	PacketTypePollBreakin     PacketType = 8
	PacketTypeTraceIO         PacketType = 9
	PacketTypeControlRequest  PacketType = 10
	PacketTypeFileIO          PacketType = 11
	PacketTypeMax             PacketType = 12
)

var packetTypeNames = [...]string{
	"UNUSED", "STATE_CHANGE32", "STATE_MANIPULATE", "DEBUG_IO", "ACK", "RESEND",
	"RESET", "STATE_CHANGE64", "POLL_BREAKIN", "TRACE_IO", "CONTROL_REQUEST", "FILE_IO",
}

func (t PacketType) String() string {
	if int(t) < len(packetTypeNames) {
		return packetTypeNames[t]
	}
	return fmt.Sprintf("PacketType(0x%x)", uint16(t))
}

// IsControl reports whether packets of type t use the control leader.
func (t PacketType) IsControl() bool {
	return t == PacketTypeAcknowledge || t == PacketTypeResend || t == PacketTypeReset
}

// API is the ApiNumber of a DBGKD_MANIPULATE_STATE64 request or reply.
type API uint32

// Manipulate API numbers (DbgKd*Api).
const (
	APIReadVirtualMemory            API = 0x3130
	APIWriteVirtualMemory           API = 0x3131
	APIGetContext                   API = 0x3132
	APISetContext                   API = 0x3133
	APIWriteBreakPoint              API = 0x3134
	APIRestoreBreakPoint            API = 0x3135
	APIContinue                     API = 0x3136
	APIReadControlSpace             API = 0x3137
	APIWriteControlSpace            API = 0x3138
	APIReadIoSpace                  API = 0x3139
	APIWriteIoSpace                 API = 0x313A
	APIReboot                       API = 0x313B
	APIContinue2                    API = 0x313C
	APIReadPhysicalMemory           API = 0x313D
	APIWritePhysicalMemory          API = 0x313E
	APIQuerySpecialCalls            API = 0x313F
	APISetSpecialCall               API = 0x3140
	APIClearSpecialCalls            API = 0x3141
	APISetInternalBreakPoint        API = 0x3142
	APIGetInternalBreakPoint        API = 0x3143
	APIReadIoSpaceExtended          API = 0x3144
	APIWriteIoSpaceExtended         API = 0x3145
	APIGetVersion                   API = 0x3146
	APIWriteBreakPointEx            API = 0x3147
	APIRestoreBreakPointEx          API = 0x3148
	APICauseBugCheck                API = 0x3149
	APISwitchProcessor              API = 0x3150
	APIPageIn                       API = 0x3151
	APIReadMachineSpecificRegister  API = 0x3152
	APIWriteMachineSpecificRegister API = 0x3153
	APIOldVlm1                      API = 0x3154
	APIOldVlm2                      API = 0x3155
	APISearchMemory                 API = 0x3156
	APIGetBusData                   API = 0x3157
	APISetBusData                   API = 0x3158
	APICheckLowMemory               API = 0x3159
	APIClearAllInternalBreakpoints  API = 0x315A
	APIFillMemory                   API = 0x315B
	APIQueryMemory                  API = 0x315C
	APISwitchPartition              API = 0x315D
	APIWriteCustomBreakpoint        API = 0x315E
	APIGetContextEx                 API = 0x315F
	APISetContextEx                 API = 0x3160
	APIMaximumManipulate            API = 0x3161

	// Debug I/O (packet type 3).
	APIPrintString API = 0x3230
	APIGetString   API = 0x3231
	// Trace I/O (packet type 9).
	APIPrintTrace API = 0x3330
	// Control requests (packet type 10).
	APIRequestHardwareBp API = 0x4300
	APIReleaseHardwareBp API = 0x4301
	// File I/O (packet type 11).
	APICreateFile API = 0x3430
	APIReadFile   API = 0x3431
	APIWriteFile  API = 0x3432
	APICloseFile  API = 0x3433
)

var apiNames = map[API]string{
	APIReadVirtualMemory: "ReadVirtualMemory", APIWriteVirtualMemory: "WriteVirtualMemory",
	APIGetContext: "GetContext", APISetContext: "SetContext",
	APIWriteBreakPoint: "WriteBreakPoint", APIRestoreBreakPoint: "RestoreBreakPoint",
	APIContinue: "Continue", APIReadControlSpace: "ReadControlSpace",
	APIWriteControlSpace: "WriteControlSpace", APIReadIoSpace: "ReadIoSpace",
	APIWriteIoSpace: "WriteIoSpace", APIReboot: "Reboot", APIContinue2: "Continue2",
	APIReadPhysicalMemory: "ReadPhysicalMemory", APIWritePhysicalMemory: "WritePhysicalMemory",
	APIQuerySpecialCalls: "QuerySpecialCalls", APISetSpecialCall: "SetSpecialCall",
	APIClearSpecialCalls: "ClearSpecialCalls", APISetInternalBreakPoint: "SetInternalBreakPoint",
	APIGetInternalBreakPoint: "GetInternalBreakPoint", APIReadIoSpaceExtended: "ReadIoSpaceExtended",
	APIWriteIoSpaceExtended: "WriteIoSpaceExtended", APIGetVersion: "GetVersion",
	APIWriteBreakPointEx: "WriteBreakPointEx", APIRestoreBreakPointEx: "RestoreBreakPointEx",
	APICauseBugCheck: "CauseBugCheck", APISwitchProcessor: "SwitchProcessor", APIPageIn: "PageIn",
	APIReadMachineSpecificRegister: "ReadMSR", APIWriteMachineSpecificRegister: "WriteMSR",
	APIOldVlm1: "OldVlm1", APIOldVlm2: "OldVlm2", APISearchMemory: "SearchMemory",
	APIGetBusData: "GetBusData", APISetBusData: "SetBusData", APICheckLowMemory: "CheckLowMemory",
	APIClearAllInternalBreakpoints: "ClearAllInternalBreakpoints", APIFillMemory: "FillMemory",
	APIQueryMemory: "QueryMemory", APISwitchPartition: "SwitchPartition",
	APIWriteCustomBreakpoint: "WriteCustomBreakpoint", APIGetContextEx: "GetContextEx",
	APISetContextEx: "SetContextEx",
	APIPrintString:  "PrintString", APIGetString: "GetString", APIPrintTrace: "PrintTrace",
	APIRequestHardwareBp: "RequestHardwareBp", APIReleaseHardwareBp: "ReleaseHardwareBp",
	APICreateFile: "CreateFile", APIReadFile: "ReadFile", APIWriteFile: "WriteFile", APICloseFile: "CloseFile",
}

func (a API) String() string {
	if n, ok := apiNames[a]; ok {
		return n
	}
	return fmt.Sprintf("API(0x%x)", uint32(a))
}

// HasReply reports whether the target answers a manipulate request with a
// reply packet. Continue, Continue2, Reboot, CauseBugCheck, SwitchProcessor and
// ClearAllInternalBreakpoints are acknowledged but never answered.
func (a API) HasReply() bool {
	switch a {
	case APIContinue, APIContinue2, APIReboot, APICauseBugCheck, APISwitchProcessor, APIClearAllInternalBreakpoints:
		return false
	}
	return true
}

// Resumes reports whether the target leaves the debugger once it has
// acknowledged a request for a (SwitchProcessor: until the other processor
// reports).
func (a API) Resumes() bool {
	switch a {
	case APIContinue, APIContinue2, APIReboot, APICauseBugCheck, APISwitchProcessor:
		return true
	}
	return false
}

// StateKind is the NewState field of a state-change packet.
type StateKind uint32

// State-change kinds.
const (
	StateException     StateKind = 0x3030
	StateLoadSymbols   StateKind = 0x3031
	StateCommandString StateKind = 0x3032
	// StateAlternate is OR-ed into NewState when the state comes from an alternate source.
	StateAlternate StateKind = 0x00010000
)

func (k StateKind) String() string {
	alt := ""
	if k&StateAlternate != 0 {
		alt = "|Alternate"
	}
	switch k &^ StateAlternate {
	case StateException:
		return "Exception" + alt
	case StateLoadSymbols:
		return "LoadSymbols" + alt
	case StateCommandString:
		return "CommandString" + alt
	}
	return fmt.Sprintf("StateKind(0x%x)", uint32(k))
}

// Status is an NTSTATUS value as carried on the wire. A Status that is not
// a success value satisfies error.
type Status uint32

// NTSTATUS and continue codes seen on the wire.
const (
	StatusSuccess              Status = 0x00000000
	StatusPending              Status = 0x00000103
	StatusUnsuccessful         Status = 0xC0000001
	StatusNotImplemented       Status = 0xC0000002
	StatusInvalidParameter     Status = 0xC000000D
	StatusNoSuchDevice         Status = 0xC000000E
	StatusNoSuchFile           Status = 0xC000000F
	StatusDatatypeMisalignment Status = 0x80000002
	StatusBreakpoint           Status = 0x80000003
	StatusSingleStep           Status = 0x80000004
	StatusWakeSystemDebugger   Status = 0x80000007
	StatusAccessViolation      Status = 0xC0000005
	StatusAssertionFailure     Status = 0xC0000420
	DbgExceptionHandled        Status = 0x00010001
	DbgContinue                Status = 0x00010002
	DbgExceptionNotHandled     Status = 0x80010001
	DbgControlC                Status = 0x40010005
)

var statusNames = map[Status]string{
	StatusSuccess: "STATUS_SUCCESS", StatusPending: "STATUS_PENDING",
	StatusUnsuccessful: "STATUS_UNSUCCESSFUL", StatusNotImplemented: "STATUS_NOT_IMPLEMENTED",
	StatusInvalidParameter: "STATUS_INVALID_PARAMETER", StatusNoSuchDevice: "STATUS_NO_SUCH_DEVICE",
	StatusNoSuchFile: "STATUS_NO_SUCH_FILE", StatusDatatypeMisalignment: "STATUS_DATATYPE_MISALIGNMENT",
	StatusBreakpoint: "STATUS_BREAKPOINT", StatusSingleStep: "STATUS_SINGLE_STEP",
	StatusWakeSystemDebugger: "STATUS_WAKE_SYSTEM_DEBUGGER", StatusAccessViolation: "STATUS_ACCESS_VIOLATION",
	StatusAssertionFailure: "STATUS_ASSERTION_FAILURE", DbgExceptionHandled: "DBG_EXCEPTION_HANDLED",
	DbgContinue: "DBG_CONTINUE", DbgExceptionNotHandled: "DBG_EXCEPTION_NOT_HANDLED",
	DbgControlC: "DBG_CONTROL_C",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("NTSTATUS 0x%08X", uint32(s))
}

// Success reports whether s is a success or informational value (NT_SUCCESS).
func (s Status) Success() bool { return int32(s) >= 0 }

// Error implements error so that a failing ReturnStatus can be returned as is.
func (s Status) Error() string {
	return fmt.Sprintf("kdproto: target returned %s (0x%08X)", s.String(), uint32(s))
}
