package kdproto_test

import (
	"bytes"
	"testing"

	. "github.com/gokd/kd/kdproto"
)

// sampleVersion is the GetVersion answer of a Windows 7 SP1 x64 free build.
func sampleVersion() Version {
	return Version{
		MajorVersion: 0x000F, MinorVersion: 7601, ProtocolVersion: 6, SecondaryVersion: 2,
		Flags: VersionFlagMP | VersionFlagData | VersionFlagPtr64, MachineType: MachineAMD64,
		MaxPacketType: uint8(PacketTypeMax), MaxStateChange: 3, MaxManipulate: 0x31,
		KernBase: 0xFFFFF80002A5E000, PsLoadedModuleList: 0xFFFFF80002C9B890, DebuggerDataList: 0xFFFFF80002C6B0F0,
	}
}

// sampleVersionWire is sampleVersion as DBGKD_GET_VERSION64 (spec §5.2).
const sampleVersionWire = `
	0f00 b11d  | 0x10 MajorVersion, 0x12 MinorVersion 7601
	06 02      | 0x14 ProtocolVersion, 0x15 KdSecondaryVersion
	0700       | 0x16 Flags MP|DATA|PTR64
	6486       | 0x18 MachineType AMD64
	0c 03 31 00 | 0x1A MaxPacketType, MaxStateChange, MaxManipulate, Simulation
	0000       | 0x1E Unused
	00e0a50200f8ffff | 0x20 KernBase
	90b8c90200f8ffff | 0x28 PsLoadedModuleList
	f0b0c60200f8ffff | 0x30 DebuggerDataList`

func TestVersionReply(t *testing.T) {
	// A GetVersion reply from an x86 target: addresses are sign-extended.
	v := Version{MajorVersion: 0x000C, MinorVersion: 2600, ProtocolVersion: 6, Flags: VersionFlagData,
		MachineType: MachineI386, MaxPacketType: 12, MaxStateChange: 3, MaxManipulate: 0x31,
		KernBase: 0xFFFFFFFF804D7000, PsLoadedModuleList: 0xFFFFFFFF8055B1C0, DebuggerDataList: 0xFFFFFFFF80545B4C}
	reply := NewManipulate(APIGetVersion, 0, v, nil)
	payload := reply.Append(nil)
	if got, want := payload[0x20:0x28], unhex(t, "00704d80ffffffff"); !bytes.Equal(got, want) {
		t.Errorf("KernBase at payload 0x20 = %x; want %x", got, want)
	}
	m, err := ParseManipulate(payload)
	if err != nil {
		t.Fatalf("ParseManipulate(%x): %v", payload, err)
	}
	got := m.Version()
	if got != v {
		t.Errorf("ParseManipulate(%x).Version() = %+v; want %+v", payload, got, v)
	}
	if got.Ptr64() || !got.Checked() || got.MachineName() != "x86 compatible" {
		t.Errorf("x86 checked version: Ptr64 %v, Checked %v, MachineName %q; want false, true, \"x86 compatible\"",
			got.Ptr64(), got.Checked(), got.MachineName())
	}
}

func TestVersionUnusedIsZeroed(t *testing.T) {
	var u [UnionSize]byte
	u[0x0E], u[0x0F] = 0xAB, 0xCD
	sampleVersion().Put(&u)
	if u[0x0E] != 0 || u[0x0F] != 0 {
		t.Errorf("Version.Put left Unused = %x; want 0000", u[0x0E:0x10])
	}
}

func TestVersionHelpers(t *testing.T) {
	tests := []struct {
		name    string
		v       Version
		ptr64   bool
		checked bool
		machine string
	}{
		{"amd64 free", sampleVersion(), true, false, "x64"},
		{"i386 checked", Version{MajorVersion: 0xC, MachineType: MachineI386}, false, true, "x86 compatible"},
		{"arm64", Version{MajorVersion: 0xF, Flags: VersionFlagPtr64, MachineType: MachineARM64}, true, false, "ARM 64-bit (AArch64)"},
		{"arm", Version{MachineType: MachineARM}, false, false, "ARM"},
		{"ia64", Version{Flags: VersionFlagPtr64 | VersionFlagNoMM, MachineType: MachineIA64}, true, false, "IA64"},
		{"unknown machine", Version{MachineType: 0x0EBC}, false, false, "machine 0x0ebc"},
		{"hypervisor major type", Version{MajorVersion: 0x080F, MachineType: MachineAMD64}, false, false, "x64"},
		{"hypervisor checked", Version{MajorVersion: 0x080C}, false, true, "machine 0x0000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.Ptr64(); got != tt.ptr64 {
				t.Errorf("Version{Flags: %#x}.Ptr64() = %v; want %v", tt.v.Flags, got, tt.ptr64)
			}
			if got := tt.v.Checked(); got != tt.checked {
				t.Errorf("Version{MajorVersion: %#x}.Checked() = %v; want %v", tt.v.MajorVersion, got, tt.checked)
			}
			if got := tt.v.MachineName(); got != tt.machine {
				t.Errorf("Version{MachineType: %#x}.MachineName() = %q; want %q", tt.v.MachineType, got, tt.machine)
			}
		})
	}
}

func TestVersionConstants(t *testing.T) {
	// Flag and machine values from spec §5.2.
	tests := []struct {
		name      string
		got, want int
	}{
		{"MP", VersionFlagMP, 0x01}, {"DATA", VersionFlagData, 0x02}, {"PTR64", VersionFlagPtr64, 0x04},
		{"NOMM", VersionFlagNoMM, 0x08}, {"HSS", VersionFlagHSS, 0x10}, {"PARTITIONS", VersionFlagPartitions, 0x20},
		{"i386", MachineI386, 0x014C}, {"AMD64", MachineAMD64, 0x8664}, {"ARM", MachineARM, 0x01C0},
		{"ARM64", MachineARM64, 0xAA64}, {"IA64", MachineIA64, 0x0200},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x; want %#x", tt.name, tt.got, tt.want)
		}
	}
}
