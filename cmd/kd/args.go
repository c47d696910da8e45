package main

import "strings"

// kdLongOptions are KD's single-dash long options, which pflag would read
// as clusters of shorthands (-logo as -l -o -g -o).
var kdLongOptions = map[string]string{
	"-logo":    "--logo",
	"-loga":    "--loga",
	"-cf":      "--cf",
	"-version": "--version",
	"-?":       "--help",
	"/?":       "--help",
}

// kdArgs rewrites KD's spellings into the ones pflag understands: the
// single-dash long options, and a bare -k (the connection comes from the
// environment) when -k is last or followed by another option.
func kdArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if l, ok := kdLongOptions[a]; ok {
			out = append(out, l)
			continue
		}
		if a == "-k" && (i == len(args)-1 || strings.HasPrefix(args[i+1], "-") && len(args[i+1]) > 1) {
			out = append(out, "--k-env")
			continue
		}
		out = append(out, a)
	}
	return out
}
