package symsrv

import (
	"errors"
	"fmt"
	"strings"
)

// DefaultServer is Microsoft's public symbol server, the store that
// .symfix and a bare srv* name. kd never contacts it unless a path says so.
const DefaultServer = "https://msdl.microsoft.com/download/symbols"

// Kind is the kind of a symbol path element.
type Kind int

const (
	// Dir is a plain directory searched flat (and as a store).
	Dir Kind = iota
	// Cache is cache*[DIR]: elements to its right are cached in DIR.
	Cache
	// Server is srv*[CACHE*]STORE...: symbol stores with a download cache.
	Server
)

// Element is one ';'-separated part of a symbol path.
type Element struct {
	Kind Kind
	// Dir is the directory of a Dir element and the cache directory of a
	// Cache element ("" for the default cache).
	Dir string
	// Cache is a Server element's downstream store ("" for the default cache).
	Cache string
	// Stores are a Server element's stores, nearest first: directories or URLs.
	Stores []string

	short bool // written as the bare srv* (default server, default cache)
}

// String writes the element as it would be typed.
func (e Element) String() string {
	switch e.Kind {
	case Cache:
		return "cache*" + e.Dir
	case Server:
		if e.short {
			return "srv*"
		}
		parts := append([]string{"srv"}, e.Cache)
		if e.Cache == "" {
			parts = parts[:1]
		}
		return strings.Join(append(parts, e.Stores...), "*")
	}
	return e.Dir
}

// Path is a parsed symbol path.
type Path []Element

// String writes the path as it would be typed.
func (p Path) String() string {
	s := make([]string, len(p))
	for i, e := range p {
		s[i] = e.String()
	}
	return strings.Join(s, ";")
}

// Expanded writes the path with defaults spelled out: the default cache
// directory and the default server.
func (p Path) Expanded(defaultCache string) string {
	s := make([]string, len(p))
	for i, e := range p {
		switch e.Kind {
		case Cache:
			d := e.Dir
			if d == "" {
				d = defaultCache
			}
			s[i] = "cache*" + d
		case Server:
			c := e.Cache
			if c == "" {
				c = defaultCache
			}
			s[i] = strings.Join(append([]string{"SRV", c}, e.Stores...), "*")
		default:
			s[i] = e.Dir
		}
	}
	return strings.Join(s, ";")
}

// Parse reads a symbol path. Empty elements are skipped; an element kd
// cannot use is an error that names it.
func Parse(s string) (Path, error) {
	var p Path
	for _, raw := range strings.Split(s, ";") {
		el := strings.TrimSpace(raw)
		if el == "" {
			continue
		}
		e, err := parseElement(el)
		if err != nil {
			return nil, fmt.Errorf("symbol path element %q: %w", el, err)
		}
		p = append(p, e)
	}
	return p, nil
}

// parseElement reads one element.
func parseElement(el string) (Element, error) {
	if strings.ContainsAny(el, "\x00\r\n") {
		return Element{}, errors.New("control characters in a path")
	}
	star := strings.IndexByte(el, '*')
	if star < 0 {
		if isURL(el) {
			return Element{}, errors.New("an HTTP store must be written srv*CACHE*URL")
		}
		return Element{Kind: Dir, Dir: el}, nil
	}
	rest := el[star+1:]
	switch strings.ToLower(el[:star]) {
	case "cache":
		if strings.Contains(rest, "*") {
			return Element{}, errors.New("cache* takes one directory")
		}
		if isURL(rest) {
			return Element{}, errors.New("a cache must be a local directory")
		}
		return Element{Kind: Cache, Dir: rest}, nil
	case "srv":
		parts := strings.Split(rest, "*")
		e := Element{Kind: Server}
		switch {
		case len(parts) == 1 && parts[0] == "":
			e.Stores, e.short = []string{DefaultServer}, true
		case len(parts) == 1:
			e.Stores = parts
		default:
			e.Cache, e.Stores = parts[0], parts[1:]
			if isURL(e.Cache) {
				return Element{}, errors.New("the first store after srv* is the local cache; put URLs after it")
			}
		}
		for _, st := range e.Stores {
			if st == "" {
				return Element{}, errors.New("empty store between '*'s")
			}
			if strings.Contains(st, "://") && !isURL(st) {
				return Element{}, fmt.Errorf("store %q: only http:// and https:// URLs are supported", st)
			}
		}
		return e, nil
	case "symsrv":
		return Element{}, errors.New("symsrv*DLL*... loads a Windows DLL, which kd cannot do; write srv*CACHE*URL instead")
	}
	return Element{}, fmt.Errorf("unknown element type %q (kd knows a directory, cache*DIR and srv*[CACHE*]STORE)", el[:star])
}

// isURL reports whether s is an http or https URL.
func isURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// FromEnv builds the path from _NT_ALT_SYMBOL_PATH then _NT_SYMBOL_PATH.
func FromEnv(getenv func(string) string) (Path, error) {
	alt, err := Parse(getenv("_NT_ALT_SYMBOL_PATH"))
	if err != nil {
		return nil, fmt.Errorf("_NT_ALT_SYMBOL_PATH: %w", err)
	}
	main, err := Parse(getenv("_NT_SYMBOL_PATH"))
	if err != nil {
		return nil, fmt.Errorf("_NT_SYMBOL_PATH: %w", err)
	}
	return append(alt, main...), nil
}

// Set is .sympath PATH (add false) and .sympath+ PATH (add true): the new
// path, which replaces cur or is appended to it.
func Set(cur Path, arg string, add bool) (Path, error) {
	p, err := Parse(arg)
	if err != nil {
		return nil, err
	}
	if !add {
		return p, nil
	}
	return append(append(Path(nil), cur...), p...), nil
}

// Symfix is .symfix [CACHE] (add false) and .symfix+ [CACHE] (add true):
// the default server with the given cache (the default cache when empty).
func Symfix(cur Path, cache string, add bool) (Path, error) {
	cache = strings.TrimSpace(cache)
	if strings.ContainsAny(cache, "*;") || isURL(cache) {
		return nil, fmt.Errorf(".symfix cache %q must be a local directory", cache)
	}
	e := Element{Kind: Server, Cache: cache, Stores: []string{DefaultServer}, short: cache == ""}
	if !add {
		return Path{e}, nil
	}
	return append(append(Path(nil), cur...), e), nil
}
