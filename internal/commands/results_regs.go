package commands

import "github.com/gokd/kd/internal/target"

// MaskBit is one bit of the register mask with KD's explanation.
type MaskBit struct {
	Bit       uint32
	Text      string
	Supported bool // kd can show these registers
}

// RegisterMask is rm: the mask and what its bits show (All: rm ?, every
// bit kd knows).
type RegisterMask struct {
	Mask uint32
	Bits []MaskBit
	All  bool
}

// MSRValue is rdmsr's answer.
type MSRValue struct {
	MSR   uint32
	Value uint64
}

// PortValue is ib, iw or id's answer: Size bytes read from Port.
type PortValue struct {
	Port  uint64
	Size  int
	Value uint32
}

// ProcessorList is ~: every processor, the current one marked.
type ProcessorList struct{ Processors []target.Processor }

// PCRInfo is !pcr.
type PCRInfo struct{ target.PCR }

// IDTInfo is !idt.
type IDTInfo struct{ target.IDT }

// CPUInfoList is !cpuinfo.
type CPUInfoList struct{ CPUs []target.CPUInfo }

// DescriptorList is dg.
type DescriptorList struct{ Descriptors []target.Descriptor }

// ResultName returns the result's JSON name.
func (RegisterMask) ResultName() string   { return "register_mask" }
func (MSRValue) ResultName() string       { return "msr" }
func (PortValue) ResultName() string      { return "port" }
func (ProcessorList) ResultName() string  { return "processors" }
func (PCRInfo) ResultName() string        { return "pcr" }
func (IDTInfo) ResultName() string        { return "idt" }
func (CPUInfoList) ResultName() string    { return "cpuinfo" }
func (DescriptorList) ResultName() string { return "descriptors" }
