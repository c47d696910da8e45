// Package kdproto speaks the Windows kernel debugger's packet protocol from
// the debugger's side: KDCOM framing over a serial line, a virtual
// machine's named pipe or any other byte stream, and the same KD packets
// over media that carry them whole (1394 mailboxes, KDNET datagrams).
//
// The package has three layers, each on top of the one before:
//
//	Engine (engine*.go, api.go, writer.go, equeue.go)   the session: ids, ACK/RESEND/RESET,
//	  |                                                  retransmission, resync, events, typed requests
//	Link (link.go)                                       whole KD packets: send, receive, break in
//	  |-- KDCOM   (kdcom.go, reader.go)                  framing on a byte stream
//	  |-- 1394    (mailbox.go)                           one packet per mailbox message
//	  '-- KDNET   (to come)                              packets in encrypted UDP datagrams
//	codec (packet.go, manipulate.go, statechange.go, version.go, debugio.go, context.go, consts.go)
//
// The codec is pure: it turns bytes into values and values into bytes, does
// no I/O, keeps no clock and allocates nothing on its hot paths.
//
// A Link moves whole packets over one medium and says, in its LinkCaps,
// where that medium departs from KDCOM's rules: whether KD ACK packets are
// exchanged at all (1394 confirms delivery by its mailbox status instead)
// and whether a RESET renumbers the packet ids (KDNET keeps them). The KDCOM
// link is a file set of this package rather than a package of its own,
// because NewEngine builds it and the Engine's tests drive it; it is
// everything that knows about bytes between packets: the leader scan, the
// trailing 0xAA, the lone break-in byte. The 1394 link reads and writes the
// mailboxes through transport.PacketConn and checks each message with
// ParseMessage; transport itself parses no KD header. Imports point one
// way: kdproto uses transport, never the reverse.
//
// The Engine is the host's protocol state machine on any Link: it
// acknowledges, retransmits, resynchronises and matches replies to
// requests. One goroutine reads the link and one writes it; a request in
// steady state allocates nothing: the reply's data is copied once, from the
// link's buffer into the caller's, and the ACK of a reply travels in the
// same write as the next request of a multi-packet transfer.
//
// The rest of this comment describes the protocol as kd implements it;
// docs/protocol.md in the repository says the same rule by rule and names
// the test that proves each one.
//
// # Terminology
//
//   - Target: the machine being debugged, or rather the small transport
//     inside its kernel that talks on the wire. Host: the debugger, kd.
//   - Packet: a 16-byte header, optionally followed by a payload and a
//     trailing byte. The header holds a leader, a packet type, the payload
//     length (ByteCount), a packet id and a checksum, all little-endian.
//   - Leader: four equal bytes that open every packet. "0000" (0x30) opens a
//     data packet, "iiii" (0x69) a control packet.
//   - Data packet: carries a payload (a state change, a manipulate request
//     or reply, debug output, a file request) and ends with the byte 0xAA.
//   - Control packet: header only, with ByteCount and Checksum zero and no
//     trailer. There are three: ACK (type 4), RESEND (5) and RESET (6).
//   - State change: the target's report that it stopped (an exception, a
//     module load, a command string). While stopped it obeys manipulate
//     requests (read memory, get context, continue, ...) one at a time.
//   - Break-in: the single byte 0x62 ('b'), sent outside any packet, asking
//     a running target to stop.
//
// # Framing
//
// The payload of a data packet is at most 4000 bytes (MaxPacketSize). Its
// checksum is the plain sum of the payload bytes as a 32-bit value: the
// header and the trailer are not covered, and neither is the packet id, so
// a packet that is renumbered and sent again keeps its checksum. A byte sum
// cannot see two compensating bit flips, so decoders here also bound every
// length a peer announces (PathNameLength, InstructionCount, LengthOfString)
// by the bytes actually present.
//
// ParsePacket decodes one packet from the start of a buffer. Reader does the
// same on a stream and, first, finds the packet: like the target's own
// receive loop it counts equal leader bytes, restarts the count when the
// other leader byte shows up and forgets everything on any other byte. This
// tolerates line noise, a stray break-in byte, runs of "0" or "i" shorter
// than four, and the last ten bytes of a control header that a receiver
// abandoned after reading only its type (ReactOS does that with RESEND).
// Reader goes one step further than the target: more copies of the leader
// byte right after a complete leader are skipped, because no packet type
// starts with 0x30 or 0x69 and a stray "0" glued to a real leader would
// otherwise shift the whole header by one byte. A ByteCount above the limit
// is reported as ErrPacketTooLarge without reading (or allocating) the
// payload; bad trailers and checksums are reported too, and in all three
// cases the next call simply scans on. Each of these errors is a
// *PacketError carrying the header, so the engine can answer with RESEND.
//
// # Packet ids and the sync bit
//
// Each side numbers its own data packets. After a RESET both sides start at
// 0x80800000 and toggle bit 0 with every packet that is acknowledged, so ids
// alternate between 0x80800000 and 0x80800001. A freshly booted target sets
// one more bit, 0x800 (SyncPacketID), in its first id: it is the only sign
// on the wire that the target started over. The ACK for such a packet must
// carry the id with that bit cleared, because the target compares against
// its id with the bit masked. Control packets are not numbered: an ACK
// carries the id it acknowledges, RESEND and RESET carry whatever the sender
// likes (0 from ReactOS and QEMU, 0xDEADBEEF from Xen's kdd).
//
// # ACK, RESEND and RESET
//
// Every well-formed data packet is acknowledged, duplicates included: a
// duplicate is ACKed and then dropped, since a peer that never sees its ACK
// retransmits forever. A damaged packet (bad checksum, missing trailer,
// impossible length) is answered with RESEND and the sender retransmits the
// same bytes. A data packet that arrives while the target waits for an ACK
// counts, for the target, as that ACK; the host's packet is answered with
// RESEND and must be sent again. RESET is the big hammer: either side may
// send it, the other answers with a RESET of its own, both renumber from
// 0x80800000 and the target sends again whatever it was sending, typically
// the state change of the current stop. A RESEND received by a stopped
// target has the same effect on that state change.
//
// # Break-in
//
// A running target does not read packets. From its clock tick it polls the
// line for one byte and stops only if that byte is 0x62; anything else is
// read and thrown away, so a packet sent to a running target is lost. The
// target answers a break-in with an exception state change
// (STATUS_BREAKPOINT). A 0x62 that reaches a target in the middle of
// receiving a packet is remembered only if the line then goes quiet, so a
// host repeats the break-in until the state change arrives.
//
// # Payloads
//
// All payloads use the 64-bit layouts of protocol version 6, on x86 targets
// too, where every address field carries a sign-extended 32-bit value
// (0x80501234 becomes 0xFFFFFFFF80501234). Manipulate is the 0x38-byte
// DBGKD_MANIPULATE_STATE64: API number, processor, return status and a
// 0x28-byte union. The union is kept as raw bytes; small view types (Memory,
// BreakPoint, Continue2, IO, MSR, Version, ...) each encode one member with
// Put and decode it with the method of the same name. Continue2 has two
// layouts, with 64-bit Dr7 and symbol range fields on AMD64 and 32-bit ones
// on x86. StateChange is the 0xF0-byte DBGKD_ANY_WAIT_STATE_CHANGE with its
// control report, which again comes in an AMD64 and an x86 flavour, followed
// by extra data (trace data, an image path, a command string) whose length
// only ByteCount knows for sure. DebugIO carries DbgPrint and DbgPrompt
// text, FileIO the target's requests for files, and Context names the
// registers of the AMD64 (0x4D0-byte) and x86 (0x2CC-byte) CONTEXT records.
// Decoders return values that alias the input buffer; encoders append to a
// caller's buffer, so a loop that reuses its buffers allocates nothing.
//
// # Quirks worth knowing
//
//   - Continue, Continue2, Reboot, CauseBugCheck, SwitchProcessor and
//     ClearAllInternalBreakpoints are acknowledged but never answered
//     (API.HasReply); waiting for their reply hangs.
//   - A data packet whose type the target did not expect is ACKed and
//     ignored without advancing the target's expected id: the host sees an
//     ACK and no reply, and only a RESET brings the two sides back in step.
//   - SetContext is refused unless a GetContext came first in the same stop.
//   - Over VM pipes, which buffer everything, queued RESETs can be answered
//     long after they were sent and start a "RESET ping-pong".
//   - Requests from WinDbg carry ReturnStatus STATUS_PENDING and do not zero
//     padding or unused union bytes; decoders here ignore padding and
//     encoders always zero it.
//   - Status is an NTSTATUS and also an error; fmt prints an error with its
//     Error method, so format a Status with its String method explicitly.
//
// # Sources
//
// Everything here was worked out from public material: the windbgkd.h and
// wdbgexts.h headers as published by ReactOS, ReactOS's own target-side
// kddll and kd64 code, the rizin and radare2 KD hosts, VirtualKD-Redux's
// target emulation, the ISP RAS WinDbg stub for QEMU, Xen's kdd, a KDNET
// Wireshark dissector and Microsoft's public debugger documentation.
// Microsoft's own kdcom sources were not used. Where these disagree (the
// maximum packet size, the id a RESEND or RESET carries, whether the
// checksum is checked at all) kd follows the ReactOS target, the most
// complete of them.
package kdproto
