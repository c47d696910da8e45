package symsrv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var req = Request{Name: "drv2.pdb", Key: "9E69679735E3CCB74C4C44205044422E1"}

// store is a symbol server over a map of store paths, counting requests.
type store struct {
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
}

func newStore(files map[string][]byte) *store {
	return &store{files: files, hits: map[string]int{}}
}

func (s *store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	b, ok := s.files[r.URL.Path]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.Write(b)
}

func (s *store) count(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[p]
}

// client is a Client with a private default cache and a noisy log.
func client(t *testing.T) (*Client, *[]string) {
	t.Helper()
	var log []string
	var mu sync.Mutex
	return &Client{
		DefaultCache: filepath.Join(t.TempDir(), "default"),
		Log: func(s string) {
			mu.Lock()
			log = append(log, s)
			mu.Unlock()
		},
	}, &log
}

func mustParse(t *testing.T, s string) Path {
	t.Helper()
	p, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDownloadOnceThenOffline(t *testing.T) {
	pdb := bytes.Repeat([]byte("MSF7"), 50000)
	st := newStore(map[string][]byte{"/sym/drv2.pdb/" + req.Key + "/drv2.pdb": pdb})
	srv := httptest.NewServer(st)
	cache := t.TempDir()
	path := mustParse(t, "srv*"+cache+"*"+srv.URL+"/sym")
	c, _ := client(t)
	var progress []Progress
	c.Progress = func(p Progress) { progress = append(progress, p) }

	got, err := c.Find(context.Background(), path, req)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(cache, "drv2.pdb", req.Key, "drv2.pdb")
	if got != want {
		t.Errorf("Find = %s; want the cache's store layout %s", got, want)
	}
	if b, _ := os.ReadFile(got); !bytes.Equal(b, pdb) {
		t.Error("cached file differs from the served one")
	}
	if len(progress) == 0 || progress[len(progress)-1].Done != int64(len(pdb)) || progress[0].Total != int64(len(pdb)) {
		t.Errorf("progress %+v; want reports ending at %d of %d", progress, len(pdb), len(pdb))
	}
	for i := 1; i < len(progress); i++ {
		if progress[i].Done < progress[i-1].Done {
			t.Fatalf("progress went backwards: %+v", progress)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(cache, "drv2.pdb", req.Key, ".*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left in the cache: %v", leftovers)
	}

	// The server goes away: the cache alone answers.
	srv.Close()
	got2, err := c.Find(context.Background(), path, req)
	if err != nil || got2 != want {
		t.Fatalf("Find offline = %s, %v; want %s from the cache", got2, err, want)
	}
	if n := st.count("/sym/drv2.pdb/" + req.Key + "/drv2.pdb"); n != 1 {
		t.Errorf("server saw %d downloads; want 1", n)
	}
}

func TestFindOrderAndFallbacks(t *testing.T) {
	key := "/drv2.pdb/" + req.Key + "/"
	tests := []struct {
		name  string
		files map[string][]byte
		want  string // content found, or
		err   string // in the error
	}{
		{"plain", map[string][]byte{"/s" + key + "drv2.pdb": []byte("A")}, "A", ""},
		{"compressed only", map[string][]byte{"/s" + key + "drv2.pd_": []byte("MSCF")}, "", "compressed (a CAB archive)"},
		{"file.ptr message", map[string][]byte{"/s" + key + "file.ptr": []byte("MSG: withdrawn by vendor\x1b[2J")}, "", "withdrawn by vendor?[2J"},
		{"file.ptr path", map[string][]byte{"/s" + key + "file.ptr": []byte("PATH:\\\\build\\sym\\drv2.pdb")}, "", "only in directory stores"},
		{"file.ptr junk", map[string][]byte{"/s" + key + "file.ptr": []byte("hello")}, "", "neither a PATH: nor a MSG: line"},
		{"nothing", map[string][]byte{}, "", "not found on the symbol path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(newStore(tc.files))
			defer srv.Close()
			c, _ := client(t)
			got, err := c.Find(context.Background(), mustParse(t, "srv*"+t.TempDir()+"*"+srv.URL+"/s"), req)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrNotFound) {
					t.Fatalf("Find error %v; want ErrNotFound with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(got); string(b) != tc.want {
				t.Errorf("found %q; want %q", b, tc.want)
			}
		})
	}
}

func TestServerErrorsAndNextElement(t *testing.T) {
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer bad.Close()
	good := httptest.NewServer(newStore(map[string][]byte{"/drv2.pdb/" + req.Key + "/drv2.pdb": []byte("G")}))
	defer good.Close()
	c, _ := client(t)
	got, err := c.Find(context.Background(), mustParse(t, "srv*"+t.TempDir()+"*"+bad.URL+";srv*"+t.TempDir()+"*"+good.URL), req)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(got); string(b) != "G" {
		t.Errorf("found %q; want the second server's file", b)
	}
	_, err = c.Find(context.Background(), mustParse(t, "srv*"+t.TempDir()+"*"+bad.URL), req)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("Find with a failing server: %v; want the 503 reported", err)
	}
}

func TestThreeTierHTTPStore(t *testing.T) {
	st := newStore(map[string][]byte{
		"/s/index2.txt": []byte(""),
		"/s/dr/drv2.pdb/" + req.Key + "/drv2.pdb": []byte("3"),
		"/s/ab/ab.pdb/1/ab.pdb":                   []byte("short"),
	})
	srv := httptest.NewServer(st)
	defer srv.Close()
	c, _ := client(t)
	for _, tc := range []struct {
		r    Request
		want string
	}{{req, "3"}, {Request{Name: "ab.pdb", Key: "1"}, "short"}} {
		got, err := c.Find(context.Background(), mustParse(t, "srv*"+t.TempDir()+"*"+srv.URL+"/s/"), tc.r)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(got); string(b) != tc.want {
			t.Errorf("found %q; want %q", b, tc.want)
		}
	}
	if n := st.count("/s/index2.txt"); n != 1 {
		t.Errorf("index2.txt asked %d times; want once per client and store", n)
	}
}

func TestRedirect(t *testing.T) {
	blob := httptest.NewServer(newStore(map[string][]byte{"/blob": []byte("R")}))
	defer blob.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/drv2.pdb") {
			http.Redirect(w, r, blob.URL+"/blob", http.StatusFound)
			return
		}
		http.NotFound(w, r)
	}))
	defer front.Close()
	c, _ := client(t)
	got, err := c.Find(context.Background(), mustParse(t, "srv*"+t.TempDir()+"*"+front.URL), req)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(got); string(b) != "R" {
		t.Errorf("found %q; want the redirect target", b)
	}
}

func TestSizeLimit(t *testing.T) {
	big := bytes.Repeat([]byte{1}, 5000)
	tests := []struct {
		name    string
		chunked bool
	}{{"content-length", false}, {"chunked", true}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasSuffix(r.URL.Path, "/drv2.pdb") {
					http.NotFound(w, r)
					return
				}
				if tc.chunked {
					w.Write(big[:100])
					w.(http.Flusher).Flush()
					w.Write(big[100:])
					return
				}
				w.Header().Set("Content-Length", fmt.Sprint(len(big)))
				w.Write(big)
			}))
			defer srv.Close()
			c, _ := client(t)
			c.MaxSize = 4096
			cache := t.TempDir()
			_, err := c.Find(context.Background(), mustParse(t, "srv*"+cache+"*"+srv.URL), req)
			if err == nil || !strings.Contains(err.Error(), "limit") {
				t.Fatalf("Find of a file over the limit: %v", err)
			}
			left, _ := filepath.Glob(filepath.Join(cache, "drv2.pdb", req.Key, "*"))
			hidden, _ := filepath.Glob(filepath.Join(cache, "drv2.pdb", req.Key, ".*"))
			if len(left)+len(hidden) != 0 {
				t.Errorf("files left in the cache: %v %v", left, hidden)
			}
		})
	}
}

// blockingServer sends part of the file and then waits for release.
func blockingServer(t *testing.T) (*httptest.Server, chan struct{}, chan struct{}) {
	t.Helper()
	started, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/drv2.pdb") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", "1000")
		w.Write(make([]byte, 10))
		w.(http.Flusher).Flush()
		close(started)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv, started, release
}

func TestCancel(t *testing.T) {
	srv, started, _ := blockingServer(t)
	c, _ := client(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	cache := t.TempDir()
	_, err := c.Find(ctx, mustParse(t, "srv*"+cache+"*"+srv.URL), req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Find cancelled mid-download: %v; want context.Canceled", err)
	}
	hidden, _ := filepath.Glob(filepath.Join(cache, "drv2.pdb", req.Key, ".*"))
	if len(hidden) != 0 {
		t.Errorf("temporary files left: %v", hidden)
	}
}

func TestStall(t *testing.T) {
	srv, _, _ := blockingServer(t)
	c, _ := client(t)
	c.StallTimeout = 50 * time.Millisecond
	_, err := c.Find(context.Background(), mustParse(t, "srv*"+t.TempDir()+"*"+srv.URL), req)
	if err == nil || !strings.Contains(err.Error(), "sent nothing for 50ms") {
		t.Fatalf("Find from a stalled server: %v", err)
	}
}

func TestProxyFromNTSymbolProxy(t *testing.T) {
	var mu sync.Mutex
	var seen string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.URL.String()
		mu.Unlock()
		if r.URL.Host == "symbols.invalid" && strings.HasSuffix(r.URL.Path, "/drv2.pdb") {
			w.Write([]byte("P"))
			return
		}
		http.NotFound(w, r)
	}))
	defer proxy.Close()
	h, err := NewHTTPClient(func(k string) string {
		if k == "_NT_SYMBOL_PROXY" {
			return strings.TrimPrefix(proxy.URL, "http://")
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := client(t)
	c.HTTP = h
	got, err := c.Find(context.Background(), mustParse(t, "srv*"+t.TempDir()+"*http://symbols.invalid/s"), req)
	if err != nil {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("Find through the proxy: %v (proxy saw %q)", err, seen)
	}
	if b, _ := os.ReadFile(got); string(b) != "P" {
		t.Errorf("found %q; want the proxy's answer", b)
	}
	if _, err := NewHTTPClient(func(string) string { return "http://" }); err == nil {
		t.Error("NewHTTPClient with a bad _NT_SYMBOL_PROXY: want an error")
	}
}

func TestLocalStores(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) string {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	two := write("two/drv2.pdb/"+req.Key+"/drv2.pdb", "two-tier")
	write("three/index2.txt", "")
	three := write("three/dr/drv2.pdb/"+req.Key+"/drv2.pdb", "three-tier")
	flat := write("flat/drv2.pdb", "flat")
	ext := write("ext/symbols/sys/drv2.pdb", "ext")
	pointed := write("elsewhere/real.pdb", "pointed")
	write("ptr/drv2.pdb/"+req.Key+"/file.ptr", "PATH:"+pointed)

	tests := []struct {
		name string
		path string
		r    Request
		want string // path returned; "cache" means inside the cache dir
	}{
		{"plain dir as store", root + "/two", req, two},
		{"three-tier srv store", "srv*" + root + "/three*" + root + "/three", req, three},
		{"flat dir", root + "/flat", req, flat},
		{"symbols ext dir", root + "/ext", Request{Name: req.Name, Key: req.Key, ImageExt: "sys"}, ext},
		{"file.ptr", root + "/ptr", req, pointed},
		{"cache* copies what is found to its right", "cache*" + root + "/c;" + root + "/flat", req,
			filepath.Join(root, "c", "drv2.pdb", req.Key, "drv2.pdb")},
		{"srv from a directory store copies into its cache", "srv*" + root + "/d*" + root + "/two", req,
			filepath.Join(root, "d", "drv2.pdb", req.Key, "drv2.pdb")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := client(t)
			got, err := c.Find(context.Background(), mustParse(t, tc.path), tc.r)
			if err != nil || got != tc.want {
				t.Errorf("Find = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
	// Verify rejects the flat candidate; the next element is used.
	c, _ := client(t)
	c.Verify = func(p string) error {
		if p == flat {
			return errors.New("guid mismatch")
		}
		return nil
	}
	got, err := c.Find(context.Background(), mustParse(t, root+"/flat;"+root+"/two"), req)
	if err != nil || got != two {
		t.Errorf("Find with a rejected candidate = %s, %v; want %s", got, err, two)
	}
	_, err = c.Find(context.Background(), mustParse(t, root+"/flat"), req)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "guid mismatch") {
		t.Errorf("Find with only a rejected candidate: %v", err)
	}
}

func TestHostileRequests(t *testing.T) {
	c, _ := client(t)
	for _, r := range []Request{
		{Name: "../../etc/passwd", Key: "1"},
		{Name: `..\x.pdb`, Key: "1"},
		{Name: "a/b.pdb", Key: "1"},
		{Name: "", Key: "1"},
		{Name: "..", Key: "1"},
		{Name: "x\x1b.pdb", Key: "1"},
		{Name: "x.pdb", Key: "../1"},
		{Name: "x.pdb", Key: ""},
		{Name: "x.pdb", Key: strings.Repeat("A", 65)},
		{Name: "x.pdb", Key: "1", ImageExt: "../x"},
		{Name: strings.Repeat("a", 300), Key: "1"},
	} {
		if _, err := c.Find(context.Background(), mustParse(t, t.TempDir()), r); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Find(%+v) = %v; want a refusal", r, err)
		}
	}
}

func TestNoisyLog(t *testing.T) {
	srv := httptest.NewServer(newStore(map[string][]byte{}))
	defer srv.Close()
	c, log := client(t)
	c.Find(context.Background(), mustParse(t, "srv*"+t.TempDir()+"*"+srv.URL), req)
	all := strings.Join(*log, "\n")
	for _, want := range []string{"/index2.txt: 404", "/drv2.pdb: 404", "/drv2.pd_: 404", "/file.ptr: 404"} {
		if !strings.Contains(all, want) {
			t.Errorf("log lacks %q:\n%s", want, all)
		}
	}
}
