package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/kdproto"
)

// Goals from issue 9.
const (
	goalLineShare   = 0.97                   // of the stop-and-wait limit at 115200 baud
	goalRate        = 50e6                   // bytes/s, unthrottled 64 MiB
	goalRSS         = 30e6                   // bytes, while the 64 MiB transfer runs
	goalFirstPrompt = 200 * time.Millisecond // after the target answers, at 115200 baud
	// refRadare2 is radare2's KD client reading 24 KiB from kdsim over a
	// socket, whole process, connection included, as issue 9 measured it
	// on this machine kind (radare2 is not packaged here); the goal is kd
	// at least twice as fast.
	refRadare2    = 130 * time.Millisecond
	radare2Bytes  = 24 << 10
	goalVsRadare2 = 2.0
	// refIdleCPU is a reference, not an issue goal: 1% of one core.
	refIdleCPU = 0.01
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == floorFlag {
		if err := floorEcho(os.Args[2]); err != nil {
			fmt.Fprintf(os.Stderr, "bench-e2e: error: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == clientFlag {
		if err := engineClient(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "bench-e2e: error: %v\n", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// row is one line of the report.
type row struct {
	figure, value, ref, ratio, verdict string
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench-e2e", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "bin", "directory holding the kd binary")
	clientName := fs.String("client", "", "transfer client: engine or kd (.writemem); default: "+transferClient.name)
	pacedChunks := fs.Int("paced-reads", 16, "3944-byte reads per paced transfer (at 115200; half at 57600)")
	reps := fs.Int("resyncs", 10, "resynchronisations per link")
	idle := fs.Duration("idle", 5*time.Second, "how long to measure idle CPU")
	runs := fs.Int("runs", 3, "runs of each unthrottled transfer (the best is reported)")
	cpuProfile := fs.String("cpuprofile", "", "write this process's CPU profile (the simulator's side) to `file`")
	quick := fs.Bool("quick", false, "smaller transfers (1 MiB unthrottled at most, 4 paced reads)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch *clientName {
	case "":
	case "engine":
		transferClient = engineClientCmd
	case "kd":
		transferClient = kdClientCmd
	default:
		fmt.Fprintf(stderr, "bench-e2e: error: unknown -client %q\nbench-e2e: hint: use engine or kd\n", *clientName)
		return 2
	}
	if _, err := os.Stat(filepath.Join(*bin, "kd")); err != nil {
		fmt.Fprintf(stderr, "bench-e2e: error: no kd in %s\nbench-e2e: hint: run make build, or use make bench-e2e\n", *bin)
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "bench-e2e: error: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "kd-bench-")
	if err != nil {
		fmt.Fprintf(stderr, "bench-e2e: error: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "bench-e2e: error: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "bench-e2e: error: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	e := env{self: self, bin: *bin, dir: dir}
	sizes := []int64{1 << 20, 16 << 20, 64 << 20}
	if *quick {
		sizes, *pacedChunks, *runs = []int64{1 << 20}, 4, 1
	}

	fmt.Fprintf(stdout, "kd end-to-end benchmark, %s, %s/%s, %d CPUs, %s, transfer client: %s\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(),
		runtime.Version(), transferClient.name)
	var rows []row
	var notes []string
	failed := false
	if *runs < 1 {
		*runs = 1
	}
	fail := func(figure string, err error) {
		failed = true
		rows = append(rows, row{figure, "error: " + err.Error(), "", "", ""})
	}

	for _, p := range []struct{ baud, reads int }{{115200, *pacedChunks}, {57600, max(1, *pacedChunks/2)}} {
		n := int64(p.reads) * kdproto.MaxTransfer
		fig := fmt.Sprintf("read %d B at %d baud (B/s)", n, p.baud)
		r, err := e.transfer(p.baud, n)
		if err != nil {
			fail(fig, err)
			continue
		}
		limit := stopAndWaitLimit(r.sizes, p.baud)
		ideal := stopAndWaitLimit(chunks(n), p.baud)
		share := r.rate() / limit
		v := fmt.Sprintf("%.0f", r.rate())
		if r.resent > 0 {
			v += fmt.Sprintf(" (%d replies sent twice)", r.resent)
		}
		rows = append(rows, row{fig, v,
			fmt.Sprintf("%.0f stop-and-wait (%d reads)", limit, len(r.sizes)), pct(share), verdictMin(share, goalLineShare, p.baud == 115200)})
		if len(r.sizes) != len(chunks(n)) {
			rows = append(rows, row{"  ... against 3944-byte reads", fmt.Sprintf("%.0f", r.rate()), fmt.Sprintf("%.0f", ideal), pct(r.rate() / ideal), ""})
		}
	}
	var big transferResult
	for _, n := range sizes {
		fig := fmt.Sprintf("read %d MiB unthrottled (MB/s)", n>>20)
		// Best of several runs: on a shared machine the others measure
		// the neighbours.
		var best transferResult
		var rates []float64
		for range *runs {
			r, err := e.transfer(0, n)
			if err != nil {
				fail(fig, err)
				break
			}
			rates = append(rates, r.rate())
			if r.rate() > best.rate() || best.n == 0 {
				best = r
			}
		}
		if best.n == 0 {
			continue
		}
		slices.Sort(rates)
		rows = append(rows, row{fig, fmt.Sprintf("%.1f best of %d (median %.1f, process %.1f)", best.rate()/1e6, len(rates), rates[len(rates)/2]/1e6, float64(n)/best.wall.Seconds()/1e6),
			fmt.Sprintf("%.0f goal", goalRate/1e6), pct(best.rate() / goalRate), verdictMin(best.rate()/goalRate, 1, n == 64<<20)})
		mib := float64(n) / (1 << 20)
		notes = append(notes, fmt.Sprintf("CPU for the best %d MiB read: client %.1f ms/MiB, simulator %.1f ms/MiB (%d requests).",
			n>>20, ms(best.cpu)/mib, ms(best.simCPU)/mib, len(best.sizes)))
		big = best
	}
	// The radare2 comparison: kd itself, whole process, connection
	// included, best of the runs (process start is what varies).
	{
		fig := fmt.Sprintf("kd process, read %d KiB unthrottled, connection included (s)", radare2Bytes>>10)
		var best transferResult
		for range *runs {
			r, err := e.transferBy(kdClientCmd, 0, radare2Bytes)
			if err != nil {
				fail(fig, err)
				best.n = 0
				break
			}
			if best.n == 0 || r.wall < best.wall {
				best = r
			}
		}
		if best.n > 0 {
			goal := time.Duration(float64(refRadare2) / goalVsRadare2)
			rows = append(rows, row{fig, fmt.Sprintf("%.3f best of %d", best.wall.Seconds(), *runs),
				fmt.Sprintf("%.3f goal (radare2 %.2f / %.0f)", goal.Seconds(), refRadare2.Seconds(), goalVsRadare2),
				pct(float64(best.wall) / float64(goal)), verdictMax(float64(best.wall)/float64(goal), 1, true)})
		}
	}
	if f, err := e.floor(); err != nil {
		fail("round-trip floor", err)
	} else {
		v := fmt.Sprintf("%.1f (%.1f us a round trip)", f.rate()/1e6, float64(f.wall.Microseconds())/float64(f.trips))
		if f.cpuAvailable {
			notes = append(notes, fmt.Sprintf("Round-trip floor: %d bare round trips of %d and %d bytes between two Go processes over a Unix socket, no protocol, cost %.1f us of CPU on one side and %.1f us on the other each.",
				f.trips, floorOut, floorBack, float64(f.here.Nanoseconds())/1e3/float64(f.trips), float64(f.there.Nanoseconds())/1e3/float64(f.trips)))
		}
		rows = append(rows, row{"  round-trip floor, no protocol (MB/s)", v, fmt.Sprintf("%.0f goal", goalRate/1e6), pct(f.rate() / goalRate), ""})
	}
	if big.n > 0 && big.rss > 0 {
		rows = append(rows, row{fmt.Sprintf("client peak RSS, %d MiB read (MB)", big.n>>20), fmt.Sprintf("%.1f", float64(big.rss)/1e6),
			fmt.Sprintf("%.0f goal", goalRSS/1e6), pct(float64(big.rss) / goalRSS), verdictMax(float64(big.rss)/goalRSS, 1, big.n == 64<<20)})
	}

	resyncLimit := lineTime(resyncBytes, 115200)
	for _, l := range []struct {
		name string
		cfg  sim.Config
	}{
		{"healthy", sim.Config{Baud: 115200}},
		{"noisy", sim.Config{Baud: 115200, Noise: 0.05, Garbage: 0.05, Drop: 0.02}},
	} {
		fig := fmt.Sprintf("resync, %s line at 115200 (ms)", l.name)
		r, err := e.resync(l.cfg, *reps)
		if err != nil {
			fail(fig, err)
			continue
		}
		v := fmt.Sprintf("%.1f median, %.1f max", ms(r.median()), ms(r.max()))
		if r.failures > 0 {
			v += fmt.Sprintf(", %d of %d failed", r.failures, *reps)
		}
		rows = append(rows, row{fig, v, fmt.Sprintf("%.1f line time", ms(resyncLimit)), fmt.Sprintf("%.1fx", float64(r.median())/float64(resyncLimit)), ""})
	}

	for _, baud := range []int{115200, 0} {
		name := "unpaced"
		if baud > 0 {
			name = fmt.Sprint(baud)
		}
		fig := fmt.Sprintf("first prompt, %s (s after the target answers)", name)
		idleFor := time.Duration(0)
		if baud > 0 {
			idleFor = *idle
		}
		s, err := e.session(baud, idleFor)
		if err != nil {
			fail(fig, err)
			continue
		}
		rows = append(rows, row{fig, fmt.Sprintf("%.3f (%.3f from start, %d requests)", s.afterAns.Seconds(), s.total.Seconds(), s.requests),
			fmt.Sprintf("%.1f goal", goalFirstPrompt.Seconds()), pct(float64(s.afterAns) / float64(goalFirstPrompt)),
			verdictMax(float64(s.afterAns)/float64(goalFirstPrompt), 1, baud == 115200)})
		if baud > 0 {
			note := fmt.Sprintf("Requests before the first prompt at %d baud: %s.", baud, summarize(s.apis, s.requests))
			if chars, ok := connectBytes(s.apis, s.requests); ok {
				note += fmt.Sprintf(" In stop and wait they alone take %.3f s of line time.", lineTime(chars, baud).Seconds())
			}
			notes = append(notes, note)
		}
		if idleFor > 0 {
			if s.cpuKnown {
				rows = append(rows, row{fmt.Sprintf("kd idle CPU, target running (%% of a core over %.0fs)", s.idleFor.Seconds()),
					fmt.Sprintf("%.2f (simulator %.2f)", s.idleCPU*100, s.simCPU*100), fmt.Sprintf("%.0f reference", refIdleCPU*100), pct(s.idleCPU / refIdleCPU), ""})
			} else {
				rows = append(rows, row{"kd idle CPU, target running", "not measured on " + runtime.GOOS + " (needs /proc)", "", "", ""})
			}
			if s.rss > 0 {
				rows = append(rows, row{"kd peak RSS, interactive session (MB)", fmt.Sprintf("%.1f", float64(s.rss)/1e6),
					fmt.Sprintf("%.0f reference", goalRSS/1e6), pct(float64(s.rss) / goalRSS), ""})
			}
		}
	}

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tmeasured\tlimit or goal\tratio\tverdict")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.figure, r.value, r.ref, r.ratio, r.verdict)
	}
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintf(stdout, "\n%s\n", n)
	}
	if failed {
		return 1
	}
	return 0
}

// summarize lists requests, runs of the same one counted: "GetVersion,
// ReadVirtualMemory:8 x3".
func summarize(apis []string, total int) string {
	var parts []string
	for i := 0; i < len(apis); {
		j := i
		for j < len(apis) && apis[j] == apis[i] {
			j++
		}
		p := apis[i]
		if j-i > 1 {
			p += fmt.Sprintf(" x%d", j-i)
		}
		parts = append(parts, p)
		i = j
	}
	s := strings.Join(parts, ", ")
	if total > len(apis) {
		s += fmt.Sprintf(", ... (%d in all)", total)
	}
	return s
}

// connectBytes is the line traffic of requests listed by the recorder in
// stop and wait, when it is known: GetVersion and memory reads only.
func connectBytes(apis []string, total int) (int, bool) {
	if total != len(apis) {
		return 0, false
	}
	chars := 0
	for _, a := range apis {
		name, n, _ := strings.Cut(a, ":")
		switch name {
		case kdproto.APIGetVersion.String():
			chars += cycleBytes(0)
		case apiReadVirtual:
			k, err := strconv.Atoi(n)
			if err != nil {
				return 0, false
			}
			chars += cycleBytes(k)
		default:
			return 0, false
		}
	}
	return chars, true
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// verdictMin says whether a ratio reaches its goal (when the row has one).
func verdictMin(ratio, goal float64, has bool) string {
	switch {
	case !has:
		return ""
	case ratio >= goal:
		return "meets goal"
	}
	return "misses goal"
}

// verdictMax says whether a ratio stays within its goal.
func verdictMax(ratio, goal float64, has bool) string {
	switch {
	case !has:
		return ""
	case ratio <= goal:
		return "meets goal"
	}
	return "misses goal"
}
