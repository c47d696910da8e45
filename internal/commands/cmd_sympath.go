package commands

import (
	"context"
	"strings"

	"github.com/gokd/kd/internal/symsrv"
)

// SymPath is kd's symbol path: the parsed path and the client that
// searches it (directories, symbol stores, HTTP symbol servers with a
// download cache). It is the target's SymbolSearch.
type SymPath struct {
	Path   symsrv.Path
	Client *symsrv.Client
}

// Find searches the path for the PDB name with key.
func (p *SymPath) Find(ctx context.Context, name, key, ext string) (string, error) {
	return p.Client.Find(ctx, p.Path, symsrv.Request{Name: name, Key: key, ImageExt: ext})
}

// String is the path as typed.
func (p *SymPath) String() string { return p.Path.String() }

var sympathCommands = []*Command{
	{
		Names: []string{".sympath"}, Group: groupSym, Anytime: true,
		Example: ".sympath srv*/tmp/syms*https://msdl.microsoft.com/download/symbols",
		Help: "Show or set the symbol path (loaded symbols stay until .reload).\n\n\t.sympath\n\t.sympath Path\n\t.sympath+ Path\n\n" +
			"Elements are separated by ;: a directory, cache*[Dir], or srv*[Cache*]Store (a directory or an http(s) URL). " +
			".sympath+ appends to the current path.",
		Run: func(_ context.Context, e *Env, args string) (Result, error) { return cmdSympath(e, args, false) },
	},
	{
		Names: []string{".sympath+"}, Group: groupSym, Anytime: true,
		Example: ".sympath+ /home/me/drivers",
		Help:    "Append to the symbol path.\n\n\t.sympath+ Path",
		Run:     func(_ context.Context, e *Env, args string) (Result, error) { return cmdSympath(e, args, true) },
	},
	{
		Names: []string{".symfix"}, Group: groupSym, Anytime: true,
		Example: ".symfix C:\\symcache",
		Help:    "Set Microsoft's public symbol server with a download cache (the default cache when none is given).\n\n\t.symfix [Cache]",
		Run:     func(_ context.Context, e *Env, args string) (Result, error) { return cmdSymfix(e, args, false) },
	},
	{
		Names: []string{".symfix+"}, Group: groupSym, Anytime: true,
		Example: ".symfix+",
		Help:    "Append Microsoft's public symbol server to the symbol path.\n\n\t.symfix+ [Cache]",
		Run:     func(_ context.Context, e *Env, args string) (Result, error) { return cmdSymfix(e, args, true) },
	},
}

func (e *Env) symPath() *SymPath {
	if p, ok := e.T.SymbolSearch().(*SymPath); ok {
		return p
	}
	return &SymPath{Client: &symsrv.Client{}}
}

func cmdSympath(e *Env, args string, add bool) (Result, error) {
	arg := strings.TrimSpace(args)
	cur := e.symPath()
	if arg != "" {
		np, err := symsrv.Set(cur.Path, arg, add)
		if err != nil {
			return nil, &Error{Msg: err.Error(), Hints: []string{"elements: DIR, cache*DIR, srv*CACHE*URL; separate them with ;"}}
		}
		cur = &SymPath{Path: np, Client: cur.Client}
		e.T.SetSymbolSearch(cur)
	}
	return symPathInfo(cur), nil
}

func cmdSymfix(e *Env, args string, add bool) (Result, error) {
	cache := strings.TrimSpace(args)
	cur := e.symPath()
	np, err := symsrv.Symfix(cur.Path, cache, add)
	if err != nil {
		return nil, &Error{Msg: err.Error()}
	}
	cur = &SymPath{Path: np, Client: cur.Client}
	e.T.SetSymbolSearch(cur)
	return symPathInfo(cur), nil
}

func symPathInfo(p *SymPath) SymbolPathInfo {
	def, _ := symsrv.DefaultCacheDir()
	return SymbolPathInfo{Path: p.Path.String(), Expanded: p.Path.Expanded(def)}
}
