package commands

import (
	"context"
	"strings"
)

var reloadCommands = []*Command{
	{
		Names: []string{".reload"}, Group: groupSym,
		Example: ".reload /f nt",
		Help: "Forget loaded symbols so they load again (from the current symbol path) when needed.\n\n\t.reload [/f] [Module]\n\n" +
			"Without /f the modules go back to (deferred); with /f their symbols are loaded at once. " +
			"Module may be a pattern; without one every module is reloaded.",
		Run: cmdReload,
	},
	{
		Names: []string{"!sym"}, Group: groupSym, Anytime: true,
		Example: "!sym noisy",
		Help:    "Report every symbol file search (noisy) or only failures (quiet, the default).\n\n\t!sym noisy\n\t!sym quiet",
		Run: func(_ context.Context, e *Env, args string) (Result, error) {
			switch strings.ToLower(strings.TrimSpace(args)) {
			case "noisy":
				e.T.SetSymbolNoisy(true)
				return SymbolNoise{Noisy: true}, nil
			case "quiet":
				e.T.SetSymbolNoisy(false)
				return SymbolNoise{}, nil
			}
			return nil, syntaxErr("!sym "+args, "!sym takes noisy or quiet")
		},
	},
}

func cmdReload(ctx context.Context, e *Env, args string) (Result, error) {
	force := false
	pattern := ""
	for _, w := range strings.Fields(args) {
		switch {
		case strings.EqualFold(w, "/f"):
			force = true
		case strings.HasPrefix(w, "/") || strings.HasPrefix(w, "-"):
			return nil, syntaxErr(".reload "+args, "unknown option %s (kd knows /f)", w)
		case pattern != "":
			return nil, syntaxErr(".reload "+args, "more than one module")
		default:
			pattern, _, _ = strings.Cut(w, "=") // Module=Address,Size is not supported: the loader list has them
		}
	}
	match := moduleMatcher(pattern)
	n, err := e.T.Reload(ctx, force, match)
	if err != nil {
		return nil, err
	}
	if n == 0 && pattern != "" {
		return nil, &Error{Msg: "no module matches '" + pattern + "'", Hints: []string{"lm lists the module names"}}
	}
	mods, err := e.T.ModuleInfos(ctx, false, match)
	if err != nil {
		return nil, err
	}
	return Reloaded{Modules: mods, Forced: force}, nil
}
