package faults

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

var soak = flag.Duration("soak", 0, "run the soak test for this long (make soak)")

// rssKiB returns the process's resident set size, or 0 where /proc is missing.
func rssKiB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

// TestSoak is make soak: sessions back to back, in real time, with
// kdsim's hostile packets (--evil) and every line fault at once, for
// -soak. After every session the process's RSS and goroutine count are
// sampled; both must stay flat: goroutines back at the baseline once a
// session ended, RSS in the last quarter of the run within 1.5 times the
// first quarter's (plus 16 MiB of slack for the collector's timing).
func TestSoak(t *testing.T) {
	if *soak <= 0 {
		t.Skip("run with -soak DURATION (make soak)")
	}
	base := runtime.NumGoroutine()
	type sample struct {
		at         time.Duration
		rss, gor   int
		heapKiB    uint64
		ok, unsafe bool
	}
	var samples []sample
	start := time.Now()
	unsafe := 0
	for seed := int64(1); time.Since(start) < *soak; seed++ {
		r := Run(context.Background(), Case{Seed: seed, Evil: true, Noise: 0.02, Drop: 0.02, Dup: 0.02, Garbage: 0.02, Reads: 100, Run: 2 * time.Second})
		if !r.Safe() {
			unsafe++
			t.Errorf("session %d: %v", seed, r)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s := sample{at: time.Since(start), rss: rssKiB(), gor: runtime.NumGoroutine(), heapKiB: ms.HeapInuse / 1024, ok: r.Complete(), unsafe: !r.Safe()}
		samples = append(samples, s)
		t.Logf("%8s session %3d: RSS %6d KiB, heap %6d KiB, goroutines %3d (baseline %d), complete %v, reads %d/%d, prints %d/%d",
			s.at.Round(time.Second), seed, s.rss, s.heapKiB, s.gor, base, s.ok, r.ReadsOK, r.Reads, r.PrintsShown, r.PrintsAcked)
		if s.gor > base+2 {
			t.Errorf("session %d left %d goroutines behind", seed, s.gor-base)
		}
	}
	if len(samples) < 4 {
		t.Logf("%d sessions: too few to judge RSS", len(samples))
		return
	}
	q := len(samples) / 4
	avg := func(ss []sample) int {
		n := 0
		for _, s := range ss {
			n += s.rss
		}
		return n / len(ss)
	}
	first, last := avg(samples[:q]), avg(samples[len(samples)-q:])
	complete := 0
	for _, s := range samples {
		if s.ok {
			complete++
		}
	}
	summary := fmt.Sprintf("soak %v: %d sessions (%d complete, %d unsafe), RSS first quarter %d KiB, last quarter %d KiB, goroutines after each session %d..%d (baseline %d)",
		soak.String(), len(samples), complete, unsafe, first, last, minGor(samples, func(s sample) int { return s.gor }), maxGor(samples, func(s sample) int { return s.gor }), base)
	t.Log(summary)
	fmt.Println(summary)
	if first > 0 && last > first*3/2+16*1024 {
		t.Errorf("RSS grew from %d KiB to %d KiB", first, last)
	}
}

func minGor[S any](ss []S, f func(S) int) int {
	m := f(ss[0])
	for _, s := range ss {
		m = min(m, f(s))
	}
	return m
}

func maxGor[S any](ss []S, f func(S) int) int {
	m := f(ss[0])
	for _, s := range ss {
		m = max(m, f(s))
	}
	return m
}
