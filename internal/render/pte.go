package render

import (
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
)

// pteColumn is the width of one level's column in !pte's display.
const pteColumn = 27

// PteFlags is KD's flag string of a page-table entry at level (0 PXE ...
// 3 PTE): C G L D A N T U/K W/R E V, a dash for each clear bit.
func PteFlags(e uint64, level int) string {
	f := []byte("-----------")
	set := func(i int, bit uint64, c byte) {
		if e&bit != 0 {
			f[i] = c
		}
	}
	set(0, target.PTECopyOnWr, 'C')
	set(1, target.PTEGlobal, 'G')
	if level == 1 || level == 2 {
		set(2, target.PTELarge, 'L')
	}
	set(3, target.PTEDirty, 'D')
	set(4, target.PTEAccessed, 'A')
	set(5, target.PTENoCache, 'N')
	set(6, target.PTEWriteThr, 'T')
	f[7] = 'K'
	set(7, target.PTEUser, 'U')
	f[8] = 'R'
	set(8, target.PTEWrite, 'W')
	if e&target.PTENoExec == 0 {
		f[9] = 'E'
	}
	set(10, target.PTEValid, 'V')
	return string(f)
}

func pteText(b *strings.Builder, v commands.PteResult) {
	w := v.Walk
	fmt.Fprintf(b, "%43sVA %016x\n", "", w.VA)
	var at, contains, pfn []string
	for l := 0; l < 4; l++ {
		switch {
		case v.SelfMap:
			at = append(at, fmt.Sprintf("%s at %016X", target.PageLevel[l], v.EntryVA[l]))
		case l < len(w.Entries):
			at = append(at, fmt.Sprintf("%s at #%015X", target.PageLevel[l], w.Entries[l].Addr))
		}
	}
	for i, e := range w.Entries {
		if !e.Read {
			contains = append(contains, "contains ????????????????")
			pfn = append(pfn, "unreadable")
			continue
		}
		contains = append(contains, fmt.Sprintf("contains %016X", e.Value))
		if e.Value&target.PTEValid == 0 {
			pfn = append(pfn, "not valid")
			continue
		}
		pfn = append(pfn, fmt.Sprintf("pfn %-10x%s", e.Value&target.PTEFrameMask>>12, PteFlags(e.Value, i)))
	}
	if w.Valid && len(w.Entries) < 4 {
		// A large page: the 4 KiB frame of the address within it.
		pfn = append(pfn, fmt.Sprintf("LARGE PAGE pfn %x", w.Phys>>12))
	}
	for _, row := range [][]string{at, contains, pfn} {
		var line strings.Builder
		for i, c := range row {
			if i < len(row)-1 {
				fmt.Fprintf(&line, "%-*s", pteColumn, c)
			} else {
				line.WriteString(c)
			}
		}
		b.WriteString(line.String() + "\n")
	}
}

func vtopText(b *strings.Builder, v commands.VtopResult) {
	w := v.Walk
	names := [4]string{"PML4E", "PDPE", "PDE", "PTE"}
	fmt.Fprintf(b, "Amd64VtoP: Virt %s, pagedir %s\n", Addr(w.VA), Addr(w.DirBase))
	for _, e := range w.Entries {
		fmt.Fprintf(b, "Amd64VtoP: %s %s\n", names[e.Level], Addr(e.Addr))
		switch {
		case !e.Read:
			fmt.Fprintf(b, "Amd64VtoP: %s cannot be read\n", names[e.Level])
		case e.Value&target.PTEValid == 0:
			fmt.Fprintf(b, "Amd64VtoP: %s not present (%016x)\n", names[e.Level], e.Value)
		}
	}
	if !w.Valid {
		fmt.Fprintf(b, "Virtual address %x translation fails: not mapped.\n", w.VA)
		return
	}
	if w.PageSize > 4096 {
		fmt.Fprintf(b, "Amd64VtoP: Large page mapped phys %s\n", Addr(w.Phys))
	} else {
		fmt.Fprintf(b, "Amd64VtoP: Mapped phys %s\n", Addr(w.Phys))
	}
	fmt.Fprintf(b, "Virtual address %x translates to physical address %x.\n", w.VA, w.Phys)
}

// walkJSON is a page walk's JSON data.
func walkJSON(w target.PageWalk) map[string]any {
	entries := make([]any, len(w.Entries))
	for i, e := range w.Entries {
		x := map[string]any{"level": target.PageLevel[e.Level], "address": Hex(e.Addr), "readable": e.Read}
		if e.Read {
			x["contents"] = Hex(e.Value)
			x["valid"] = e.Value&target.PTEValid != 0
			if e.Value&target.PTEValid != 0 {
				x["pfn"] = Hex(e.Value & target.PTEFrameMask >> 12)
				x["flags"] = PteFlags(e.Value, e.Level)
			}
		}
		entries[i] = x
	}
	m := map[string]any{"virtual_address": Hex(w.VA), "directory_base": Hex(w.DirBase), "entries": entries, "valid": w.Valid}
	if w.Valid {
		m["physical_address"] = Hex(w.Phys)
		m["page_size"] = w.PageSize
	}
	return m
}
