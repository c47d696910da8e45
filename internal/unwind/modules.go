package unwind

import (
	"fmt"
	"sort"

	"github.com/gokd/kd/internal/pe"
)

// Module is a loaded image as the unwinder sees it.
type Module struct {
	Name      string
	Base      uint64
	Size      uint64
	Functions pe.FunctionTable // the image's .pdata, sorted
	// Err, when set, is why Functions could not be read (a paged-out
	// .pdata): lookups in the module fail with it, so Walk can fall back
	// to the frame pointer instead of treating every function as a leaf.
	Err error
}

// Modules is a Lookup over loaded images.
type Modules []Module

// NewModules returns the modules sorted by base address.
func NewModules(ms []Module) Modules {
	out := append(Modules(nil), ms...)
	sort.Slice(out, func(i, j int) bool { return out[i].Base < out[j].Base })
	return out
}

// LookupFunction finds the module holding pc and its .pdata entry; an
// address in no module gives ErrNoModule, one in a module without an entry
// a leaf function.
func (ms Modules) LookupFunction(pc uint64) (Function, error) {
	i := sort.Search(len(ms), func(i int) bool { return ms[i].Base > pc }) - 1
	if i < 0 || pc-ms[i].Base >= ms[i].Size {
		return Function{}, ErrNoModule
	}
	m := &ms[i]
	if m.Err != nil {
		return Function{}, fmt.Errorf("%s: unwind data: %w", m.Name, m.Err)
	}
	rva := pc - m.Base
	if rva > 0xFFFFFFFF {
		return Function{}, ErrNoModule
	}
	rf, ok := m.Functions.Lookup(uint32(rva))
	return Function{Module: m.Name, ImageBase: m.Base, Entry: rf, HasEntry: ok}, nil
}
