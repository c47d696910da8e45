package kdnet

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// KeySize is the size in bytes of every KDNET key: the control key, the
// HMAC key and the data key are all 256 bits.
const KeySize = 32

// Key is a 256-bit KDNET key. Its String method never shows the bytes, so a
// Key printed by mistake (with %v, in a log line, in a panic) leaks nothing.
type Key [KeySize]byte

// String returns a fixed placeholder, never the key.
func (Key) String() string { return "(kdnet key)" }

// GoString returns the same placeholder as String, for %#v.
func (Key) GoString() string { return "kdnet.Key(hidden)" }

// Format makes every fmt verb print the placeholder, %x included.
func (k Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// KeyError reports a key string that cannot be used. It names the part and
// the problem, never the key's characters.
type KeyError struct {
	Part int    // 1-based part number, 0 for the string as a whole
	Msg  string // what is wrong
}

// Error formats e as "kdnet: key: MSG" or "kdnet: key part N: MSG".
func (e *KeyError) Error() string {
	if e.Part == 0 {
		return "kdnet: key: " + e.Msg
	}
	return "kdnet: key part " + strconv.Itoa(e.Part) + ": " + e.Msg
}

// ErrKey is matched by every *KeyError through errors.Is.
var ErrKey = errors.New("kdnet: bad key")

// Is makes errors.Is(err, ErrKey) true for a *KeyError.
func (e *KeyError) Is(target error) bool { return target == ErrKey }

// maxKeyString bounds the input before any work: four parts of 13 digits and
// three dots.
const maxKeyString = 4*13 + 3

// ParseKey turns a key string as bcdedit prints it (four dot-separated
// base-36 numbers such as "1a2b3c.4d5e6f.7g8h9i.0j1k2l") into the control
// key: each number stored little-endian in 8 bytes, in order. Digits are
// 0-9 and a-z; upper-case letters are accepted as the same digits. Errors
// never repeat any part of the key.
func ParseKey(s string) (Key, error) {
	var k Key
	if len(s) > maxKeyString {
		return k, &KeyError{Msg: "too long; want four dot-separated base-36 parts of at most 13 digits"}
	}
	part, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			continue
		}
		if part == 4 {
			return Key{}, &KeyError{Msg: "more than four dot-separated parts"}
		}
		v, err := parseWord(s[start:i], part+1)
		if err != nil {
			return Key{}, err
		}
		binary.LittleEndian.PutUint64(k[8*part:], v)
		part++
		start = i + 1
	}
	if part != 4 {
		return Key{}, &KeyError{Msg: "want four dot-separated base-36 parts, got " + strconv.Itoa(part)}
	}
	return k, nil
}

// parseWord parses one base-36 part without echoing it.
func parseWord(w string, part int) (uint64, error) {
	if w == "" || len(w) > 13 {
		return 0, &KeyError{Part: part, Msg: "must be 1 to 13 base-36 digits"}
	}
	var v uint64
	for i := 0; i < len(w); i++ {
		c := w[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'z':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'Z':
			d = uint64(c-'A') + 10
		default:
			return 0, &KeyError{Part: part, Msg: "has a character that is not a base-36 digit (0-9, a-z)"}
		}
		if v > (^uint64(0)-d)/36 {
			return 0, &KeyError{Part: part, Msg: "does not fit in 64 bits"}
		}
		v = v*36 + d
	}
	return v, nil
}

// HMACKey returns the authentication key of a control key: every bit
// inverted. The same HMAC key authenticates both channels, also after the
// data key exists.
func HMACKey(control Key) Key {
	var h Key
	for i := range control {
		h[i] = ^control[i]
	}
	return h
}

// DataKey derives the session key from the control key and the 322-byte
// body of the host's response: SHA-256(control key ‖ response body). The
// same data key encrypts both directions of the data channel.
func DataKey(control Key, response []byte) Key {
	h := sha256.New()
	h.Write(control[:])
	h.Write(response)
	var k Key
	h.Sum(k[:0])
	return k
}
