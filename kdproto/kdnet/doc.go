// Package kdnet is KDNET, the Windows kernel debugger's transport over UDP:
// a codec and two state machines without any I/O (Host, Target: callers
// hand them datagrams and a clock and send what they return), the host's
// UDP link that carries KD packets for kd (Link, link.go), and a Decoder
// that decrypts a recorded session for kd --decode. kdsim's KDNET target is
// a thin loop around Target.
//
// A KDNET datagram is the magic "MDBG", a version byte (2 and 4 are seen;
// the host answers with the target's), a channel byte (0 data, 1 control),
// AES-256-CBC ciphertext and a 16-byte tag. The tag is the first half of an
// HMAC-SHA256 over the six header bytes and the whole plaintext, and it is
// also the CBC IV. The plaintext starts with a 7-byte big-endian counter and
// a flags byte (bit 7 set on host-to-target datagrams, bits 0-3 the number
// of zero bytes that pad the plaintext to whole blocks), then the body.
//
// Keys: the key string set with bcdedit is four base-36 numbers; each,
// stored little-endian in 8 bytes, gives the 32-byte control key that
// encrypts the control channel. Every bit of it inverted is the HMAC key,
// used on both channels for the whole session. The data key is the SHA-256
// of the control key followed by the 322-byte body of the host's response
// to the target's offer; it encrypts the data channel in both directions.
// Each direction counts its data datagrams from 1; a new data key restarts
// both counts.
//
// Handshake: the target sends a 344-byte offer every three seconds (its
// nonce, its address, the configured host address and the last debugger's
// address); the host answers with the nonce, 32 random bytes and zeros,
// under the offer's counter. The target's first data datagram is a 12-byte
// KD "UNUSED" packet holding the host's IPv4 address (hello). After that
// the data channel carries plain KD packets with no serial framing, one per
// datagram, and the single byte 'b' as the break-in. KD RESEND and RESET
// are ordinary control packets inside; a RESET does not renumber anything
// here.
//
// A target at a breakpoint keeps sending offers while the host is idle.
// They are not a lost session: re-keying on them would break it. Host
// therefore ignores offers while its session works and answers only when
// the target restarted (new nonce, zero "last debugger" address) or the
// data channel has gone silent after the host sent something; even then
// the old key serves until the target uses the new one. Every datagram
// that fails a check (size, magic, channel, block alignment, tag, padding,
// direction, counter) is rejected with an error matchable by errors.Is and
// counted in Stats; it changes nothing else.
//
// Keys are the Key type, whose String and Format print a placeholder, and
// key-string errors name the part that is wrong, never its characters.
// The facts here come from public protocol notes, a Wireshark dissector and
// two decrypted public captures (the repository's spec kdnet-1394.md §B).
package kdnet
