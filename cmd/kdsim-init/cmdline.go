package main

import "strings"

// maxArgs bounds the words taken from a kernel command line.
const maxArgs = 64

// argsAfterDashes returns the whitespace-separated words after the first
// "--" of a kernel command line (none if there is no "--"), at most
// maxArgs of them. Quoting is not interpreted: kdsim's flags need none.
func argsAfterDashes(cmdline string) []string {
	words := strings.Fields(cmdline)
	for i, w := range words {
		if w == "--" {
			rest := words[i+1:]
			if len(rest) > maxArgs {
				rest = rest[:maxArgs]
			}
			return rest
		}
	}
	return nil
}
