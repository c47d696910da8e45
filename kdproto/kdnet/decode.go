package kdnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/gokd/kd/kdproto"
)

// maxDecodeKeys bounds the data keys a Decoder remembers (one per
// handshake seen, newest first).
const maxDecodeKeys = 8

// ErrNoDataKey means a data datagram arrived before any handshake was seen,
// so there is no key to try.
var ErrNoDataKey = errors.New("kdnet: no data key yet (the capture does not hold the handshake)")

// Decoder decrypts a recorded KDNET conversation, both directions, for
// kd --decode: it derives each data key from the responses it sees and
// decodes the KD packet in every data datagram. It never sends anything.
type Decoder struct {
	control Key
	ctl     *Cipher
	hmac    Key
	keys    []*Cipher // data keys, newest first
	plain   []byte
	stats   DecodeStats
}

// DecodeStats counts what a Decoder saw.
type DecodeStats struct {
	Datagrams  int // KDNET datagrams (magic present)
	Offers     int
	Responses  int // handshakes: one data key each
	KDPackets  int // data datagrams with a KD packet
	BadKD      int // of those, damaged KD packets
	BreakIns   int
	Rejected   int // did not authenticate or failed another check
	NotKDNET   int // UDP payloads without the magic
	KeysTried  int // data datagrams that needed an older key
	NoDataKeys int // data datagrams before any handshake
}

// NewDecoder returns a Decoder for the control key.
func NewDecoder(control Key) *Decoder {
	hk := HMACKey(control)
	return &Decoder{control: control, ctl: NewCipher(control, hk), hmac: hk}
}

// Stats returns the counts so far.
func (d *Decoder) Stats() DecodeStats { return d.stats }

// Decoded is one decoded datagram. Body and Packet alias the Decoder's
// buffer until the next Decode.
type Decoded struct {
	Datagram         // valid when Err is nil
	Err       error  // why the datagram was not decoded
	Kind      string // "offer", "response", "hello", "break-in", "kd", "control", "data"
	Offer     *Offer // Kind "offer"
	Key       int    // Kind "response": the number of the new data key (1, 2, ...)
	Packet    kdproto.Packet
	PacketErr error // Kind "kd": the KD packet is damaged
}

// Decode decodes one UDP payload.
func (d *Decoder) Decode(b []byte) Decoded {
	if _, _, err := CheckHeader(b); err != nil {
		if errors.Is(err, ErrMagic) {
			d.stats.NotKDNET++
		} else {
			d.stats.Datagrams++
			d.stats.Rejected++
		}
		return Decoded{Err: err}
	}
	d.stats.Datagrams++
	if Channel(b[5]) == ChannelControl {
		dg, plain, err := d.ctl.Open(b, d.plain)
		d.plain = plain
		if err != nil {
			d.stats.Rejected++
			return Decoded{Err: err}
		}
		x := Decoded{Datagram: dg, Kind: "control"}
		switch {
		case IsOffer(dg.Body):
			if o, err := ParseOffer(dg.Body); err == nil {
				x.Kind, x.Offer = "offer", &o
				d.stats.Offers++
			}
		case IsResponse(dg.Body) && len(dg.Body) == ResponseSize:
			c := NewCipher(DataKey(d.control, dg.Body), d.hmac)
			d.keys = append([]*Cipher{c}, d.keys[:min(len(d.keys), maxDecodeKeys-1)]...)
			d.stats.Responses++
			x.Kind, x.Key = "response", d.stats.Responses
		}
		return x
	}
	if len(d.keys) == 0 {
		d.stats.NoDataKeys++
		d.stats.Rejected++
		return Decoded{Err: ErrNoDataKey}
	}
	for i, c := range d.keys {
		dg, plain, err := c.Open(b, d.plain)
		d.plain = plain
		if errors.Is(err, ErrAuth) {
			continue
		}
		if err != nil {
			d.stats.Rejected++
			return Decoded{Err: err}
		}
		if i > 0 {
			d.stats.KeysTried++
		}
		return d.data(dg)
	}
	d.stats.Rejected++
	return Decoded{Err: ErrAuth}
}

func (d *Decoder) data(dg Datagram) Decoded {
	x := Decoded{Datagram: dg, Kind: "data"}
	if _, ok := ParseHello(dg.Body); ok {
		x.Kind = "hello"
		return x
	}
	if len(dg.Body) == 1 && dg.Body[0] == BreakIn {
		d.stats.BreakIns++
		x.Kind = "break-in"
		return x
	}
	p, err := parseKD(dg.Body, kdproto.MaxPacketSize)
	var pe *kdproto.PacketError
	switch {
	case err == nil:
		x.Kind, x.Packet = "kd", p
		d.stats.KDPackets++
	case errors.As(err, &pe):
		x.Kind, x.Packet, x.PacketErr = "kd", kdproto.Packet{Header: pe.Header}, err
		d.stats.KDPackets++
		d.stats.BadKD++
	default:
		x.PacketErr = err
	}
	return x
}

// String formats x as one line of kd's packet trace: "->" host to target,
// "<-" target to host, "??" when the datagram did not decode.
func (x Decoded) String() string {
	if x.Err != nil {
		return fmt.Sprintf("?? KDNET datagram not decoded: %v", x.Err)
	}
	dir := kdproto.DirIn
	if x.FromHost {
		dir = kdproto.DirOut
	}
	switch x.Kind {
	case "kd":
		return kdproto.TraceRecord{Dir: dir, Packet: x.Packet, Err: x.PacketErr}.String() + fmt.Sprintf(" [kdnet #%d]", x.Counter)
	case "break-in":
		return kdproto.TraceRecord{Dir: dir, Breakin: true}.String() + fmt.Sprintf(" [kdnet #%d]", x.Counter)
	case "offer":
		o := x.Offer
		return fmt.Sprintf("%s KDNET offer v%d counter=%d target=%s host=%s last=%s",
			dir, x.Version, x.Counter, addrString(o.TargetIP, o.TargetPort), addrString(o.HostIP, o.HostPort), addrString(o.LastIP, o.LastPort))
	case "response":
		return fmt.Sprintf("%s KDNET response v%d counter=%d: data key #%d", dir, x.Version, x.Counter, x.Key)
	case "hello":
		ip, _ := ParseHello(x.Body)
		return fmt.Sprintf("%s KDNET hello host=%v [kdnet #%d]", dir, ip, x.Counter)
	case "data":
		return fmt.Sprintf("%s KDNET data, %d bytes, not a KD packet: %v [kdnet #%d]", dir, len(x.Body), x.PacketErr, x.Counter)
	}
	return fmt.Sprintf("%s KDNET control message, %d bytes [kdnet #%d]", dir, len(x.Body), x.Counter)
}

// addrString formats an offer address and port, "-" when both are zero.
func addrString(ip net.IP, port uint16) string {
	a := hostAddr(ip)
	if !a.IsValid() && port == 0 {
		return "-"
	}
	if !a.IsValid() {
		a = netip.IPv4Unspecified()
	}
	return netip.AddrPortFrom(a, port).String()
}
