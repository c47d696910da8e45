package symsrv

import (
	"strings"
	"testing"
)

// FuzzParse: a path that parses prints back to text that parses to the
// same path.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"srv*", `srv*c:\c*https://a/s`, "cache*;/x", "symsrv*a*b", "a;;b", "srv**x*y", "foo*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		q, err := Parse(p.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", s, p, err)
		}
		if q.String() != p.String() {
			t.Fatalf("Parse(%q) = %q; reparsed %q", s, p, q)
		}
	})
}

// FuzzFilePtr: any file.ptr content gives a path or one clean error line.
func FuzzFilePtr(f *testing.F) {
	for _, s := range []string{"PATH:/x/y.pdb", "MSG: gone", "junk", "PATH:\\\\srv\\share\\a.pdb\r\n"} {
		f.Add([]byte(s))
	}
	c := &Client{}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := c.followPtr("file.ptr", b, false)
		if err != nil && strings.ContainsAny(err.Error(), "\x1b\r\n") {
			t.Fatalf("error %q carries control characters", err)
		}
	})
}
