package transport

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Spec
		str  string // canonical form; "" means same as in
	}{
		{in: "com:port=com1,baud=115200", want: Spec{Kind: KindSerial, Port: "com1", Baud: 115200, Resets: -1}},
		{in: "com:port=com2,baud=57600", want: Spec{Kind: KindSerial, Port: "com2", Baud: 57600, Resets: -1}},
		{in: `com:port=\\.\com2,baud=115200`, want: Spec{Kind: KindSerial, Port: `\\.\com2`, Baud: 115200, Resets: -1}},
		{in: "com:port=COM256", want: Spec{Kind: KindSerial, Port: "COM256", Resets: -1}},
		{in: "com:port=/dev/ttyUSB0", want: Spec{Kind: KindSerial, Port: "/dev/ttyUSB0", Resets: -1}},
		{in: "com:port=/dev/pts/3,baud=9600", want: Spec{Kind: KindSerial, Port: "/dev/pts/3", Baud: 9600, Resets: -1}},
		{in: "com:port=com1,baud=115200,reconnect", want: Spec{Kind: KindSerial, Port: "com1", Baud: 115200, Resets: -1, Reconnect: true}},
		{in: "COM:PORT=com1,Baud=19200", want: Spec{Kind: KindSerial, Port: "com1", Baud: 19200, Resets: -1}, str: "com:port=com1,baud=19200"},
		{in: "com:baud=38400,port=com3", want: Spec{Kind: KindSerial, Port: "com3", Baud: 38400, Resets: -1}, str: "com:port=com3,baud=38400"},
		{in: "com:pipe,port=/tmp/kd.sock", want: Spec{Kind: KindPipe, Port: "/tmp/kd.sock", Resets: -1}},
		{in: "com:pipe,port=/tmp/win.sock,resets=0,reconnect", want: Spec{Kind: KindPipe, Port: "/tmp/win.sock", Resets: 0, Reconnect: true}},
		{in: `com:pipe,port=\\.\pipe\com_1,baud=115200,reconnect,resets=0`,
			want: Spec{Kind: KindPipe, Port: `\\.\pipe\com_1`, Baud: 115200, Resets: 0, Reconnect: true},
			str:  `com:pipe,port=\\.\pipe\com_1,baud=115200,resets=0,reconnect`},
		{in: `com:pipe,port=\\VMHost\pipe\PipeName,resets=5`, want: Spec{Kind: KindPipe, Port: `\\VMHost\pipe\PipeName`, Resets: 5}},
		{in: "com:port=/tmp/kd.sock,pipe,server", want: Spec{Kind: KindPipe, Port: "/tmp/kd.sock", Resets: -1, Server: true}, str: "com:pipe,port=/tmp/kd.sock,server"},
		{in: "com:ipport=4444,port=127.0.0.1", want: Spec{Kind: KindTCP, Port: "127.0.0.1", TCPPort: 4444, Resets: -1}},
		{in: "com:ipport=5003,port=10.73.0.140,reconnect", want: Spec{Kind: KindTCP, Port: "10.73.0.140", TCPPort: 5003, Resets: -1, Reconnect: true}},
		{in: "com:ipport=4444,port=0.0.0.0,server", want: Spec{Kind: KindTCP, Port: "0.0.0.0", TCPPort: 4444, Resets: -1, Server: true}},
		{in: "1394:channel=20", want: Spec{Kind: Kind1394, Channel: 20, Resets: -1}},
		{in: "1394:channel=0", want: Spec{Kind: Kind1394, Channel: 0, Resets: -1}},
		{in: "1394:channel=62,symlink=instance", want: Spec{Kind: Kind1394, Channel: 62, Symlink: "instance", Resets: -1}},
		{in: "1394:Channel=44,SYMLINK=Channel", want: Spec{Kind: Kind1394, Channel: 44, Symlink: "channel", Resets: -1}, str: "1394:channel=44,symlink=channel"},
		{in: "net:port=50000,key=1.2.3.4", want: Spec{Kind: KindNet, NetPort: 50000, Key: "1.2.3.4", Resets: -1}},
		{in: "net:port=49152,key=2steg4fzbj2sz.23d4zoqmcqxd.1wlq5cxmcfnnb.1a7cnp2ggnqzq,target=192.168.1.20",
			want: Spec{Kind: KindNet, NetPort: 49152, Key: "2steg4fzbj2sz.23d4zoqmcqxd.1wlq5cxmcfnnb.1a7cnp2ggnqzq", Target: "192.168.1.20", Resets: -1}},
		{in: "net:port=65535,key=A.B.C.D,target=win-target.lab", want: Spec{Kind: KindNet, NetPort: 65535, Key: "a.b.c.d", Target: "win-target.lab", Resets: -1},
			str: "net:port=65535,key=a.b.c.d,target=win-target.lab"},
		{in: "sim", want: Spec{Kind: KindSim, Resets: -1}},
		{in: "SIM", want: Spec{Kind: KindSim, Resets: -1}, str: "sim"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %+v; want %+v", tt.in, got, tt.want)
			}
			str := tt.str
			if str == "" {
				str = tt.in
			}
			if got.String() != str {
				t.Errorf("Parse(%q).String() = %q; want %q", tt.in, got.String(), str)
			}
			again, err := Parse(got.String())
			if err != nil || again != got {
				t.Errorf("Parse(%q) = %+v, %v; want %+v", got.String(), again, err, got)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "transport: empty connection string"},
		{"usb:targetname=x", "transport: usb: USB debugging is not supported"},
		{"serial:com1", "transport: serial: unknown transport; want com, 1394, net or sim"},
		{"com", "transport: com: missing options after com:"},
		{"com:", "transport: com: missing options after com:"},
		{"sim:x", "transport: sim:x: sim takes no options"},
		{"com:port=com1,baud=1200", "transport: baud=1200: rate must be one of 9600, 19200, 38400, 57600, 115200"},
		{"com:port=com1,baud=fast", "transport: baud=fast: rate must be one of 9600, 19200, 38400, 57600, 115200"},
		{"com:port=com1,baud=-9600", "transport: baud=-9600: rate must be one of 9600, 19200, 38400, 57600, 115200"},
		{"com:port=com1,baud", "transport: baud: missing value"},
		{"com:port=com1,baud=", "transport: baud=: missing value"},
		{"com:port=", "transport: port=: missing value"},
		{"com:baud=9600", "transport: com:baud=9600: missing port="},
		{"com:port=com1,speed=9600", "transport: speed=9600: unknown option for com; want pipe, ipport, port, baud, resets, reconnect, server"},
		{"com:port=com1,,baud=9600", "transport: com:port=com1,,baud=9600: empty option"},
		{"com:port=com1,", "transport: com:port=com1,: empty option"},
		{"com:port=com1,port=com2", "transport: port=com2: duplicate option"},
		{"com:port=com1,BAUD=9600,baud=9600", "transport: baud=9600: duplicate option"},
		{"com:port=com1,reconnect=yes", "transport: reconnect=yes: option takes no value"},
		{"com:pipe=1,port=/tmp/x", "transport: pipe=1: option takes no value"},
		{"com:port=com0", "transport: port=com0: COM port number must be 1 to 256"},
		{"com:port=com257", "transport: port=com257: COM port number must be 1 to 256"},
		{`com:port=\\.\com0`, `transport: port=\\.\com0: COM port number must be 1 to 256`},
		{"com:port=2", "transport: port=2: a bare number is not a port; write com2 or a device path"},
		{"com:port=com1,server", "transport: server: only valid with pipe or ipport"},
		{"com:port=com1,resets=-1", "transport: resets=-1: resets must be a non-negative number"},
		{"com:pipe,port=/tmp/x,resets=many", "transport: resets=many: resets must be a non-negative number"},
		{"com:pipe,port=/tmp/x,resets=99999999999", "transport: resets=99999999999: resets must be a non-negative number"},
		{"com:pipe,ipport=4444,port=h", "transport: ipport=4444: cannot be combined with pipe"},
		{"com:ipport=0,port=h", "transport: ipport=0: TCP port must be 1 to 65535"},
		{"com:ipport=65536,port=h", "transport: ipport=65536: TCP port must be 1 to 65535"},
		{"com:ipport=http,port=h", "transport: ipport=http: TCP port must be 1 to 65535"},
		{"com:ipport=4444", "transport: com:ipport=4444: missing port="},
		{"com:pipe", "transport: com:pipe: missing port="},
		{"1394:", "transport: 1394: missing options after 1394:"},
		{"1394:symlink=instance", "transport: 1394:symlink=instance: missing channel="},
		{"1394:channel=63", "transport: channel=63: channel must be 0 to 62"},
		{"1394:channel=-1", "transport: channel=-1: channel must be 0 to 62"},
		{"1394:channel=20,symlink=bogus", "transport: symlink=bogus: symlink must be channel or instance"},
		{"1394:channel=20,baud=9600", "transport: baud=9600: unknown option for 1394; want channel, symlink"},
		{"1394:channel=1,channel=2", "transport: channel=2: duplicate option"},
		{"net:key=1.2.3.4", "transport: net:key=1.2.3.4: missing port="},
		{"net:port=50000", "transport: net:port=50000: missing key="},
		{"net:port=50000,key=1.2.3.4,busparams=0.25.0", "transport: busparams=0.25.0: unknown option for net; want port, key, target"},
		{"net:port=49151,key=1.2.3.4", "transport: port=49151: port must be 49152 to 65535"},
		{"net:port=65536,key=1.2.3.4", "transport: port=65536: port must be 49152 to 65535"},
		{"net:port=50000,key=1.2.3", "transport: key: key must be four dot-separated base-36 parts"},
		{"net:port=50000,key=1.2.3.4.5", "transport: key: key must be four dot-separated base-36 parts"},
		{"net:port=50000,key=1..3.4", "transport: key: key part 2 must be 1 to 13 base-36 digits"},
		{"net:port=50000,key=1.2.3.12345678901234", "transport: key: key part 4 must be 1 to 13 base-36 digits"},
		{"net:port=50000,key=1.2.3!.4", "transport: key: key part 3 is not base-36"},
		{"net:port=50000,key=zzzzzzzzzzzzz.1.2.3", "transport: key: key part 1 does not fit in 64 bits"},
		{"net:port=50000,key=1.2.3.4,target=bad_host!", "transport: target=bad_host!: target must be an IP address or a host name"},
		{"net:port=50000,key=1.2.3.4,target=-x.lab", "transport: target=-x.lab: target must be an IP address or a host name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v; want error %q", tt.in, got, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q) error = %q; want %q", tt.in, err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("Parse(%q) error %T is not a *ParseError", tt.in, err)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Spec
		str     string
		wantErr string
	}{
		{name: "port only", env: map[string]string{EnvPort: "com1"},
			want: Spec{Kind: KindSerial, Port: "com1", Resets: -1}, str: "com:port=com1"},
		{name: "port and baud", env: map[string]string{EnvPort: "com1", EnvBaudRate: "115200"},
			want: Spec{Kind: KindSerial, Port: "com1", Baud: 115200, Resets: -1}, str: "com:port=com1,baud=115200"},
		{name: "device path", env: map[string]string{EnvPort: "/dev/ttyUSB0", EnvBaudRate: "19200"},
			want: Spec{Kind: KindSerial, Port: "/dev/ttyUSB0", Baud: 19200, Resets: -1}, str: "com:port=/dev/ttyUSB0,baud=19200"},
		{name: "1394", env: map[string]string{EnvBus: "1394", Env1394Channel: "44"},
			want: Spec{Kind: Kind1394, Channel: 44, Resets: -1}, str: "1394:channel=44"},
		{name: "1394 symlink, port ignored", env: map[string]string{EnvBus: "1394", Env1394Channel: "20", Env1394Symlink: "Instance", EnvPort: "com1"},
			want: Spec{Kind: Kind1394, Channel: 20, Symlink: "instance", Resets: -1}, str: "1394:channel=20,symlink=instance"},
		{name: "nothing", env: map[string]string{},
			wantErr: "transport: no connection string given and neither _NT_DEBUG_PORT nor _NT_DEBUG_BUS is set"},
		{name: "baud without port", env: map[string]string{EnvBaudRate: "115200"},
			wantErr: "transport: _NT_DEBUG_BAUD_RATE=115200: _NT_DEBUG_PORT is not set"},
		{name: "bad baud", env: map[string]string{EnvPort: "com1", EnvBaudRate: "1200"},
			wantErr: "transport: _NT_DEBUG_BAUD_RATE=1200: rate must be one of 9600, 19200, 38400, 57600, 115200"},
		{name: "bad port", env: map[string]string{EnvPort: "com0"},
			wantErr: "transport: _NT_DEBUG_PORT=com0: COM port number must be 1 to 256"},
		{name: "bare number port", env: map[string]string{EnvPort: "1"},
			wantErr: "transport: _NT_DEBUG_PORT=1: a bare number is not a port; write com1 or a device path"},
		{name: "comma in port", env: map[string]string{EnvPort: "com1,baud=9600"},
			wantErr: "transport: _NT_DEBUG_PORT=com1,baud=9600: a port name cannot contain a comma"},
		{name: "other bus", env: map[string]string{EnvBus: "usb"},
			wantErr: "transport: _NT_DEBUG_BUS=usb: only 1394 is supported"},
		{name: "1394 without channel", env: map[string]string{EnvBus: "1394"},
			wantErr: "transport: _NT_DEBUG_BUS=1394: _NT_DEBUG_1394_CHANNEL is not set"},
		{name: "1394 bad channel", env: map[string]string{EnvBus: "1394", Env1394Channel: "99"},
			wantErr: "transport: _NT_DEBUG_1394_CHANNEL=99: channel must be 0 to 62"},
		{name: "1394 bad symlink", env: map[string]string{EnvBus: "1394", Env1394Channel: "1", Env1394Symlink: "x"},
			wantErr: "transport: _NT_DEBUG_1394_SYMLINK=x: symlink must be channel or instance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("FromEnv(%v) = %+v, %v; want error %q", tt.env, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("FromEnv(%v) = %+v, %v; want %+v", tt.env, got, err, tt.want)
			}
			if got.String() != tt.str {
				t.Errorf("FromEnv(%v).String() = %q; want %q", tt.env, got.String(), tt.str)
			}
			if again, err := Parse(got.String()); err != nil || again != got {
				t.Errorf("Parse(%q) = %+v, %v; want %+v", got.String(), again, err, got)
			}
		})
	}
	if _, err := FromEnv(func(string) string { return "" }); !errors.Is(err, ErrNoEnvironment) {
		t.Errorf("FromEnv(empty) error = %v; want ErrNoEnvironment", err)
	}
}

func TestKindAndEventStrings(t *testing.T) {
	kinds := map[Kind]string{KindSerial: "serial", KindPipe: "pipe", KindTCP: "tcp", Kind1394: "1394",
		KindNet: "net", KindSim: "sim", 0: "Kind(0)", 99: "Kind(99)"}
	for k, want := range kinds {
		if k.String() != want {
			t.Errorf("Kind(%d).String() = %q; want %q", int(k), k.String(), want)
		}
	}
	for k := EventOpened; k <= EventBusReset; k++ {
		if s := k.String(); s == "" || s[0] == 'E' {
			t.Errorf("EventKind(%d).String() = %q", int(k), s)
		}
	}
	if s := EventKind(0).String(); s != "EventKind(0)" {
		t.Errorf("EventKind(0).String() = %q", s)
	}
	e := Event{Kind: EventReconnecting, Name: "/tmp/kd.sock", Attempt: 2, Err: errors.New("EOF")}
	if got, want := e.String(), "reconnecting /tmp/kd.sock (#2): EOF"; got != want {
		t.Errorf("Event.String() = %q; want %q", got, want)
	}
	if got, want := (Spec{Kind: 42}).String(), "Kind(42)"; got != want {
		t.Errorf("Spec.String() = %q; want %q", got, want)
	}
}
