package symsrv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Defaults for a Client's zero fields.
const (
	DefaultMaxSize      = 1 << 30 // ntkrnlmp.pdb is tens of MB
	DefaultStallTimeout = 60 * time.Second
)

// Progress is a download's state, reported as it goes.
type Progress struct {
	Name  string // file being fetched
	URL   string
	Done  int64 // bytes so far
	Total int64 // -1 when the server did not say
}

// Client finds symbol files along a path. The zero value works: it uses
// the default cache, limits and an HTTP client configured from the
// environment.
type Client struct {
	// HTTP does the requests; nil means NewHTTPClient(os.Getenv).
	HTTP *http.Client
	// DefaultCache is where srv* and cache* without a directory put files;
	// "" means DefaultCacheDir().
	DefaultCache string
	// MaxSize is the largest file downloaded or copied; 0 means DefaultMaxSize.
	MaxSize int64
	// StallTimeout ends a download that receives nothing for this long;
	// 0 means DefaultStallTimeout.
	StallTimeout time.Duration
	// Progress, if set, is called as a download proceeds.
	Progress func(Progress)
	// Log, if set, receives one line per place probed (!sym noisy).
	Log func(string)
	// Verify, if set, checks that a candidate file is the one wanted (a
	// flat directory's PDB may be from another build); a failing candidate
	// is skipped.
	Verify func(path string) error

	mu    sync.Mutex
	tiers map[string]bool // HTTP store root -> has index2.txt
}

// DefaultCacheDir is the user's cache directory plus kd/sym.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no default symbol cache: %w", err)
	}
	return filepath.Join(d, "kd", "sym"), nil
}

// NewHTTPClient makes the client used for symbol servers: connection, TLS
// and response-header timeouts, redirects followed, and the proxy from
// _NT_SYMBOL_PROXY (host:port or a URL) or else from HTTPS_PROXY,
// HTTP_PROXY and NO_PROXY in the process environment.
func NewHTTPClient(getenv func(string) string) (*http.Client, error) {
	proxy := http.ProxyFromEnvironment
	if p := strings.TrimSpace(getenv("_NT_SYMBOL_PROXY")); p != "" {
		if !strings.Contains(p, "://") {
			p = "http://" + p
		}
		u, err := url.Parse(p)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("_NT_SYMBOL_PROXY %q is not host:port", clean(p))
		}
		proxy = http.ProxyURL(u)
	}
	tr := &http.Transport{
		Proxy:                 proxy,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr}, nil
}

func (c *Client) logf(format string, args ...any) {
	if c.Log != nil {
		c.Log(fmt.Sprintf(format, args...))
	}
}

func (c *Client) maxSize() int64 {
	if c.MaxSize > 0 {
		return c.MaxSize
	}
	return DefaultMaxSize
}

func (c *Client) httpClient() (*http.Client, error) {
	if c.HTTP != nil {
		return c.HTTP, nil
	}
	h, err := NewHTTPClient(os.Getenv)
	if err != nil {
		return nil, err
	}
	c.HTTP = h
	return h, nil
}

func (c *Client) defaultCache() (string, error) {
	if c.DefaultCache != "" {
		return c.DefaultCache, nil
	}
	return DefaultCacheDir()
}

// Find returns the local path of the file r names, searching the elements
// of p in order and downloading or copying into the element's cache as
// needed. When nothing is found the error wraps ErrNotFound and says what
// stood in the way (a compressed file, a file.ptr message, a server error).
func (c *Client) Find(ctx context.Context, p Path, r Request) (string, error) {
	if err := r.check(); err != nil {
		return "", err
	}
	var notes []error
	note := func(err error) {
		if err != nil && !errors.Is(err, ErrNotFound) {
			notes = append(notes, err)
		}
	}
	cacheDir := "" // set by a cache* element: copies go there
	for _, e := range p {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		switch e.Kind {
		case Cache:
			d := e.Dir
			if d == "" {
				var err error
				if d, err = c.defaultCache(); err != nil {
					note(err)
					continue
				}
			}
			cacheDir = d
			path, err := c.localStore(d, r)
			if err == nil && c.verify(path, &notes) {
				return path, nil
			}
			note(err)
		case Dir:
			for _, path := range c.flatDir(e.Dir, r) {
				if !c.verify(path, &notes) {
					continue
				}
				if cacheDir == "" {
					return path, nil
				}
				return c.copyInto(ctx, path, cacheDir, r)
			}
		case Server:
			path, err := c.fromServer(ctx, e, r, &notes)
			if err == nil {
				return path, nil
			}
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			note(err)
		}
	}
	if len(notes) > 0 {
		return "", fmt.Errorf("%s: %w (%w)", r.Name, ErrNotFound, errors.Join(notes...))
	}
	return "", fmt.Errorf("%s: %w", r.Name, ErrNotFound)
}

// verify runs the Verify hook, noting a rejection.
func (c *Client) verify(path string, notes *[]error) bool {
	if c.Verify == nil {
		return true
	}
	if err := c.Verify(path); err != nil {
		c.logf("%s rejected: %v", path, err)
		*notes = append(*notes, fmt.Errorf("%s: %w", path, err))
		return false
	}
	return true
}

// fromServer searches one srv* element: its cache, then each store.
func (c *Client) fromServer(ctx context.Context, e Element, r Request, notes *[]error) (string, error) {
	down := e.Cache
	if down == "" {
		var err error
		if down, err = c.defaultCache(); err != nil {
			return "", err
		}
	}
	if path, err := c.localStore(down, r); err == nil {
		if c.verify(path, notes) {
			return path, nil
		}
	} else if !errors.Is(err, ErrNotFound) {
		*notes = append(*notes, err)
	}
	for _, st := range e.Stores {
		var path string
		var err error
		if isURL(st) {
			path, err = c.fetch(ctx, st, down, r)
		} else if path, err = c.localStore(st, r); err == nil && filepath.Clean(st) != filepath.Clean(down) {
			path, err = c.copyInto(ctx, path, down, r)
		}
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			if !errors.Is(err, ErrNotFound) {
				*notes = append(*notes, err)
			}
			continue
		}
		if c.verify(path, notes) {
			return path, nil
		}
		if isURL(st) {
			os.Remove(path) // a wrong file must not stay in the cache
		}
	}
	return "", ErrNotFound
}

// copyInto copies a local file into a cache in store layout.
func (c *Client) copyInto(ctx context.Context, src, cache string, r Request) (string, error) {
	f, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	return c.place(ctx, f, st.Size(), cache, r, src, nil)
}

// place writes src into cache/NAME/KEY/NAME through a temporary file in
// the same directory and a rename, so the cache never holds a partial file.
// tick, if set, is called after every chunk (the download watchdog).
func (c *Client) place(ctx context.Context, src io.Reader, total int64, cache string, r Request, from string, tick func()) (string, error) {
	max := c.maxSize()
	if total > max {
		return "", fmt.Errorf("%s is %d bytes, over the %d-byte limit", from, total, max)
	}
	dir := storeDir(cache, r, false)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("symbol cache: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+r.Name+".kd-*")
	if err != nil {
		return "", fmt.Errorf("symbol cache: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	buf := make([]byte, 64<<10)
	var done int64
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, rerr := src.Read(buf)
		if n > 0 {
			if tick != nil {
				tick()
			}
			done += int64(n)
			if done > max {
				return "", fmt.Errorf("%s is over the %d-byte limit", from, max)
			}
			if _, err := tmp.Write(buf[:n]); err != nil {
				return "", fmt.Errorf("symbol cache: %w", err)
			}
			if c.Progress != nil {
				c.Progress(Progress{Name: r.Name, URL: from, Done: done, Total: total})
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", fmt.Errorf("read %s: %w", from, rerr)
		}
	}
	if total >= 0 && done != total {
		return "", fmt.Errorf("%s ended after %d of %d bytes", from, done, total)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("symbol cache: %w", err)
	}
	final := filepath.Join(dir, r.Name)
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", fmt.Errorf("symbol cache: %w", err)
	}
	ok = true
	c.logf("placed %s", final)
	return final, nil
}
