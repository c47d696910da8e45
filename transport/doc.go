// Package transport opens the byte stream between kd and a Windows target's
// kernel debugger, from KD's -k connection strings.
//
// # Connection strings
//
// Parse accepts KD's grammar (see Parse for the full list):
//
//	com:port=com1,baud=115200            serial port (comN is /dev/ttyS{N-1} on Linux, COMN on Windows)
//	com:port=/dev/ttyUSB0                any serial device path, including a pseudo-terminal
//	com:pipe,port=/tmp/win.sock,resets=0,reconnect
//	                                     a VM's serial port as a Unix socket (or \\.\pipe\NAME on Windows)
//	com:pipe,port=/tmp/kd.sock,server    kd listens and the VM connects (our own option)
//	com:ipport=4444,port=127.0.0.1       a serial port exposed over TCP
//	1394:channel=20                      IEEE 1394 (Linux hosts, see below)
//	net:port=50000,key=a.b.c.d           KDNET: parsed and validated here, opened by the console (kdproto/kdnet)
//	sim                                  the embedded simulator (the console wires it)
//
// A bare kd -k reads KD's environment variables instead (FromEnv).
// resets=N is not used here; it is carried in Spec for the protocol engine.
//
// # One interface
//
// Every backend returns a Conn: an io.ReadWriteCloser with read and write
// deadlines that report timeouts as os.ErrDeadlineExceeded, whose Close
// unblocks a pending Read from another goroutine. Optional capabilities are
// found by interface assertion (BaudSetter for serial ports, PacketConn for
// media that carry whole packets: 1394). kdproto picks its link from that:
// KDCOM framing on a byte stream, the mailbox link on a PacketConn. Backends print nothing:
// progress (opened, waiting for a pipe, reconnecting, bus resets) is
// reported through Options.Events and failures through errors, which are
// lower-case, prefixed "transport:", and matchable with errors.Is/As
// (*ParseError, *OpError, fs.ErrPermission, net.ErrClosed, io.EOF).
//
// # Backends
//
// Serial ports use go.bug.st/serial. Its Read returns (0, nil) when its read
// timeout expires; the serial Conn reads in short slices and turns that into
// waiting for the caller's deadline. Its *PortError codes become messages
// that say what to do ("add yourself to the dialout group").
//
// Pipes are Unix-domain sockets on Unix hosts (QEMU's
// -serial unix:PATH,server=on,wait=off, VirtualBox's host pipe) and Windows
// named pipes through github.com/Microsoft/go-winio on Windows. With
// reconnect, a pipe that does not exist yet is waited for, and a pipe that
// breaks (the VM restarted) is reopened inside the Conn: Read and Write
// carry on over the new connection. TCP (com:ipport) shares this code.
//
// # IEEE 1394
//
// KD over 1394 has no packet stream: the target publishes config-ROM keys
// (0x1C = 0x50F2, 0x1D = 2, 0x1E = address of a 32-byte config block tagged
// 0xBABABABA that names the channel and two 4 KiB mailboxes) and the host
// reads and writes the target's memory through the target controller's
// physical DMA. A status word of 0x103 in a mailbox means "packet waiting".
// The Linux backend speaks to /dev/fw* (firewire-cdev). It carries whole
// packets, not a byte stream: its Conn is a PacketConn, whose ReadPacket,
// WritePacket and BreakIn move one mailbox message each (WritePacket returns
// once the target has taken the message, which is how 1394 confirms
// delivery), while Read and Write fail with ErrPacketConn. The messages are
// opaque here: kdproto's 1394 link encodes and checks the KD packets in
// them, and this package does not import kdproto. The mailbox logic runs on
// a small remote-memory interface so that tests drive it against an
// in-memory fake target.
//
// The layout comes from public research (the target side of Microsoft
// Research's Singularity RDK, see spec kdnet-1394.md §A); it has not been
// validated against Windows' own 1394 transport, the meaning of
// symlink=channel|instance is unknown (it is accepted and ignored), and
// Windows after 10 version 1607 has no 1394 debugging at all.
package transport
