package commands

import "github.com/gokd/kd/internal/target"

// ModuleList is lm: the modules with their symbol state; Verbose adds the
// image and PDB details (lm v).
type ModuleList struct {
	Modules []target.ModuleInfo
	Verbose bool
}

// SymbolList is x: the matching symbols, by address.
type SymbolList struct{ Symbols []target.Sym }

// NearSymbols is ln.
type NearSymbols struct{ target.Near }

// ResultName returns the result's JSON name.
func (ModuleList) ResultName() string  { return "modules" }
func (SymbolList) ResultName() string  { return "symbols" }
func (NearSymbols) ResultName() string { return "near_symbols" }

// StackTrace is k and its forms.
type StackTrace struct {
	target.Stack
	Numbers bool // kn
	Args    bool // kb, kv
	Verbose bool // kv: how each frame was found
	Params  bool // kp
	// Context: the walk started from the implicit thread .thread set.
	Context bool
}

// ResultName returns the result's JSON name.
func (StackTrace) ResultName() string { return "stack" }

// TypeDisplay is dt with a type.
type TypeDisplay struct{ target.TypeLayout }

// TypeList is dt with a pattern: the matching type names.
type TypeList struct {
	Module string
	Names  []string
}

// ResultName returns the result's JSON name.
func (TypeDisplay) ResultName() string { return "type" }

// ResultName returns the result's JSON name.
func (TypeList) ResultName() string { return "types" }

// Reloaded is .reload: the modules whose symbols were dropped (and, with
// /f, loaded again).
type Reloaded struct {
	Modules []target.ModuleInfo
	Forced  bool
}

// SymbolNoise is !sym noisy|quiet.
type SymbolNoise struct{ Noisy bool }

// ResultName returns the result's JSON name.
func (Reloaded) ResultName() string { return "reload" }

// ResultName returns the result's JSON name.
func (SymbolNoise) ResultName() string { return "sym_noise" }

// SymbolPathInfo is .sympath and .symfix: the path as typed and with its
// defaults spelled out.
type SymbolPathInfo struct{ Path, Expanded string }

// ResultName returns the result's JSON name.
func (SymbolPathInfo) ResultName() string { return "symbol_path" }
