package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/gokd/kd/internal/console"
	"github.com/gokd/kd/kdproto/kdnet"
)

// kd --decode FILE -k net:key=K reads a pcap or pcapng capture, finds the
// KDNET datagrams in it, derives the data keys from the handshakes it sees
// and prints the session as kd's packet trace.

const (
	// maxCaptureFile bounds the capture read into memory.
	maxCaptureFile = 256 << 20
	// maxSnap bounds one captured frame (pcap's usual maximum).
	maxSnap = 262144
)

// decodeKey takes the key from a -k net:...,key=K string; port= and
// target= may be present and are not needed.
func decodeKey(connect string) (kdnet.Key, error) {
	rest, ok := strings.CutPrefix(strings.ToLower(connect), "net:")
	if !ok {
		return kdnet.Key{}, errors.New("--decode needs -k net:key=KEY (the key the target was set up with)")
	}
	for _, opt := range strings.Split(rest, ",") {
		if v, ok := strings.CutPrefix(opt, "key="); ok {
			return kdnet.ParseKey(v)
		}
	}
	return kdnet.Key{}, errors.New("--decode needs key= in -k net:key=KEY")
}

// runDecode is kd --decode: it returns the exit status.
func runDecode(file, connect string, stdout, stderr io.Writer) int {
	key, err := decodeKey(connect)
	if err != nil {
		fmt.Fprintf(stderr, "kd: error: %v\nkd: hint: kd --decode capture.pcapng -k net:key=1a2b3c.4d5e6f.7g8h9i.0j1k2l\n", err)
		return console.ExitUsage
	}
	b, err := readCapture(file)
	if err == nil {
		err = decodeCapture(b, key, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kd: error: %s: %v\nkd: hint: give a pcap or pcapng capture of the target's UDP port (tcpdump -w, Wireshark, dumpcap)\n", file, err)
		return console.ExitCommand
	}
	return console.ExitOK
}

func readCapture(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCaptureFrom(f, maxCaptureFile)
}

// readCaptureFrom reads a capture, gunzipping it when it starts with the
// gzip magic (windbg-uncut.pcapng.gz and friends), bounded by limit
// bytes either way.
func readCaptureFrom(r io.Reader, limit int) ([]byte, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %v", err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("capture larger than %d MiB; cut it with editcap or capture with a filter on the KDNET port", limit>>20)
	}
	return b, nil
}

// packetSource is the part of pcapgo's readers decodeCapture uses.
type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// decodeCapture prints every KDNET datagram of the capture b.
func decodeCapture(b []byte, key kdnet.Key, w io.Writer) (err error) {
	ng, err := checkCapture(b)
	if err != nil {
		return err
	}
	defer func() {
		// The container was checked above; this is a last line of
		// defence against a reader bug on hostile input.
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed capture (%v)", r)
		}
	}()
	var src packetSource
	if ng {
		r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return fmt.Errorf("pcapng: %v", err)
		}
		src = r
	} else {
		r, err := pcapgo.NewReader(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("pcap: %v", err)
		}
		src = &pcapSource{r}
	}
	d := kdnet.NewDecoder(key)
	var first time.Time
	frames, udp, fragments := 0, 0, 0
	for {
		data, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("frame %d: %v", frames+1, err)
		}
		frames++
		lt := layers.LinkTypeEthernet
		if len(ci.AncillaryData) > 0 {
			if t, ok := ci.AncillaryData[0].(layers.LinkType); ok {
				lt = t
			}
		}
		p := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		if ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok && (ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0) {
			fragments++
			continue
		}
		u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok {
			continue
		}
		udp++
		x := d.Decode(u.Payload)
		if errors.Is(x.Err, kdnet.ErrMagic) {
			continue // other UDP traffic
		}
		if first.IsZero() {
			first = ci.Timestamp
		}
		var from, to string
		if nl := p.NetworkLayer(); nl != nil {
			from = fmt.Sprintf("%v:%d", nl.NetworkFlow().Src(), u.SrcPort)
			to = fmt.Sprintf("%v:%d", nl.NetworkFlow().Dst(), u.DstPort)
		}
		fmt.Fprintf(w, "#%d %.6f %s > %s %s\n", frames, ci.Timestamp.Sub(first).Seconds(), from, to, x)
	}
	s := d.Stats()
	fmt.Fprintf(w, "kd: %d frames, %d UDP, %d KDNET datagrams: %d offers, %d handshakes, %d KD packets (%d damaged), %d break-ins, %d not decoded\n",
		frames, udp, s.Datagrams, s.Offers, s.Responses, s.KDPackets, s.BadKD, s.BreakIns, s.Rejected)
	if fragments > 0 {
		fmt.Fprintf(w, "kd: %d IP fragments skipped (not reassembled)\n", fragments)
	}
	if s.Datagrams == 0 {
		return errors.New("no KDNET datagrams in the capture")
	}
	switch {
	case s.Offers+s.Responses == 0:
		fmt.Fprintln(w, "kd: hint: no offer or response decrypted with this key: check the key; if it is right, the capture lacks the handshake (start capturing before the target connects, or reboot the target)")
	case s.Responses == 0:
		fmt.Fprintln(w, "kd: hint: no handshake in the capture, so no data key: start capturing before the target connects (or reboot the target)")
	}
	return nil
}

// pcapSource adds the link type to pcap records, as pcapng does.
type pcapSource struct{ r *pcapgo.Reader }

func (s *pcapSource) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := s.r.ReadPacketData()
	ci.AncillaryData = []interface{}{s.r.LinkType()}
	return data, ci, err
}

// checkCapture walks the container before pcapgo reads it, so that no
// length in a hostile file can make the reader allocate more than the file
// holds. It reports whether b is pcapng.
func checkCapture(b []byte) (ng bool, err error) {
	if len(b) < 4 {
		return false, errors.New("not a pcap or pcapng file (too short)")
	}
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		return false, checkPcap(b, binary.LittleEndian)
	case 0xd4c3b2a1, 0x4d3cb2a1:
		return false, checkPcap(b, binary.BigEndian)
	case 0x0a0d0d0a:
		return true, checkPcapng(b)
	}
	return false, errors.New("not a pcap or pcapng file (unknown magic)")
}

func checkPcap(b []byte, bo binary.ByteOrder) error {
	if len(b) < 24 {
		return errors.New("pcap: truncated file header")
	}
	snap := bo.Uint32(b[16:])
	if snap > maxSnap {
		return fmt.Errorf("pcap: snap length %d exceeds %d", snap, maxSnap)
	}
	for off, n := 24, 1; off < len(b); n++ {
		if len(b)-off < 16 {
			return fmt.Errorf("pcap: record %d: truncated header", n)
		}
		caplen := bo.Uint32(b[off+8:])
		if caplen > snap || int64(caplen) > int64(len(b)-off-16) {
			return fmt.Errorf("pcap: record %d: bad captured length %d", n, caplen)
		}
		off += 16 + int(caplen)
	}
	return nil
}

func checkPcapng(b []byte) error {
	var bo binary.ByteOrder = binary.LittleEndian
	for off, n := 0, 1; off < len(b); n++ {
		if len(b)-off < 12 {
			return fmt.Errorf("pcapng: block %d: truncated", n)
		}
		typ := binary.LittleEndian.Uint32(b[off:])
		if typ == 0x0a0d0d0a {
			switch binary.LittleEndian.Uint32(b[off+8:]) {
			case 0x1a2b3c4d:
				bo = binary.LittleEndian
			case 0x4d3c2b1a:
				bo = binary.BigEndian
			default:
				return fmt.Errorf("pcapng: block %d: bad byte-order magic", n)
			}
		} else {
			typ = bo.Uint32(b[off:])
		}
		blen := bo.Uint32(b[off+4:])
		if blen < 12 || blen%4 != 0 || int64(blen) > int64(len(b)-off) {
			return fmt.Errorf("pcapng: block %d: bad length %d", n, blen)
		}
		body := b[off+8 : off+int(blen)-4]
		var caplen uint32
		var fixed int
		switch typ {
		case 2, 6: // packet block, enhanced packet block
			fixed = 20
		case 3: // simple packet block
			fixed = 4
		}
		if fixed > 0 {
			if len(body) < fixed {
				return fmt.Errorf("pcapng: block %d: truncated packet block", n)
			}
			if fixed == 20 {
				caplen = bo.Uint32(body[12:])
			} else {
				caplen = bo.Uint32(body[0:])
			}
			if caplen > maxSnap || int64(caplen) > int64(len(body)-fixed) {
				return fmt.Errorf("pcapng: block %d: bad captured length %d", n, caplen)
			}
		}
		off += int(blen)
	}
	return nil
}
