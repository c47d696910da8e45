package symsrv

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want string // Path.String of the result
		err  string
	}{
		{"", "", ""},
		{`C:\sym;;  /home/u/sym ;`, `C:\sym;/home/u/sym`, ""},
		{"srv*", "srv*", ""},
		{"SRV*https://msdl.microsoft.com/download/symbols", "srv*https://msdl.microsoft.com/download/symbols", ""},
		{`srv*c:\cache*https://sym.example/s`, `srv*c:\cache*https://sym.example/s`, ""},
		{`srv**https://sym.example/s`, `srv*https://sym.example/s`, ""},
		{`srv*/c*\\share\sym*https://a/s`, `srv*/c*\\share\sym*https://a/s`, ""},
		{"cache*;srv*https://a/s", "cache*;srv*https://a/s", ""},
		{"Cache*/tmp/c;/flat", "cache*/tmp/c;/flat", ""},
		{"symsrv*symsrv.dll*c:\\c*https://a/s", "", "loads a Windows DLL"},
		{"https://a/s", "", "srv*CACHE*URL"},
		{"srv*/c*https://a/s**https://b", "", "empty store"},
		{"srv*ftp://a/s", "", "only http:// and https://"},
		{"srv*https://a/s*https://b/s", "", "local cache"},
		{"foo*bar", "", "unknown element type"},
		{"cache*a*b", "", "one directory"},
		{"cache*https://a", "", "local directory"},
		{"a\x00b", "", "control characters"},
	}
	for _, tc := range tests {
		p, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) error %v; want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := p.String(); got != tc.want {
			t.Errorf("Parse(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseElements(t *testing.T) {
	p, err := Parse(`srv*/c*/share*https://a/s;srv*https://b;srv*`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cache  string
		stores string
	}{
		{"/c", "/share https://a/s"},
		{"", "https://b"},
		{"", DefaultServer},
	}
	for i, tc := range tests {
		if p[i].Kind != Server || p[i].Cache != tc.cache || strings.Join(p[i].Stores, " ") != tc.stores {
			t.Errorf("element %d = %+v; want cache %q stores %q", i, p[i], tc.cache, tc.stores)
		}
	}
	if got, want := p.Expanded("/dc"), "SRV*/c*/share*https://a/s;SRV*/dc*https://b;SRV*/dc*"+DefaultServer; got != want {
		t.Errorf("Expanded = %q; want %q", got, want)
	}
}

func TestFromEnvSetSymfix(t *testing.T) {
	env := map[string]string{"_NT_SYMBOL_PATH": "/main", "_NT_ALT_SYMBOL_PATH": "/alt;cache*/c"}
	p, err := FromEnv(func(k string) string { return env[k] })
	if err != nil || p.String() != "/alt;cache*/c;/main" {
		t.Fatalf("FromEnv = %q, %v; want the alternate path first", p, err)
	}
	env["_NT_SYMBOL_PATH"] = "symsrv*x.dll*y"
	if _, err := FromEnv(func(k string) string { return env[k] }); err == nil || !strings.HasPrefix(err.Error(), "_NT_SYMBOL_PATH: ") {
		t.Errorf("FromEnv with a bad path: %v; want an error naming the variable", err)
	}
	tests := []struct {
		name string
		do   func() (Path, error)
		want string
	}{
		{".sympath", func() (Path, error) { return Set(p, "/x;/y", false) }, "/x;/y"},
		{".sympath+", func() (Path, error) { return Set(p, "/x", true) }, "/alt;cache*/c;/main;/x"},
		{".symfix", func() (Path, error) { return Symfix(p, "", false) }, "srv*"},
		{".symfix /mycache", func() (Path, error) { return Symfix(p, " /mycache ", false) }, "srv*/mycache*" + DefaultServer},
		{".symfix+", func() (Path, error) { return Symfix(Path{{Kind: Dir, Dir: "/a"}}, "", true) }, "/a;srv*"},
	}
	for _, tc := range tests {
		got, err := tc.do()
		if err != nil || got.String() != tc.want {
			t.Errorf("%s = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := Symfix(nil, "https://x", false); err == nil {
		t.Error(".symfix with a URL cache: want an error")
	}
	if _, err := Set(nil, "symsrv*a*b", false); err == nil {
		t.Error(".sympath with a symsrv element: want an error")
	}
}
