package transport

import (
	"net"
	"strconv"
	"strings"
)

// Spec is a parsed KD connection string (the argument of kd -k).
type Spec struct {
	Kind      Kind
	Port      string // serial device, pipe or socket path, or TCP host
	Baud      int    // 0 = not given (serial default DefaultBaud)
	Resets    int    // -1 = not given; 0 = unlimited; carried to the protocol engine
	Reconnect bool   // reopen a missing or broken pipe or socket
	Server    bool   // pipe or TCP: kd listens and accepts one peer (our own option)
	TCPPort   int    // com:ipport=N
	Channel   int    // 1394 channel, 0 to 62
	Symlink   string // 1394: "", "channel" or "instance"
	NetPort   int    // net:port=N
	Key       string // net:key=K, lower case
	Target    string // net:target=H
}

// ParseError reports a connection string (or environment variable) that
// cannot be used. Part is the offending piece as the user wrote it, e.g.
// "baud=1200" or "_NT_DEBUG_PORT=com0".
type ParseError struct {
	Part string
	Msg  string
}

// Error formats e as "transport: PART: MSG".
func (e *ParseError) Error() string {
	if e.Part == "" {
		return "transport: " + e.Msg
	}
	return "transport: " + e.Part + ": " + e.Msg
}

func parseErr(part, msg string) error { return &ParseError{Part: part, Msg: msg} }

// String returns s in KD's syntax with options in a fixed order, e.g.
// `com:pipe,port=/tmp/kd.sock,resets=0,reconnect`. Parse(s.String())
// returns s for every Spec that Parse or FromEnv produced. For KindNet the
// result contains the key.
func (s Spec) String() string {
	var b strings.Builder
	switch s.Kind {
	case KindSerial, KindPipe, KindTCP:
		b.WriteString("com:")
		switch s.Kind {
		case KindPipe:
			b.WriteString("pipe,")
		case KindTCP:
			b.WriteString("ipport=" + strconv.Itoa(s.TCPPort) + ",")
		}
		b.WriteString("port=" + s.Port)
		if s.Baud != 0 {
			b.WriteString(",baud=" + strconv.Itoa(s.Baud))
		}
		if s.Resets >= 0 {
			b.WriteString(",resets=" + strconv.Itoa(s.Resets))
		}
		if s.Reconnect {
			b.WriteString(",reconnect")
		}
		if s.Server {
			b.WriteString(",server")
		}
	case Kind1394:
		b.WriteString("1394:channel=" + strconv.Itoa(s.Channel))
		if s.Symlink != "" {
			b.WriteString(",symlink=" + s.Symlink)
		}
	case KindNet:
		b.WriteString("net:port=" + strconv.Itoa(s.NetPort) + ",key=" + s.Key)
		if s.Target != "" {
			b.WriteString(",target=" + s.Target)
		}
	case KindSim:
		b.WriteString("sim")
	default:
		b.WriteString(s.Kind.String())
	}
	return b.String()
}

// optKind describes one option of a transport.
type optKind int

const (
	optValue optKind = iota // key=value
	optFlag                 // bare key
)

var (
	comOpts = map[string]optKind{
		"port": optValue, "baud": optValue, "pipe": optFlag, "ipport": optValue,
		"resets": optValue, "reconnect": optFlag, "server": optFlag,
	}
	fwOpts  = map[string]optKind{"channel": optValue, "symlink": optValue}
	netOpts = map[string]optKind{"port": optValue, "key": optValue, "target": optValue}
)

// option is one parsed key[=value] with the text it came from.
type option struct {
	raw   string
	value string
}

// Parse parses a KD connection string:
//
//	com:port=PORT[,baud=RATE]                       serial (com1, \\.\com1, /dev/ttyUSB0)
//	com:pipe,port=PATH[,resets=N][,reconnect][,baud=RATE][,server]
//	com:ipport=TCPPORT,port=HOST[,reconnect][,server]
//	1394:channel=N[,symlink=channel|instance]
//	net:port=N,key=K[,target=HOST]
//	sim
//
// Transport names and option keys are case-insensitive, as in KD. Every
// com form also takes resets=N and reconnect. Errors are *ParseError values
// naming the bad part.
func Parse(connect string) (Spec, error) {
	if connect == "" {
		return Spec{}, parseErr("", "empty connection string")
	}
	name, rest, hasColon := strings.Cut(connect, ":")
	s := Spec{Resets: -1}
	switch strings.ToLower(name) {
	case "com":
		opts, err := splitOptions(name, rest, hasColon, comOpts)
		if err != nil {
			return Spec{}, err
		}
		return s, parseCom(&s, connect, opts)
	case "1394":
		opts, err := splitOptions(name, rest, hasColon, fwOpts)
		if err != nil {
			return Spec{}, err
		}
		return s, parse1394(&s, connect, opts)
	case "net":
		opts, err := splitOptions(name, rest, hasColon, netOpts)
		if err != nil {
			return Spec{}, err
		}
		return s, parseNet(&s, connect, opts)
	case "sim":
		if hasColon {
			return Spec{}, parseErr(connect, "sim takes no options")
		}
		s.Kind = KindSim
		return s, nil
	case "usb":
		return Spec{}, parseErr(name, "USB debugging is not supported")
	default:
		return Spec{}, parseErr(name, "unknown transport; want com, 1394, net or sim")
	}
}

// splitOptions splits "k=v,flag,..." checking keys against known.
func splitOptions(name, rest string, hasColon bool, known map[string]optKind) (map[string]option, error) {
	if !hasColon || rest == "" {
		return nil, parseErr(name, "missing options after "+strings.ToLower(name)+":")
	}
	opts := make(map[string]option)
	for _, part := range strings.Split(rest, ",") {
		if part == "" {
			return nil, parseErr(name+":"+rest, "empty option")
		}
		k, v, hasEq := strings.Cut(part, "=")
		key := strings.ToLower(k)
		kind, ok := known[key]
		if !ok {
			return nil, parseErr(part, "unknown option for "+strings.ToLower(name)+"; want "+optionList(known))
		}
		if _, dup := opts[key]; dup {
			return nil, parseErr(part, "duplicate option")
		}
		switch {
		case kind == optFlag && hasEq:
			return nil, parseErr(part, "option takes no value")
		case kind == optValue && v == "":
			return nil, parseErr(part, "missing value")
		}
		opts[key] = option{raw: part, value: v}
	}
	return opts, nil
}

func optionList(known map[string]optKind) string {
	order := []string{"pipe", "ipport", "port", "baud", "resets", "reconnect", "server", "channel", "symlink", "key", "target"}
	var names []string
	for _, k := range order {
		if _, ok := known[k]; ok {
			names = append(names, k)
		}
	}
	return strings.Join(names, ", ")
}

func parseCom(s *Spec, connect string, opts map[string]option) error {
	port, ok := opts["port"]
	if !ok {
		return parseErr(connect, "missing port=")
	}
	s.Port = port.value
	_, pipe := opts["pipe"]
	ipport, isTCP := opts["ipport"]
	switch {
	case pipe && isTCP:
		return parseErr(ipport.raw, "cannot be combined with pipe")
	case pipe:
		s.Kind = KindPipe
	case isTCP:
		s.Kind = KindTCP
		n, ok := atoi(ipport.value)
		if !ok || n < 1 || n > 65535 {
			return parseErr(ipport.raw, "TCP port must be 1 to 65535")
		}
		s.TCPPort = n
	default:
		s.Kind = KindSerial
		if msg := checkSerialPort(s.Port); msg != "" {
			return parseErr(port.raw, msg)
		}
	}
	if o, ok := opts["baud"]; ok {
		n, msg := parseBaud(o.value)
		if msg != "" {
			return parseErr(o.raw, msg)
		}
		s.Baud = n
	}
	if o, ok := opts["resets"]; ok {
		n, ok := atoi(o.value)
		if !ok {
			return parseErr(o.raw, "resets must be a non-negative number")
		}
		s.Resets = n
	}
	_, s.Reconnect = opts["reconnect"]
	if o, ok := opts["server"]; ok {
		if s.Kind == KindSerial {
			return parseErr(o.raw, "only valid with pipe or ipport")
		}
		s.Server = true
	}
	return nil
}

// comNumber recognises comN and \\.\comN (any case, N decimal) and
// returns N, which may still be out of range.
func comNumber(port string) (n int, isCom bool) {
	p := port
	if len(p) > 4 && p[:4] == `\\.\` {
		p = p[4:]
	}
	if len(p) < 4 || !strings.EqualFold(p[:3], "com") {
		return 0, false
	}
	n, ok := atoi(p[3:])
	if !ok {
		return 0, false
	}
	return n, true
}

// checkSerialPort returns why port cannot name a serial port, or "".
func checkSerialPort(port string) string {
	if n, isCom := comNumber(port); isCom {
		if n < 1 || n > 256 {
			return "COM port number must be 1 to 256"
		}
		return ""
	}
	if _, ok := atoi(port); ok {
		return "a bare number is not a port; write com" + port + " or a device path"
	}
	return ""
}

const baudMsg = "rate must be one of 9600, 19200, 38400, 57600, 115200"

// parseBaud validates a baud rate string.
func parseBaud(v string) (int, string) {
	n, ok := atoi(v)
	if !ok || !validBaud(n) {
		return 0, baudMsg
	}
	return n, ""
}

func validBaud(n int) bool {
	for _, r := range BaudRates {
		if n == r {
			return true
		}
	}
	return false
}

func parse1394(s *Spec, connect string, opts map[string]option) error {
	s.Kind = Kind1394
	ch, ok := opts["channel"]
	if !ok {
		return parseErr(connect, "missing channel=")
	}
	n, msg := parseChannel(ch.value)
	if msg != "" {
		return parseErr(ch.raw, msg)
	}
	s.Channel = n
	if o, ok := opts["symlink"]; ok {
		v, msg := parseSymlink(o.value)
		if msg != "" {
			return parseErr(o.raw, msg)
		}
		s.Symlink = v
	}
	return nil
}

func parseChannel(v string) (int, string) {
	n, ok := atoi(v)
	if !ok || n > 62 {
		return 0, "channel must be 0 to 62"
	}
	return n, ""
}

func parseSymlink(v string) (string, string) {
	v = strings.ToLower(v)
	if v != "channel" && v != "instance" {
		return "", "symlink must be channel or instance"
	}
	return v, ""
}

func parseNet(s *Spec, connect string, opts map[string]option) error {
	s.Kind = KindNet
	port, ok := opts["port"]
	if !ok {
		return parseErr(connect, "missing port=")
	}
	n, ok := atoi(port.value)
	if !ok || n < 49152 || n > 65535 {
		return parseErr(port.raw, "port must be 49152 to 65535")
	}
	s.NetPort = n
	key, ok := opts["key"]
	if !ok {
		return parseErr(connect, "missing key=")
	}
	// The key is a secret: errors name the option, not its value.
	k, msg := checkKey(key.value)
	if msg != "" {
		return parseErr("key", msg)
	}
	s.Key = k
	if o, ok := opts["target"]; ok {
		if !validHost(o.value) {
			return parseErr(o.raw, "target must be an IP address or a host name")
		}
		s.Target = o.value
	}
	return nil
}

// checkKey validates a KDNET key (four dot-separated base-36 numbers of at
// most 13 digits, each fitting in 64 bits) and returns it in lower case.
func checkKey(key string) (string, string) {
	parts := strings.Split(key, ".")
	if len(parts) != 4 {
		return "", "key must be four dot-separated base-36 parts"
	}
	for i, p := range parts {
		if p == "" || len(p) > 13 {
			return "", "key part " + strconv.Itoa(i+1) + " must be 1 to 13 base-36 digits"
		}
		for j := 0; j < len(p); j++ {
			c := p[j]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return "", "key part " + strconv.Itoa(i+1) + " is not base-36"
			}
		}
		if _, err := strconv.ParseUint(p, 36, 64); err != nil {
			return "", "key part " + strconv.Itoa(i+1) + " does not fit in 64 bits"
		}
	}
	return strings.ToLower(key), ""
}

// validHost accepts IP addresses and DNS-style host names.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
		}
	}
	return true
}

// atoi parses a non-empty string of ASCII digits (no sign) into an int no
// larger than 1<<31-1.
func atoi(s string) (int, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 31)
	if err != nil {
		return 0, false
	}
	return int(n), true
}
