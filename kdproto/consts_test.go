package kdproto_test

import (
	"errors"
	"fmt"
	"testing"

	. "github.com/gokd/kd/kdproto"
)

func TestWireConstants(t *testing.T) {
	// Spec §1.2, §1.5 and §3.1.
	tests := []struct {
		name      string
		got, want uint64
	}{
		{"PACKET_LEADER", uint64(PacketLeader), 0x30303030},
		{"CONTROL_PACKET_LEADER", uint64(ControlPacketLeader), 0x69696969},
		{"leader byte", uint64(PacketLeaderByte), '0'},
		{"control leader byte", uint64(ControlLeaderByte), 'i'},
		{"break-in byte", uint64(BreakinPacketByte), 'b'},
		{"PACKET_TRAILING_BYTE", uint64(PacketTrailingByte), 0xAA},
		{"INITIAL_PACKET_ID", uint64(InitialPacketID), 0x80800000},
		{"SYNC_PACKET_ID", uint64(SyncPacketID), 0x800},
		{"PACKET_MAX_SIZE", MaxPacketSize, 4000},
		{"largest memory transfer", MaxTransfer, 0xF68},
		{"DBGKD_MAXSTREAM", MaxInstructionStream, 16},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x; want %#x", tt.name, tt.got, tt.want)
		}
	}
}

func TestPacketTypeString(t *testing.T) {
	tests := []struct {
		typ     PacketType
		value   uint16
		want    string
		control bool
	}{
		{PacketTypeUnused, 0, "UNUSED", false},
		{PacketTypeStateChange32, 1, "STATE_CHANGE32", false},
		{PacketTypeStateManipulate, 2, "STATE_MANIPULATE", false},
		{PacketTypeDebugIO, 3, "DEBUG_IO", false},
		{PacketTypeAcknowledge, 4, "ACK", true},
		{PacketTypeResend, 5, "RESEND", true},
		{PacketTypeReset, 6, "RESET", true},
		{PacketTypeStateChange64, 7, "STATE_CHANGE64", false},
		{PacketTypePollBreakin, 8, "POLL_BREAKIN", false},
		{PacketTypeTraceIO, 9, "TRACE_IO", false},
		{PacketTypeControlRequest, 10, "CONTROL_REQUEST", false},
		{PacketTypeFileIO, 11, "FILE_IO", false},
		{PacketTypeMax, 12, "PacketType(0xc)", false},
		{0x0469, 0x0469, "PacketType(0x469)", false},
		{0xFFFF, 0xFFFF, "PacketType(0xffff)", false},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if uint16(tt.typ) != tt.value {
				t.Errorf("%s = %d; want %d", tt.want, uint16(tt.typ), tt.value)
			}
			if got := tt.typ.String(); got != tt.want {
				t.Errorf("PacketType(%d).String() = %q; want %q", tt.value, got, tt.want)
			}
			if got := tt.typ.IsControl(); got != tt.control {
				t.Errorf("PacketType(%d).IsControl() = %v; want %v", tt.value, got, tt.control)
			}
		})
	}
}

func TestAPIString(t *testing.T) {
	// Numbers from spec §2.1; names as kd prints them. reply is false for
	// the APIs the target only ACKs (spec §10 pitfall 7).
	tests := []struct {
		api   API
		value uint32
		want  string
		reply bool
	}{
		{APIReadVirtualMemory, 0x3130, "ReadVirtualMemory", true},
		{APIWriteVirtualMemory, 0x3131, "WriteVirtualMemory", true},
		{APIGetContext, 0x3132, "GetContext", true},
		{APISetContext, 0x3133, "SetContext", true},
		{APIWriteBreakPoint, 0x3134, "WriteBreakPoint", true},
		{APIRestoreBreakPoint, 0x3135, "RestoreBreakPoint", true},
		{APIContinue, 0x3136, "Continue", false},
		{APIReadControlSpace, 0x3137, "ReadControlSpace", true},
		{APIWriteControlSpace, 0x3138, "WriteControlSpace", true},
		{APIReadIoSpace, 0x3139, "ReadIoSpace", true},
		{APIWriteIoSpace, 0x313A, "WriteIoSpace", true},
		{APIReboot, 0x313B, "Reboot", false},
		{APIContinue2, 0x313C, "Continue2", false},
		{APIReadPhysicalMemory, 0x313D, "ReadPhysicalMemory", true},
		{APIWritePhysicalMemory, 0x313E, "WritePhysicalMemory", true},
		{APIQuerySpecialCalls, 0x313F, "QuerySpecialCalls", true},
		{APISetSpecialCall, 0x3140, "SetSpecialCall", true},
		{APIClearSpecialCalls, 0x3141, "ClearSpecialCalls", true},
		{APISetInternalBreakPoint, 0x3142, "SetInternalBreakPoint", true},
		{APIGetInternalBreakPoint, 0x3143, "GetInternalBreakPoint", true},
		{APIReadIoSpaceExtended, 0x3144, "ReadIoSpaceExtended", true},
		{APIWriteIoSpaceExtended, 0x3145, "WriteIoSpaceExtended", true},
		{APIGetVersion, 0x3146, "GetVersion", true},
		{APIWriteBreakPointEx, 0x3147, "WriteBreakPointEx", true},
		{APIRestoreBreakPointEx, 0x3148, "RestoreBreakPointEx", true},
		{APICauseBugCheck, 0x3149, "CauseBugCheck", false},
		{APISwitchProcessor, 0x3150, "SwitchProcessor", false},
		{APIPageIn, 0x3151, "PageIn", true},
		{APIReadMachineSpecificRegister, 0x3152, "ReadMSR", true},
		{APIWriteMachineSpecificRegister, 0x3153, "WriteMSR", true},
		{APIOldVlm1, 0x3154, "OldVlm1", true},
		{APIOldVlm2, 0x3155, "OldVlm2", true},
		{APISearchMemory, 0x3156, "SearchMemory", true},
		{APIGetBusData, 0x3157, "GetBusData", true},
		{APISetBusData, 0x3158, "SetBusData", true},
		{APICheckLowMemory, 0x3159, "CheckLowMemory", true},
		{APIClearAllInternalBreakpoints, 0x315A, "ClearAllInternalBreakpoints", false},
		{APIFillMemory, 0x315B, "FillMemory", true},
		{APIQueryMemory, 0x315C, "QueryMemory", true},
		{APISwitchPartition, 0x315D, "SwitchPartition", true},
		{APIWriteCustomBreakpoint, 0x315E, "WriteCustomBreakpoint", true},
		{APIGetContextEx, 0x315F, "GetContextEx", true},
		{APISetContextEx, 0x3160, "SetContextEx", true},
		{APIMaximumManipulate, 0x3161, "API(0x3161)", true},
		{APIPrintString, 0x3230, "PrintString", true},
		{APIGetString, 0x3231, "GetString", true},
		{APIPrintTrace, 0x3330, "PrintTrace", true},
		{APIRequestHardwareBp, 0x4300, "RequestHardwareBp", true},
		{APIReleaseHardwareBp, 0x4301, "ReleaseHardwareBp", true},
		{APICreateFile, 0x3430, "CreateFile", true},
		{APIReadFile, 0x3431, "ReadFile", true},
		{APIWriteFile, 0x3432, "WriteFile", true},
		{APICloseFile, 0x3433, "CloseFile", true},
		{0x314A, 0x314A, "API(0x314a)", true},
		{0, 0, "API(0x0)", true},
		{0xFFFFFFFF, 0xFFFFFFFF, "API(0xffffffff)", true},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if uint32(tt.api) != tt.value {
				t.Errorf("%s = %#x; want %#x", tt.want, uint32(tt.api), tt.value)
			}
			if got := tt.api.String(); got != tt.want {
				t.Errorf("API(%#x).String() = %q; want %q", tt.value, got, tt.want)
			}
			if got := tt.api.HasReply(); got != tt.reply {
				t.Errorf("API(%#x).HasReply() = %v; want %v", tt.value, got, tt.reply)
			}
			// Every API that resumes the target gets no reply; of the
			// reply-less ones only ClearAllInternalBreakpoints stays put.
			if got, want := tt.api.Resumes(), !tt.reply && tt.api != APIClearAllInternalBreakpoints; got != want {
				t.Errorf("API(%#x).Resumes() = %v; want %v", tt.value, got, want)
			}
		})
	}
}

func TestStateKindString(t *testing.T) {
	tests := []struct {
		kind StateKind
		want string
	}{
		{StateException, "Exception"},
		{StateLoadSymbols, "LoadSymbols"},
		{StateCommandString, "CommandString"},
		{StateException | StateAlternate, "Exception|Alternate"},
		{StateLoadSymbols | StateAlternate, "LoadSymbols|Alternate"},
		{StateCommandString | StateAlternate, "CommandString|Alternate"},
		{0x3033, "StateKind(0x3033)"},
		{0, "StateKind(0x0)"},
		{StateAlternate, "StateKind(0x10000)"},
		{0x3033 | StateAlternate, "StateKind(0x13033)"},
		{0xFFFFFFFF, "StateKind(0xffffffff)"},
	}
	for _, tt := range tests {
		if got := tt.kind.String(); got != tt.want {
			t.Errorf("StateKind(%#x).String() = %q; want %q", uint32(tt.kind), got, tt.want)
		}
	}
	if StateException != 0x3030 || StateLoadSymbols != 0x3031 || StateCommandString != 0x3032 || StateAlternate != 0x10000 {
		t.Errorf("state kinds = %#x %#x %#x %#x; want 0x3030 0x3031 0x3032 0x10000",
			uint32(StateException), uint32(StateLoadSymbols), uint32(StateCommandString), uint32(StateAlternate))
	}
}

func TestStatus(t *testing.T) {
	// Values from spec §8.
	tests := []struct {
		s       Status
		value   uint32
		name    string
		success bool
	}{
		{StatusSuccess, 0x00000000, "STATUS_SUCCESS", true},
		{StatusPending, 0x00000103, "STATUS_PENDING", true},
		{StatusUnsuccessful, 0xC0000001, "STATUS_UNSUCCESSFUL", false},
		{StatusNotImplemented, 0xC0000002, "STATUS_NOT_IMPLEMENTED", false},
		{StatusInvalidParameter, 0xC000000D, "STATUS_INVALID_PARAMETER", false},
		{StatusNoSuchDevice, 0xC000000E, "STATUS_NO_SUCH_DEVICE", false},
		{StatusNoSuchFile, 0xC000000F, "STATUS_NO_SUCH_FILE", false},
		{StatusDatatypeMisalignment, 0x80000002, "STATUS_DATATYPE_MISALIGNMENT", false},
		{StatusBreakpoint, 0x80000003, "STATUS_BREAKPOINT", false},
		{StatusSingleStep, 0x80000004, "STATUS_SINGLE_STEP", false},
		{StatusWakeSystemDebugger, 0x80000007, "STATUS_WAKE_SYSTEM_DEBUGGER", false},
		{StatusAccessViolation, 0xC0000005, "STATUS_ACCESS_VIOLATION", false},
		{StatusAssertionFailure, 0xC0000420, "STATUS_ASSERTION_FAILURE", false},
		{DbgExceptionHandled, 0x00010001, "DBG_EXCEPTION_HANDLED", true},
		{DbgContinue, 0x00010002, "DBG_CONTINUE", true},
		{DbgExceptionNotHandled, 0x80010001, "DBG_EXCEPTION_NOT_HANDLED", false},
		{DbgControlC, 0x40010005, "DBG_CONTROL_C", true},
		{0x7FFFFFFF, 0x7FFFFFFF, "NTSTATUS 0x7FFFFFFF", true},
		{0x80000000, 0x80000000, "NTSTATUS 0x80000000", false},
		{0xC0000022, 0xC0000022, "NTSTATUS 0xC0000022", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if uint32(tt.s) != tt.value {
				t.Errorf("%s = %#x; want %#x", tt.name, uint32(tt.s), tt.value)
			}
			if got := tt.s.String(); got != tt.name {
				t.Errorf("Status(%#x).String() = %q; want %q", tt.value, got, tt.name)
			}
			if got := tt.s.Success(); got != tt.success {
				t.Errorf("Status(%#x).Success() = %v; want %v", tt.value, got, tt.success)
			}
			want := fmt.Sprintf("kdproto: target returned %s (0x%08X)", tt.name, tt.value)
			if got := tt.s.Error(); got != want {
				t.Errorf("Status(%#x).Error() = %q; want %q", tt.value, got, want)
			}
		})
	}
}

func TestStatusAsError(t *testing.T) {
	// A failing ReturnStatus can be returned, wrapped and recovered.
	var err error = fmt.Errorf("read 0x1000: %w", StatusUnsuccessful)
	var st Status
	if !errors.As(err, &st) || st != StatusUnsuccessful {
		t.Errorf("errors.As(%v, *Status) = %v; want STATUS_UNSUCCESSFUL", err, st.String())
	}
	if !errors.Is(err, StatusUnsuccessful) || errors.Is(err, StatusNoSuchDevice) {
		t.Errorf("errors.Is on a wrapped Status does not match by value")
	}
}
