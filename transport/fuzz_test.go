package transport

import "testing"

// FuzzParse checks that Parse never panics and that every accepted string
// re-parses from its canonical form to the same Spec.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"com:port=com1,baud=115200",
		`com:port=\\.\com2,baud=57600`,
		"com:pipe,port=/tmp/kd.sock,resets=0,reconnect",
		"com:ipport=4444,port=127.0.0.1",
		"1394:channel=20,symlink=instance",
		"net:port=50000,key=1.2.3.4,target=10.0.0.2",
		"sim",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(in)
		if err != nil {
			return
		}
		out := s.String()
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, but its String %q does not parse: %v", in, s, out, err)
		}
		if again != s {
			t.Fatalf("Parse(%q) = %+v; Parse(%q) = %+v", in, s, out, again)
		}
		if again.String() != out {
			t.Fatalf("String not stable: %q then %q", out, again.String())
		}
	})
}
