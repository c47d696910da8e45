package commands_test

import (
	"fmt"
	"testing"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/target/targettest"
	"github.com/gokd/kd/kdproto"
)

// BenchmarkSearch1MiB: s over 1 MiB of the bulk pool for a pattern
// planted at its end, through the target's SearchMemory and by maximal
// reads (kdsim without the API). requests/op counts what went on the
// wire; the memory cache is emptied before each search (by the eb that
// plants the pattern).
func BenchmarkSearch1MiB(b *testing.B) {
	for _, tc := range []struct {
		name  string
		noAPI bool
	}{{"target-api", false}, {"reads", true}} {
		b.Run(tc.name, func(b *testing.B) {
			r, _ := targettest.Stopped(b, targettest.Options{Sim: sim.Config{NoSearchFill: tc.noAPI}})
			env := commands.NewEnv(r.Target, &host{}, commands.Default())
			area := sim.BulkPoolBase + 0x100000
			plant := fmt.Sprintf("eb %s 4b 44 53 49 4d 21", hexAddr(area+0xFFFF0))
			search := "s -b " + hexAddr(area) + " L100000 4b 44 53 49 4d 21"
			count := func() int {
				return r.SimCount(sim.EventAPI, kdproto.APIReadVirtualMemory.String()) +
					r.SimCount(sim.EventAPI, kdproto.APISearchMemory.String())
			}
			before := count()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := env.Run(r.Ctx, plant); err != nil {
					b.Fatal(err)
				}
				res, _, err := env.Run(r.Ctx, search)
				if err != nil {
					b.Fatal(err)
				}
				if n := len(res.(commands.SearchResult).Hits); n != 1 {
					b.Fatalf("%d matches", n)
				}
			}
			b.ReportMetric(float64(count()-before)/float64(b.N), "requests/op")
		})
	}
}
