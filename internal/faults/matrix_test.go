package faults

import (
	"context"
	"flag"
	"os"
	"testing"
	"testing/synctest"
)

var (
	matrix = flag.Bool("matrix", false, "run the whole fault matrix (make faults) instead of the short slice")
	seeds  = flag.Int("seeds", 20, "seeds per cell of the matrix")
	write  = flag.String("write", "", "with -matrix: rewrite the table in this Markdown file")
	probe  = flag.String("case", "", "run one case, e.g. noise=0.05,seed=3 (debugging)")
)

// runBubble runs one session in a synctest bubble: the engine's and the
// simulator's timeouts pass in fake time, so a session with hundreds of
// lost packets takes as long as its CPU work.
func runBubble(t *testing.T, c Case) Result {
	t.Helper()
	var r Result
	synctest.Test(t, func(t *testing.T) {
		r = Run(context.Background(), c)
	})
	return r
}

// TestFaultSlice is the short seeded slice of the matrix that make test
// runs: each fault alone at 0.05 and all of them at once, two seeds.
func TestFaultSlice(t *testing.T) {
	if *matrix {
		t.Skip("-matrix: TestFaultMatrix runs instead")
	}
	n, reads := int64(2), 60
	if *probe != "" {
		n, reads = int64(*seeds), 300
	}
	for _, cell := range sliceCells() {
		for seed := int64(1); seed <= n; seed++ {
			c := cell.Case(seed)
			c.Reads = reads
			t.Run(cell.Name+"/"+itoa(seed), func(t *testing.T) {
				r := runBubble(t, c)
				t.Log(r)
				if !r.Complete() {
					t.Errorf("incomplete session: %v", r)
				}
			})
		}
	}
}

// TestFaultMatrix is make faults: the whole grid, printed into
// docs/reliability.md with -write.
func TestFaultMatrix(t *testing.T) {
	if !*matrix {
		t.Skip("run with -matrix (make faults)")
	}
	var rows []Row
	for _, cell := range Cells() {
		row := Row{Cell: cell}
		for seed := int64(1); seed <= int64(*seeds); seed++ {
			r := runBubble(t, cell.Case(seed))
			row.Add(r)
			if !r.Safe() || (cell.Level <= 0.05 && !r.Complete()) {
				t.Logf("%s: %v", cell.Name, r)
			}
		}
		t.Logf("%s", row.Line())
		rows = append(rows, row)
	}
	table := Table(rows, *seeds)
	t.Logf("\n%s", table)
	if *write != "" {
		b, err := os.ReadFile(*write)
		if err != nil {
			t.Fatal(err)
		}
		out, err := ReplaceTable(string(b), table)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*write, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, row := range rows {
		if row.Unsafe > 0 {
			t.Errorf("%s: %d sessions hung or showed a wrong byte", row.Cell.Name, row.Unsafe)
		}
		if row.Cell.Level <= 0.05 && row.Complete < *seeds {
			t.Errorf("%s: %d of %d sessions complete; the goal is all of them", row.Cell.Name, row.Complete, *seeds)
		}
	}
}

// TestDriftCases replays, seed for seed, the sessions in which kd's view
// of the target drifted before issue 13 was fixed; each must now be
// complete.
func TestDriftCases(t *testing.T) {
	cases := []struct {
		name string
		c    Case
	}{
		// The ACK of g was lost: kd kept the target stopped while it ran
		// and printed; CTRL+C was taken as "cancel" and sent nothing.
		{"resume ACK lost", Case{Drop: 0.05, Seed: 2}},
		// A DbgPrint whose packet id byte was hit was shown, then shown
		// again when the target re-sent it.
		{"print id damaged", Case{Noise: 0.05, Seed: 3}},
		// Retransmitted Continue2 to a running target that waited for the
		// ACK of a DbgPrint: taken as that ACK, answered with RESEND, again
		// and again ("target keeps asking for a resend").
		{"continue taken as a print's ACK", Case{Noise: 0.05, Drop: 0.05, Dup: 0.05, Garbage: 0.05, Seed: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runBubble(t, tc.c)
			if !r.Complete() {
				t.Errorf("%v", r)
			}
		})
	}
}
