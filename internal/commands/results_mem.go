package commands

import "github.com/gokd/kd/internal/target"

// MemoryView is a display of memory in one of the forms beyond db, dd and
// dq (dw dW dc df dD dyb da du dds dps dqs ddp dqp), and every physical
// display (!db !dc !dd !dq !dw !dp): Data from Addr, OK[i] whether byte i
// could be read.
type MemoryView struct {
	Form     string // the command's form: "dw", "dps", "da", "!db", ...
	Physical bool   // Addr is a physical address
	Addr     uint64
	Data     []byte
	OK       []bool
	// Symbols holds, for dds/dps/dqs, the symbol of each element's value
	// ("" when none).
	Symbols []string
	// Pointees holds, for ddp/dqp, the value each element points at.
	Pointees []Pointee
}

// Pointee is the value at the address an element of ddp/dqp holds.
type Pointee struct {
	Value uint64
	OK    bool
}

// SearchHit is one match of s: its address and the memory from there, as
// the search's display form shows it.
type SearchHit struct {
	Addr uint64
	Data []byte
	OK   []bool
}

// SearchResult is s.
type SearchResult struct {
	Form      string // the display form of a hit's line: db, dw, dc, dq
	Pattern   []byte
	Hits      []SearchHit
	Truncated bool // the search stopped at maxSearchHits
	ViaTarget bool // the target's search API did the work
}

// CompareDiff is one byte where c found the two ranges different. A
// byte that could not be read has OK false.
type CompareDiff struct {
	Addr1, Addr2 uint64
	Val1, Val2   byte
	OK1, OK2     bool
}

// CompareResult is c.
type CompareResult struct {
	Diffs     []CompareDiff
	Compared  uint64 // bytes compared
	Truncated bool   // more differences than maxCompareDiffs
}

// PteResult is !pte: the page walk of one address, with the virtual
// addresses of its entries when the page tables map themselves.
type PteResult struct {
	Walk target.PageWalk
	// SelfMap says whether EntryVA holds the entries' virtual addresses
	// (through the PML4's self-map entry); otherwise the entries are shown
	// at their physical addresses.
	SelfMap bool
	EntryVA [4]uint64
	// FromPTE is the address given when it was a PTE's (!pte PTE); the
	// walk is then of the page that PTE maps.
	FromPTE uint64
}

// VtopResult is !vtop.
type VtopResult struct{ Walk target.PageWalk }

// ResultName returns the result's JSON name.
func (MemoryView) ResultName() string    { return "memory_view" }
func (SearchResult) ResultName() string  { return "search" }
func (CompareResult) ResultName() string { return "compare" }
func (PteResult) ResultName() string     { return "pte" }
func (VtopResult) ResultName() string    { return "vtop" }
