package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/target"
)

// maxSearchHits and maxCompareDiffs bound what s and c report: a search
// for 00 over 256 MiB must not print (or hold) a line per byte.
const (
	maxSearchHits   = 4096
	maxCompareDiffs = 4096
)

// opChunk is how much c and m read at a time.
const opChunk = 1 << 20

func init() {
	addHinted(
		&Command{
			Names: []string{"f"}, Group: groupData,
			Example: "f ffffd000`00000000 L20 de ad be ef",
			Help: "Fill memory with a repeated pattern.\n\n\tf Address L Count Pattern...\n\tf Address EndAddress Pattern...\n\n" +
				"The pattern is bytes (expressions, 'c' characters or a \"string\"), repeated to the end of the range. " +
				"kd asks the target to fill (DbgKdFillMemoryApi) and writes the range itself when the target does not offer that. " +
				"Ranges over 256 MiB need L?. Nothing is printed on success.",
			Run: cmdFill,
		},
		&Command{
			Names: []string{"s"}, Group: groupData,
			Example: "s -a nt L1000 \"This program\"\ns -q nt!PsLoadedModuleList L100 fffff800`10a04000",
			Help: "Search memory for a pattern.\n\n\ts [-b|-w|-d|-q] Address L Count Value...\n\ts -a|-u Address L Count \"String\"\n\ts [-type] Address EndAddress Pattern\n\n" +
				"-b bytes (the default), -w words, -d dwords, -q qwords, -a an ASCII string, -u a UTF-16 string. Each match prints its address and " +
				"the memory from there as db (-b, -a, -u), dw (-w), dc (-d) or dq (-q) shows it; matches are found at any byte offset. " +
				"kd asks the target to search (DbgKdSearchMemoryApi), one request per match, and reads the range itself in 1 MiB reads when the " +
				"target does not offer that. At most 4096 matches are listed. Ranges over 256 MiB need L?. " +
				"KD's flags beyond the type (-s, -r, -v, -[w]...) and its exact match layout are not public in full; kd's is its closest equivalent.",
			Run: cmdSearch,
		},
		&Command{
			Names: []string{"c"}, Group: groupData,
			Example: "c nt L40 ffffd000`00000000",
			Help: "Compare two ranges of memory.\n\n\tc Address L Count Address2\n\tc Address EndAddress Address2\n\n" +
				"Each byte that differs prints as KD does: address and value in the first range, a dash, address and value in the second. " +
				"Unreadable bytes show as ??. At most 4096 differences are listed; nothing is printed when the ranges match. " +
				"KD's documentation shows no sample of this output: the layout is kd's closest equivalent.",
			Run: cmdCompare,
		},
		&Command{
			Names: []string{"m"}, Group: groupData,
			Example: "m nt L40 ffffd000`00000000",
			Help: "Move (copy) memory.\n\n\tm Address L Count Destination\n\tm Address EndAddress Destination\n\n" +
				"The copy is correct when the ranges overlap (it runs backwards when the destination is above the source). " +
				"It stops at the first byte that cannot be read or written and says where.",
			Run: cmdMove,
		},
	)
}

// opRange parses "Range rest..." for f, s, c and m: the range's start and
// length in bytes and the fields after it.
func opRange(ctx context.Context, e *Env, line string, fields []string, minAfter int) (uint64, uint64, []string, error) {
	text, rest, err := splitRange(fields, minAfter)
	if err != nil {
		return 0, 0, nil, syntaxErr(line, "%v", err)
	}
	r, err := parseRange(text, exprTarget{ctx, e})
	if err != nil {
		return 0, 0, nil, syntaxErr(line, "%v", err)
	}
	if !r.haveAddr {
		return 0, 0, nil, syntaxErr(line, "a range is expected")
	}
	n, err := r.length(1, r.addr)
	if err != nil {
		return 0, 0, nil, rangeErr(line, text, err)
	}
	if n == 0 {
		return 0, 0, nil, syntaxErr(line, "a range is expected")
	}
	if r.addr+n-1 < r.addr {
		return 0, 0, nil, rangeErr(line, text, fmt.Errorf("the range runs past the end of the address space"))
	}
	return r.addr, n, rest, nil
}

func cmdFill(ctx context.Context, e *Env, args string) (Result, error) {
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	line := strings.TrimSpace("f " + args)
	fields, err := splitFields(args)
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	addr, n, rest, err := opRange(ctx, e, line, fields, 1)
	if err != nil {
		return nil, err
	}
	pat, err := fillPattern(rest, func(s string) (uint64, error) { return e.eval(ctx, s) })
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	_, err = e.T.FillMemory(ctx, addr, n, pat)
	return nil, err
}

// fillPattern parses f's pattern: byte values, 'c' characters and
// "strings", in order.
func fillPattern(fields []string, eval func(string) (uint64, error)) ([]byte, error) {
	if len(fields) == 0 {
		return nil, fmt.Errorf("a pattern is expected")
	}
	var pat []byte
	for _, f := range fields {
		if s, ok := quoted(f); ok {
			b, err := asciiBytes(s)
			if err != nil {
				return nil, err
			}
			pat = append(pat, b...)
		} else if f[0] == '\'' {
			pat = append(pat, f[1:len(f)-1]...)
		} else {
			b, err := valueBytes([]string{f}, 1, eval)
			if err != nil {
				return nil, err
			}
			pat = append(pat, b...)
		}
		if len(pat) > maxPatternLen {
			return nil, fmt.Errorf("the pattern is longer than %d bytes", maxPatternLen)
		}
	}
	if len(pat) == 0 {
		return nil, fmt.Errorf("the pattern is empty")
	}
	return pat, nil
}

// searchForms maps s's type flag to the display form of a hit's line.
var searchForms = map[byte]string{'b': "db", 'a': "db", 'u': "db", 'w': "dw", 'd': "dc", 'q': "dq"}

// searchKind takes s's leading -type flag ("-b" when none).
func searchKind(fields []string) (byte, []string, error) {
	if len(fields) == 0 || fields[0][0] != '-' {
		return 'b', fields, nil
	}
	f := strings.ToLower(fields[0])
	if len(f) != 2 || searchForms[f[1]] == "" {
		return 0, nil, fmt.Errorf("unknown search type %s (-b -w -d -q -a -u)", fields[0])
	}
	return f[1], fields[1:], nil
}

func cmdSearch(ctx context.Context, e *Env, args string) (Result, error) {
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	line := strings.TrimSpace("s " + args)
	fields, err := splitFields(args)
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	kind, fields, err := searchKind(fields)
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	addr, n, rest, err := opRange(ctx, e, line, fields, 1)
	if err != nil {
		return nil, err
	}
	pat, err := searchPattern(kind, rest, func(s string) (uint64, error) { return e.eval(ctx, s) })
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	res := SearchResult{Form: searchForms[kind], Pattern: pat}
	lineLen := 16
	for off := uint64(0); off < n; {
		at, found, via, err := e.T.SearchMemory(ctx, addr+off, n-off, pat)
		if err != nil {
			return nil, err
		}
		res.ViaTarget = res.ViaTarget || via
		if !found {
			break
		}
		if len(res.Hits) == maxSearchHits {
			res.Truncated = true
			break
		}
		data, ok, err := e.T.ReadMemory(ctx, at, lineLen)
		if err != nil {
			return nil, err
		}
		res.Hits = append(res.Hits, SearchHit{Addr: at, Data: data, OK: ok})
		off = at - addr + 1
	}
	return res, nil
}

// twoRanges parses c's and m's "Range Address2".
func twoRanges(ctx context.Context, e *Env, line, args string) (uint64, uint64, uint64, error) {
	fields, err := splitFields(args)
	if err != nil {
		return 0, 0, 0, syntaxErr(line, "%v", err)
	}
	addr, n, rest, err := opRange(ctx, e, line, fields, 1)
	if err != nil {
		return 0, 0, 0, err
	}
	if len(rest) != 1 {
		return 0, 0, 0, syntaxErr(line, "one second address is expected after the range")
	}
	addr2, err := e.eval(ctx, rest[0])
	if err != nil {
		return 0, 0, 0, syntaxErr(line, "%v", err)
	}
	if addr2+n-1 < addr2 {
		return 0, 0, 0, rangeErr(line, args, fmt.Errorf("the second range runs past the end of the address space"))
	}
	return addr, n, addr2, nil
}

func cmdCompare(ctx context.Context, e *Env, args string) (Result, error) {
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	line := strings.TrimSpace("c " + args)
	a1, n, a2, err := twoRanges(ctx, e, line, args)
	if err != nil {
		return nil, err
	}
	var res CompareResult
	for off := uint64(0); off < n && !res.Truncated; off += opChunk {
		k := int(min(n-off, opChunk))
		d1, ok1, err := e.T.ReadMemory(ctx, a1+off, k)
		if err != nil {
			return nil, err
		}
		d2, ok2, err := e.T.ReadMemory(ctx, a2+off, k)
		if err != nil {
			return nil, err
		}
		for i := 0; i < k; i++ {
			if ok1[i] == ok2[i] && (!ok1[i] || d1[i] == d2[i]) {
				continue
			}
			if len(res.Diffs) == maxCompareDiffs {
				res.Truncated = true
				break
			}
			res.Diffs = append(res.Diffs, CompareDiff{Addr1: a1 + off + uint64(i), Addr2: a2 + off + uint64(i),
				Val1: d1[i], Val2: d2[i], OK1: ok1[i], OK2: ok2[i]})
		}
		res.Compared = off + uint64(k)
	}
	return res, nil
}

func cmdMove(ctx context.Context, e *Env, args string) (Result, error) {
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	line := strings.TrimSpace("m " + args)
	src, n, dst, err := twoRanges(ctx, e, line, args)
	if err != nil {
		return nil, err
	}
	// Like memmove: backwards when the destination starts inside the
	// source, so no byte is overwritten before it is copied.
	backwards := dst > src && dst-src < n
	for done := uint64(0); done < n; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k := min(n-done, opChunk)
		off := done
		if backwards {
			off = n - done - k
		}
		data, ok, err := e.T.ReadMemory(ctx, src+off, int(k))
		if err != nil {
			return nil, err
		}
		for i, good := range ok {
			if !good {
				return nil, &target.AccessError{Addr: src + off + uint64(i)}
			}
		}
		if err := e.T.WriteMemory(ctx, dst+off, data); err != nil {
			return nil, err
		}
		done += k
	}
	return nil, nil
}
