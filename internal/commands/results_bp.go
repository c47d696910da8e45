package commands

import "github.com/gokd/kd/internal/target"

// BreakpointInfo is one breakpoint with the symbol of its address.
type BreakpointInfo struct {
	target.Breakpoint
	Symbol string
}

// BreakpointList is bl.
type BreakpointList struct{ Breakpoints []BreakpointInfo }

// BreakpointRedefined is bp at an address that has a breakpoint already.
type BreakpointRedefined struct{ ID int }

// BreakpointSet is a new breakpoint. Deferred: its symbol (Expr) did not
// resolve yet.
type BreakpointSet struct {
	ID       int
	Addr     uint64
	Deferred bool
	Expr     string
}

// BreakpointMatch is one breakpoint bm set.
type BreakpointMatch struct {
	ID   int
	Addr uint64
	Name string // module!name
}

// BreakpointMatches is bm's answer.
type BreakpointMatches struct{ Set []BreakpointMatch }

// ResultName returns the result's JSON name.
func (BreakpointList) ResultName() string      { return "breakpoints" }
func (BreakpointRedefined) ResultName() string { return "breakpoint_redefined" }
func (BreakpointSet) ResultName() string       { return "breakpoint_set" }
func (BreakpointMatches) ResultName() string   { return "breakpoints_matched" }
