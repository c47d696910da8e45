package kdnet

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
)

// Wire constants of a KDNET datagram (the UDP payload).
const (
	// Magic opens every datagram: "MDBG".
	Magic = "MDBG"
	// HeaderSize is the cleartext header: magic, version, channel.
	HeaderSize = 6
	// TagSize is the truncated HMAC-SHA256 at the end, also the CBC IV.
	TagSize = 16
	// PlainHeaderSize is the counter (7 bytes) and the flags byte that
	// open the plaintext.
	PlainHeaderSize = 8
	// MinDatagramSize is the smallest valid datagram: one cipher block.
	MinDatagramSize = HeaderSize + aes.BlockSize + TagSize
	// MaxDatagramSize bounds what kd accepts and sends. The largest
	// datagram seen from Windows is 1334 bytes; a full KD packet (16-byte
	// header, 4000-byte payload) needs 4054.
	MaxDatagramSize = 4096
	// MaxBody is the largest body that fits in MaxDatagramSize.
	MaxBody = (MaxDatagramSize-HeaderSize-TagSize)/aes.BlockSize*aes.BlockSize - PlainHeaderSize
	// MaxCounter is the largest 7-byte counter.
	MaxCounter = 1<<56 - 1

	flagHost = 0x80 // direction bit: set on host-to-target datagrams
	padMask  = 0x0F
)

// Channel is the byte after the version: which key encrypts the datagram.
type Channel byte

// The two channels.
const (
	ChannelData    Channel = 0 // KD packets and break-in, data key
	ChannelControl Channel = 1 // offers and responses, control key
)

func (c Channel) String() string {
	switch c {
	case ChannelData:
		return "data"
	case ChannelControl:
		return "control"
	}
	return "channel(" + itoa(int(c)) + ")"
}

// Datagram is one decoded KDNET datagram.
type Datagram struct {
	Version  byte    // protocol version byte (2 and 4 observed)
	Channel  Channel // data or control
	Counter  uint64  // 7-byte sequence counter of the sender
	FromHost bool    // the direction bit
	Body     []byte  // KD packet, break-in byte or control message
}

// Codec errors. Open wraps them so that callers branch with errors.Is.
var (
	// ErrTruncated means the datagram is shorter than one block and a tag.
	ErrTruncated = errors.New("kdnet: truncated datagram")
	// ErrOversize means the datagram exceeds MaxDatagramSize.
	ErrOversize = errors.New("kdnet: datagram too large")
	// ErrMagic means the datagram does not start with "MDBG".
	ErrMagic = errors.New("kdnet: not a KDNET datagram (no MDBG magic)")
	// ErrChannel means the channel byte is neither data nor control.
	ErrChannel = errors.New("kdnet: unknown channel")
	// ErrBlocks means the ciphertext is not a whole number of blocks.
	ErrBlocks = errors.New("kdnet: ciphertext is not whole AES blocks")
	// ErrAuth means the datagram did not authenticate with the key tried.
	ErrAuth = errors.New("kdnet: datagram does not authenticate")
	// ErrPadding means the pad length exceeds the plaintext.
	ErrPadding = errors.New("kdnet: bad padding length")
	// ErrBodyTooLarge means a body to send exceeds MaxBody.
	ErrBodyTooLarge = errors.New("kdnet: body too large for one datagram")
)

// CheckHeader validates what can be checked without a key: size, magic,
// channel and block alignment. It returns the version and channel.
func CheckHeader(b []byte) (version byte, ch Channel, err error) {
	n := min(len(b), len(Magic))
	switch {
	case len(b) > MaxDatagramSize:
		return 0, 0, ErrOversize
	case string(b[:n]) != Magic[:n]:
		return 0, 0, ErrMagic
	case len(b) < MinDatagramSize:
		return 0, 0, ErrTruncated
	case Channel(b[5]) != ChannelData && Channel(b[5]) != ChannelControl:
		return 0, 0, ErrChannel
	case (len(b)-HeaderSize-TagSize)%aes.BlockSize != 0:
		return 0, 0, ErrBlocks
	}
	return b[4], Channel(b[5]), nil
}

// Cipher holds the keys of one channel: an AES-256 key for the payload and
// the HMAC key for the tag.
// A Cipher keeps hashing state between calls: it is not safe for
// concurrent use.
type Cipher struct {
	block cipher.Block
	mac   hash.Hash
	sum   [sha256.Size]byte
}

// NewCipher prepares enc (the control or the data key) with the HMAC key.
func NewCipher(enc, hmacKey Key) *Cipher {
	b, err := aes.NewCipher(enc[:])
	if err != nil { // impossible: the key is always 32 bytes
		panic("kdnet: " + err.Error())
	}
	return &Cipher{block: b, mac: hmac.New(sha256.New, hmacKey[:])}
}

// Open authenticates and decrypts the datagram b with c. The plaintext is
// written into scratch (grown if too small) and d.Body aliases it; b is not
// modified. A datagram that fails any check yields an error and no Body.
func (c *Cipher) Open(b, scratch []byte) (d Datagram, plain []byte, err error) {
	v, ch, err := CheckHeader(b)
	if err != nil {
		return Datagram{}, scratch, err
	}
	ct := b[HeaderSize : len(b)-TagSize]
	iv := b[len(b)-TagSize:]
	if cap(scratch) < len(ct) {
		scratch = make([]byte, len(ct))
	}
	plain = scratch[:len(ct)]
	cipher.NewCBCDecrypter(c.block, iv).CryptBlocks(plain, ct)
	if !hmac.Equal(c.tag(b[:HeaderSize], plain), iv) {
		return Datagram{}, plain, ErrAuth
	}
	flags := plain[7]
	pad := int(flags & padMask)
	if pad > len(plain)-PlainHeaderSize {
		return Datagram{}, plain, ErrPadding
	}
	d = Datagram{
		Version:  v,
		Channel:  ch,
		Counter:  uint64(binary.BigEndian.Uint64(plain[:8]) >> 8),
		FromHost: flags&flagHost != 0,
		Body:     plain[PlainHeaderSize : len(plain)-pad],
	}
	return d, plain, nil
}

// Seal appends the datagram d, encrypted and authenticated with c, to dst.
// The counter is truncated to 7 bytes.
func (c *Cipher) Seal(dst []byte, d Datagram) ([]byte, error) {
	if len(d.Body) > MaxBody {
		return dst, ErrBodyTooLarge
	}
	n := PlainHeaderSize + len(d.Body)
	pad := (aes.BlockSize - n%aes.BlockSize) % aes.BlockSize
	start := len(dst)
	total := HeaderSize + n + pad + TagSize
	dst = grow(dst, total)
	out := dst[start:]
	copy(out, Magic)
	out[4] = d.Version
	out[5] = byte(d.Channel)
	plain := out[HeaderSize : HeaderSize+n+pad]
	binary.BigEndian.PutUint64(plain[:8], (d.Counter&MaxCounter)<<8)
	flags := byte(pad)
	if d.FromHost {
		flags |= flagHost
	}
	plain[7] = flags
	copy(plain[PlainHeaderSize:], d.Body)
	clear(plain[n:])
	t := out[HeaderSize+n+pad:]
	copy(t, c.tag(out[:HeaderSize], plain))
	cipher.NewCBCEncrypter(c.block, t).CryptBlocks(plain, plain)
	return dst, nil
}

// tag returns the truncated HMAC-SHA256 of header and plaintext; the
// result aliases c.sum.
func (c *Cipher) tag(header, plain []byte) []byte {
	c.mac.Reset()
	c.mac.Write(header)
	c.mac.Write(plain)
	return c.mac.Sum(c.sum[:0])[:TagSize]
}

// grow extends b by n bytes, reallocating only when needed.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// itoa formats a small non-negative int.
func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
