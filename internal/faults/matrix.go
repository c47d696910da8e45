package faults

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Cell is one fault setting of the matrix.
type Cell struct {
	Name                      string
	Level                     float64
	Noise, Drop, Dup, Garbage bool
}

// Case returns the session of c with seed.
func (c Cell) Case(seed int64) Case {
	k := Case{Seed: seed}
	if c.Noise {
		k.Noise = c.Level
	}
	if c.Drop {
		k.Drop = c.Level
	}
	if c.Dup {
		k.Dup = c.Level
	}
	if c.Garbage {
		k.Garbage = c.Level
	}
	return k
}

// Cells returns the matrix: noise, drop, dup and garbage, each alone and
// all together, at 0.01, 0.05 and 0.1.
func Cells() []Cell {
	var cells []Cell
	for _, lv := range []float64{0.01, 0.05, 0.1} {
		cells = append(cells, cellsAt(lv)...)
	}
	return cells
}

func cellsAt(lv float64) []Cell {
	l := strconv.FormatFloat(lv, 'f', -1, 64)
	return []Cell{
		{Name: "noise " + l, Level: lv, Noise: true},
		{Name: "drop " + l, Level: lv, Drop: true},
		{Name: "dup " + l, Level: lv, Dup: true},
		{Name: "garbage " + l, Level: lv, Garbage: true},
		{Name: "all " + l, Level: lv, Noise: true, Drop: true, Dup: true, Garbage: true},
	}
}

func sliceCells() []Cell {
	if lv, err := strconv.ParseFloat(os.Getenv("KD_FAULT_LEVEL"), 64); err == nil {
		return cellsAt(lv)
	}
	return cellsAt(0.05)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Row sums the sessions of one cell.
type Row struct {
	Cell      Cell
	Sessions  int
	Complete  int // everything right, no help
	Unsafe    int // a hang or a wrong byte
	Reads     int
	ReadsOK   int
	Wrong     int
	Asked     int // CTRL+R ENTER the user had to press
	Repairs   int
	Prints    int
	Lost      int
	Twice     int
	BreakIns  int
	Hangs     int
	Longest   time.Duration
	FirstFail string
}

// Add counts one session.
func (w *Row) Add(r Result) {
	w.Sessions++
	if r.Complete() {
		w.Complete++
	}
	if !r.Safe() {
		w.Unsafe++
	}
	if r.Hang != "" {
		w.Hangs++
	}
	w.Reads += r.Reads
	w.ReadsOK += r.ReadsOK
	w.Wrong += r.WrongBytes
	w.Asked += r.AskedResync
	w.Repairs += r.Repairs
	w.Prints += r.PrintsAcked
	w.Lost += r.PrintsLost
	w.Twice += r.PrintsTwice
	if r.BrokeIn {
		w.BreakIns++
	}
	if r.Elapsed > w.Longest {
		w.Longest = r.Elapsed
	}
	if w.FirstFail == "" && !r.Complete() {
		w.FirstFail = fmt.Sprintf("seed %d: %s", r.Seed, firstNonEmpty(r.Hang, r.Err))
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return "prints lost or break-in missed"
}

// Line is the row as one log line.
func (w Row) Line() string {
	return fmt.Sprintf("%-12s complete %d/%d, unsafe %d, reads %d/%d, wrong bytes %d, CTRL+R asked %d, repairs %d, prints lost %d twice %d of %d, break-ins %d, hangs %d",
		w.Cell.Name, w.Complete, w.Sessions, w.Unsafe, w.ReadsOK, w.Reads, w.Wrong, w.Asked, w.Repairs, w.Lost, w.Twice, w.Prints, w.BreakIns, w.Hangs)
}

// Table formats rows as the Markdown table of docs/reliability.md.
func Table(rows []Row, seeds int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| Faults (each probability per packet) | Sessions complete | Reads correct | Wrong bytes | CTRL+R asked | Self-repairs | DbgPrints lost / twice (of acked) | Break-ins answered | Hangs |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|\n")
	for _, w := range rows {
		fmt.Fprintf(&b, "| %s | %d/%d | %d/%d | %d | %d | %d | %d / %d (of %d) | %d/%d | %d |\n",
			w.Cell.Name, w.Complete, w.Sessions, w.ReadsOK, w.Reads, w.Wrong, w.Asked, w.Repairs, w.Lost, w.Twice, w.Prints, w.BreakIns, w.Sessions, w.Hangs)
	}
	return b.String()
}

// Markers around the generated table in docs/reliability.md.
const (
	BeginMarker = "<!-- begin fault matrix (make faults) -->"
	EndMarker   = "<!-- end fault matrix -->"
)

// ReplaceTable puts table between the markers of doc.
func ReplaceTable(doc, table string) (string, error) {
	i := strings.Index(doc, BeginMarker)
	j := strings.Index(doc, EndMarker)
	if i < 0 || j < i {
		return "", errors.New("the file has no fault matrix markers")
	}
	return doc[:i+len(BeginMarker)] + "\n" + table + doc[j:], nil
}
