package kdproto

import "fmt"

// Version is DBGKD_GET_VERSION64, the union of a GetVersion reply (0x28 bytes).
//
//	0x00 MajorVersion (16), 0x02 MinorVersion (16), 0x04 ProtocolVersion (8),
//	0x05 KdSecondaryVersion (8), 0x06 Flags (16), 0x08 MachineType (16),
//	0x0A MaxPacketType (8), 0x0B MaxStateChange (8), 0x0C MaxManipulate (8),
//	0x0D Simulation (8), 0x0E Unused (16), 0x10 KernBase (64),
//	0x18 PsLoadedModuleList (64), 0x20 DebuggerDataList (64)
type Version struct {
	MajorVersion       uint16
	MinorVersion       uint16
	ProtocolVersion    uint8
	SecondaryVersion   uint8
	Flags              uint16
	MachineType        uint16
	MaxPacketType      uint8
	MaxStateChange     uint8
	MaxManipulate      uint8
	Simulation         uint8
	KernBase           uint64
	PsLoadedModuleList uint64
	DebuggerDataList   uint64
}

// Version flags.
const (
	VersionFlagMP         = 0x01
	VersionFlagData       = 0x02
	VersionFlagPtr64      = 0x04
	VersionFlagNoMM       = 0x08
	VersionFlagHSS        = 0x10
	VersionFlagPartitions = 0x20
)

// Machine types (IMAGE_FILE_MACHINE_*).
const (
	MachineI386  = 0x014C
	MachineAMD64 = 0x8664
	MachineARM   = 0x01C0
	MachineARM64 = 0xAA64
	MachineIA64  = 0x0200
)

// Put stores v in u.
func (v Version) Put(u *[UnionSize]byte) {
	le.PutUint16(u[0:], v.MajorVersion)
	le.PutUint16(u[2:], v.MinorVersion)
	u[4] = v.ProtocolVersion
	u[5] = v.SecondaryVersion
	le.PutUint16(u[6:], v.Flags)
	le.PutUint16(u[8:], v.MachineType)
	u[10], u[11], u[12], u[13] = v.MaxPacketType, v.MaxStateChange, v.MaxManipulate, v.Simulation
	le.PutUint16(u[14:], 0)
	le.PutUint64(u[16:], v.KernBase)
	le.PutUint64(u[24:], v.PsLoadedModuleList)
	le.PutUint64(u[32:], v.DebuggerDataList)
}

// Version decodes a GetVersion union.
func (m *Manipulate) Version() Version {
	u := &m.U
	return Version{
		MajorVersion: le.Uint16(u[0:]), MinorVersion: le.Uint16(u[2:]),
		ProtocolVersion: u[4], SecondaryVersion: u[5], Flags: le.Uint16(u[6:]),
		MachineType: le.Uint16(u[8:]), MaxPacketType: u[10], MaxStateChange: u[11],
		MaxManipulate: u[12], Simulation: u[13],
		KernBase: le.Uint64(u[16:]), PsLoadedModuleList: le.Uint64(u[24:]), DebuggerDataList: le.Uint64(u[32:]),
	}
}

// Ptr64 reports whether the target uses 64-bit pointers.
func (v Version) Ptr64() bool { return v.Flags&VersionFlagPtr64 != 0 }

// MachineName returns KD's name for the target architecture.
func (v Version) MachineName() string {
	switch v.MachineType {
	case MachineAMD64:
		return "x64"
	case MachineI386:
		return "x86 compatible"
	case MachineARM64:
		return "ARM 64-bit (AArch64)"
	case MachineARM:
		return "ARM"
	case MachineIA64:
		return "IA64"
	}
	return fmt.Sprintf("machine 0x%04x", v.MachineType)
}

// Checked reports whether the kernel is a checked build (low nibble 0xC).
func (v Version) Checked() bool { return v.MajorVersion&0xF == 0xC }
