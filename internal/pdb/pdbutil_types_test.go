package pdb

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/llvmtest"
)

// tpiRecord is one record of llvm-pdbutil's --types dump.
type tpiRecord struct {
	index TypeIndex
	kind  string
	name  string
	lines []string // detail lines, trimmed
}

func parseTypesDump(t *testing.T, lines []string) []tpiRecord {
	t.Helper()
	var recs []tpiRecord
	for _, l := range lines {
		if m := reRecord.FindStringSubmatch(l); m != nil && strings.HasPrefix(m[1], "0x") {
			v, _ := strconv.ParseUint(m[1][2:], 16, 32)
			recs = append(recs, tpiRecord{index: TypeIndex(v), kind: m[2], name: m[3]})
			continue
		}
		if len(recs) > 0 && strings.TrimSpace(l) != "" {
			recs[len(recs)-1].lines = append(recs[len(recs)-1].lines, strings.TrimSpace(l))
		}
	}
	return recs
}

var (
	reSizeof   = regexp.MustCompile(`sizeof (\d+)`)
	reFwd      = regexp.MustCompile(`forward ref \(-> (0x[0-9A-F]+)\)`)
	reFieldRef = regexp.MustCompile(`field list: (0x[0-9A-F]+|<no type>)`)
	reMember   = regexp.MustCompile("^- LF_MEMBER \\[name = `(.*)`, Type = (0x[0-9A-F]+).*, offset = (\\d+), attrs")
	reEnumer   = regexp.MustCompile(`^- LF_ENUMERATE \[(.*) = (-?\d+)\]`)
	reNest     = regexp.MustCompile("^- LF_NESTTYPE \\[name = `(.*)`, parent = (0x[0-9A-F]+)\\]")
	reStatic   = regexp.MustCompile("^- LF_STMEMBER \\[name = `(.*)`, type = (0x[0-9A-F]+)")
	reBitfield = regexp.MustCompile(`type = (0x[0-9A-F]+).*bit offset = (\d+), # bits = (\d+)`)
	reArray    = regexp.MustCompile(`size: (\d+), index type: .*element type: (0x[0-9A-F]+)`)
	reRef      = regexp.MustCompile(`referent = (0x[0-9A-F]+)`)
	reRet      = regexp.MustCompile(`return type = (0x[0-9A-F]+).*# args = (\d+)`)
)

func hexTI(s string) TypeIndex {
	if !strings.HasPrefix(s, "0x") {
		return 0
	}
	v, _ := strconv.ParseUint(s[2:], 16, 32)
	return TypeIndex(v)
}

// fieldText renders fields as llvm-pdbutil's member lines, reduced to
// the parts both sides know.
func fieldText(fs []Field) string {
	var b strings.Builder
	for _, fl := range fs {
		switch fl.Kind {
		case FieldMember:
			fmt.Fprintf(&b, "member %s 0x%04X %d\n", fl.Name, uint32(fl.Type), fl.Offset)
		case FieldEnumerate:
			if fl.Signed {
				fmt.Fprintf(&b, "enumerate %s %d\n", fl.Name, int64(fl.Value))
			} else {
				fmt.Fprintf(&b, "enumerate %s %d\n", fl.Name, fl.Value)
			}
		case FieldNested:
			fmt.Fprintf(&b, "nested %s 0x%04X\n", fl.Name, uint32(fl.Type))
		case FieldStatic:
			fmt.Fprintf(&b, "static %s 0x%04X\n", fl.Name, uint32(fl.Type))
		case FieldBase:
			fmt.Fprintf(&b, "base 0x%04X %d\n", uint32(fl.Type), fl.Offset)
		case FieldVFuncTab:
			fmt.Fprintf(&b, "vfunctab 0x%04X\n", uint32(fl.Type))
		case FieldMethod:
			fmt.Fprintf(&b, "method %s\n", fl.Name)
		}
	}
	return b.String()
}

// pdbutilFields renders an LF_FIELDLIST dump the same way.
func pdbutilFields(r tpiRecord) string {
	var b strings.Builder
	for i, l := range r.lines {
		switch {
		case reMember.MatchString(l):
			m := reMember.FindStringSubmatch(l)
			fmt.Fprintf(&b, "member %s %s %s\n", m[1], m[2], m[3])
		case reEnumer.MatchString(l):
			m := reEnumer.FindStringSubmatch(l)
			fmt.Fprintf(&b, "enumerate %s %s\n", m[1], m[2])
		case reNest.MatchString(l):
			m := reNest.FindStringSubmatch(l)
			fmt.Fprintf(&b, "nested %s %s\n", m[1], m[2])
		case reStatic.MatchString(l):
			m := reStatic.FindStringSubmatch(l)
			fmt.Fprintf(&b, "static %s %s\n", m[1], m[2])
		case l == "- LF_BCLASS" && i+1 < len(r.lines):
			var ti string
			var off int
			fmt.Sscanf(r.lines[i+1], "type = %s offset = %d", &ti, &off)
			fmt.Fprintf(&b, "base %s %d\n", strings.TrimSuffix(ti, ","), off)
		case strings.HasPrefix(l, "- LF_VFUNCTAB type = "):
			fmt.Fprintf(&b, "vfunctab %s\n", strings.TrimPrefix(l, "- LF_VFUNCTAB type = "))
		case strings.HasPrefix(l, "- LF_ONEMETHOD [name = `"), strings.HasPrefix(l, "- LF_METHOD [name = `"):
			n := l[strings.Index(l, "`")+1:]
			fmt.Fprintf(&b, "method %s\n", n[:strings.Index(n, "`")])
		}
	}
	return b.String()
}

func TestAgainstPdbutilTypes(t *testing.T) {
	tool := llvmtest.Pdbutil(t)
	for _, name := range testPDBs {
		t.Run(name, func(t *testing.T) {
			f := openTest(t, name)
			recs := parseTypesDump(t, dumpLines(t, tool, filepath.Join(symbolsDir(), name), "--types"))
			if len(recs) < 20 {
				t.Fatalf("llvm-pdbutil listed %d types", len(recs))
			}
			lists := map[TypeIndex]tpiRecord{}
			for _, r := range recs {
				if r.kind == "LF_FIELDLIST" {
					lists[r.index] = r
				}
			}
			checked := map[string]int{}
			for _, r := range recs {
				ty, err := f.Type(r.index)
				if err != nil {
					t.Errorf("Type(%#x) %s: %v", r.index, r.kind, err)
					continue
				}
				all := strings.Join(r.lines, "\n")
				var want, got string
				switch r.kind {
				case "LF_STRUCTURE", "LF_CLASS", "LF_UNION":
					sz := reSizeof.FindStringSubmatch(all)
					want = fmt.Sprintf("%s size %s fwd %v", r.name, sz[1], reFwd.MatchString(all))
					got = fmt.Sprintf("%s size %d fwd %v", ty.Name, ty.Size, ty.Forward)
					if m := reFwd.FindStringSubmatch(all); m != nil {
						full, err := f.Resolve(r.index)
						if err != nil || full.Index != hexTI(m[1]) {
							t.Errorf("Resolve(%#x) = %v, %v; llvm-pdbutil says -> %s", r.index, full, err, m[1])
						}
					}
					if fl := reFieldRef.FindStringSubmatch(all); fl != nil && !ty.Forward {
						if l, ok := lists[hexTI(fl[1])]; ok {
							if g, w := fieldText(ty.Fields), pdbutilFields(l); g != w {
								t.Errorf("%s fields:\n%s\nllvm-pdbutil:\n%s", r.name, g, w)
							}
						}
					}
				case "LF_ENUM":
					fl := reFieldRef.FindStringSubmatch(all)
					want = fmt.Sprintf("%s\n%s", r.name, pdbutilFields(lists[hexTI(fl[1])]))
					got = fmt.Sprintf("%s\n%s", ty.Name, fieldText(ty.Fields))
				case "LF_ARRAY":
					m := reArray.FindStringSubmatch(all)
					want = fmt.Sprintf("%s of %s", m[1], m[2])
					got = fmt.Sprintf("%d of 0x%04X", ty.Size, uint32(ty.Elem))
				case "LF_BITFIELD":
					m := reBitfield.FindStringSubmatch(all)
					want = fmt.Sprintf("%s %s %s", m[1], m[2], m[3])
					got = fmt.Sprintf("0x%04X %d %d", uint32(ty.Elem), ty.BitPos, ty.BitLen)
				case "LF_POINTER", "LF_MODIFIER":
					want = reRef.FindStringSubmatch(all)[1]
					got = fmt.Sprintf("0x%04X", uint32(ty.Elem))
					if r.kind == "LF_MODIFIER" {
						want += fmt.Sprint(" const=", strings.Contains(all, "const"), " volatile=", strings.Contains(all, "volatile"))
						got += fmt.Sprint(" const=", ty.Const, " volatile=", ty.Volatile)
					}
				case "LF_PROCEDURE", "LF_MFUNCTION":
					m := reRet.FindStringSubmatch(all)
					want = m[1] + " " + m[2]
					got = fmt.Sprintf("0x%04X %d", uint32(ty.Elem), len(ty.Params))
				default:
					continue
				}
				checked[r.kind]++
				if got != want {
					t.Errorf("type %#x %s: got %q; llvm-pdbutil %q", r.index, r.kind, got, want)
				}
			}
			for _, k := range []string{"LF_STRUCTURE", "LF_UNION", "LF_ENUM", "LF_ARRAY", "LF_BITFIELD", "LF_POINTER", "LF_MODIFIER", "LF_PROCEDURE"} {
				if checked[k] == 0 {
					t.Errorf("no %s records compared", k)
				}
			}
			if name == "kdtdrv.pdb" && checked["LF_CLASS"] == 0 {
				t.Errorf("no LF_CLASS records compared")
			}
			t.Logf("compared %v", checked)
		})
	}
}
