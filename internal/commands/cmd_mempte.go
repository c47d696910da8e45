package commands

import (
	"context"
	"strings"

	"github.com/gokd/kd/internal/target"
)

func init() {
	addHinted(
		&Command{
			Names: []string{"!pte"}, Group: groupData,
			Example: "!pte nt!KiSystemStartup",
			Help: "Display the page-table entries that map a virtual address.\n\n\t!pte VirtualAddress\n\t!pte PTE\n\n" +
				"kd walks the 4-level page tables from the current processor's CR3, reading each entry from physical memory, and prints " +
				"KD's three lines per level (PXE, PPE, PDE, PTE): where the entry is, what it contains, and its page frame number with " +
				"its flags (C copy-on-write, G global, L large page, D dirty, A accessed, N cache disabled, T write-through, U user or K " +
				"kernel, W writable or R read-only, E executable, V valid). The entries' virtual addresses come from the PML4's " +
				"self-map entry; without one they are shown at their physical addresses (#). A not-present entry ends the walk " +
				"(\"not valid\"); a large page shows the 4 KiB frame within it. An address inside the page tables (through the self-map) " +
				"is taken as the address of a PTE, and the page that PTE maps is shown, as KD does. KD's other forms (!pte Address 1, " +
				"!pte Start End) and its decoding of not-present entries (transition, prototype, paged out) are not implemented.",
			Run: cmdPte,
		},
		&Command{
			Names: []string{"!vtop"}, Group: groupData,
			Example: "!vtop 0 nt!KiSystemStartup",
			Help: "Translate a virtual address to a physical address.\n\n\t!vtop PFN VirtualAddress\n\t!vtop 0 VirtualAddress\n\n" +
				"PFN is the page frame number of a process's page directory base (its DirBase >> 12); 0 uses the current " +
				"processor's CR3. kd prints the physical address of each entry it reads, then the result. The Amd64VtoP lines follow " +
				"the layout of KD's; their exact wording is not public.",
			Run: cmdVtop,
		},
	)
}

func cmdPte(ctx context.Context, e *Env, args string) (Result, error) {
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	line := strings.TrimSpace("!pte " + args)
	if strings.TrimSpace(args) == "" {
		return nil, syntaxErr(line, "a virtual address is expected")
	}
	va, err := e.eval(ctx, args)
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	sr, err := e.T.SpecialRegisters(ctx)
	if err != nil {
		return nil, err
	}
	self, haveSelf, err := e.T.SelfMapIndex(ctx, sr.Cr3)
	if err != nil {
		return nil, err
	}
	var res PteResult
	if haveSelf {
		// An address inside the page tables is a PTE: show the page it maps.
		if mapped, ok := target.SelfMapTarget(self, va); ok {
			res.FromPTE, va = va, mapped
		}
	}
	if res.Walk, err = e.T.WalkPageTables(ctx, sr.Cr3, va); err != nil {
		return nil, err
	}
	if haveSelf {
		res.SelfMap = true
		for l := range res.EntryVA {
			res.EntryVA[l] = target.SelfMapAddr(self, l, va)
		}
	}
	return res, nil
}

func cmdVtop(ctx context.Context, e *Env, args string) (Result, error) {
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	line := strings.TrimSpace("!vtop " + args)
	fields, err := splitFields(args)
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	if len(fields) != 2 {
		return nil, syntaxErr(line, "a page frame number (0 for the current CR3) and a virtual address are expected")
	}
	pfn, err := e.eval(ctx, fields[0])
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	if pfn > target.PTEFrameMask>>12 {
		return nil, syntaxErr(line, "the page frame number %x is beyond 52-bit physical addresses", pfn)
	}
	va, err := e.eval(ctx, fields[1])
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	dir := pfn << 12
	if pfn == 0 {
		sr, err := e.T.SpecialRegisters(ctx)
		if err != nil {
			return nil, err
		}
		dir = sr.Cr3
	}
	w, err := e.T.WalkPageTables(ctx, dir, va)
	if err != nil {
		return nil, err
	}
	return VtopResult{Walk: w}, nil
}
