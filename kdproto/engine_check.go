package kdproto

import "encoding/binary"

// The checksum covers a data packet's payload only: noise in its header
// (the packet type, the packet id) passes it. These checks find such damage
// from what the header and the payload say together, so that the engine
// can ask for the packet again (RESEND) instead of acknowledging a packet
// it then cannot use. They apply where the header crossed a noisy byte
// stream (KDCOM); media that deliver packets whole check them on their own.

// checksHeaders reports whether packets reach the engine through a byte
// stream whose headers noise can hit (KDCOM, the zero LinkCaps).
func (c LinkCaps) checksHeaders() bool { return !c.NoAcks && !c.ResetKeepsIDs }

// headerDamaged reports why a well-checksummed data packet from the target
// cannot be what it claims, or "" when it can.
func headerDamaged(p Packet) string {
	// Ids alternate between InitialPacketID and InitialPacketID+1; a
	// freshly booted target adds SyncPacketID. Anything else is noise.
	if p.ID&^(SyncPacketID|1) != InitialPacketID {
		return "packet id outside the target's sequence"
	}
	if len(p.Payload) < 4 {
		return "" // the parsers report short payloads
	}
	v := binary.LittleEndian.Uint32(p.Payload)
	switch p.Type {
	case PacketTypeStateManipulate:
		if v < uint32(APIReadVirtualMemory) || v >= 0x3200 {
			return "manipulate packet without a manipulate API number"
		}
	case PacketTypeStateChange64:
		if k := StateKind(v) &^ StateAlternate; k < StateException || k >= 0x3100 {
			return "state change without a state kind"
		}
	case PacketTypeDebugIO:
		if API(v) != APIPrintString && API(v) != APIGetString {
			return "debug I/O packet without a debug I/O API number"
		}
	case PacketTypeFileIO:
		if v < uint32(APICreateFile) || v >= 0x3500 {
			return "file I/O packet without a file I/O API number"
		}
	case PacketTypeTraceIO, PacketTypeControlRequest, PacketTypeStateChange32:
		// Rare but real: left to their handlers.
	default:
		return "packet type the target never sends"
	}
	return ""
}

// echoesAddress reports whether a reply to api repeats the request's
// address (the first 8 bytes of the union) and must be checked against it.
func echoesAddress(api API) bool {
	switch api {
	case APIReadVirtualMemory, APIWriteVirtualMemory, APIReadControlSpace, APIWriteControlSpace,
		APIReadPhysicalMemory, APIWritePhysicalMemory, APIWriteBreakPoint, APIReadIoSpace, APIWriteIoSpace:
		return true
	}
	return false
}

// answers reports whether reply m answers the request of api whose union
// began with addr: the same API and, for requests about an address, the
// same address. A reply to an earlier request (a stale read) fails it.
func answers(m Manipulate, api API, addr uint64) bool {
	if m.API != api {
		return false
	}
	if echoesAddress(api) {
		return binary.LittleEndian.Uint64(m.U[:8]) == addr
	}
	return true
}

// Idempotent reports whether sending request api twice does no more than
// sending it once, so the engine may send it again after a lost reply:
// reads, and writes of the same bytes to the same place.
func (a API) Idempotent() bool {
	switch a {
	case APIReadVirtualMemory, APIWriteVirtualMemory, APIGetContext, APISetContext,
		APIReadControlSpace, APIWriteControlSpace, APIReadIoSpace, APIReadPhysicalMemory,
		APIWritePhysicalMemory, APIReadIoSpaceExtended, APIGetVersion, APIReadMachineSpecificRegister,
		APISearchMemory, APIGetBusData, APIQueryMemory, APIGetContextEx, APISetContextEx:
		return true
	}
	return false
}
