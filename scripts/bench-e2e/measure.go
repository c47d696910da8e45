package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/kdproto"
)

// seed is the simulated machine's seed in every run.
const seed = 1

// env is where the programs are and where runs keep their files.
type env struct {
	self string // this program, for the engine client
	bin  string // the directory holding kd
	dir  string // scratch directory
}

// transferResult is one large read as the client performed it.
type transferResult struct {
	n      int64
	sizes  []int         // bytes each read returned, as the target saw them
	window time.Duration // first request served to the last reply's ACK, on the target
	wall   time.Duration // the client process from start to exit
	rss    int64         // the client's peak RSS
	cpu    time.Duration // the client's CPU time (user + system)
	simCPU time.Duration // this process's CPU time meanwhile: the simulator's
	resent int           // replies the target sent again (their ACK came late)
}

// rate is payload bytes per second over the target's window.
func (r transferResult) rate() float64 { return float64(r.n) / r.window.Seconds() }

// transfer serves a stopped machine at baud (0: unpaced) and runs the
// client to copy n bytes of the bulk pool to a file, then checks the file.
func (e env) transfer(baud int, n int64) (transferResult, error) {
	return e.transferBy(transferClient, baud, n)
}

// transferBy is transfer with a given client.
func (e env) transferBy(c client, baud int, n int64) (transferResult, error) {
	t, err := startTarget(e.dir, sim.Config{Seed: seed, Stopped: true, Baud: baud})
	if err != nil {
		return transferResult{}, err
	}
	defer t.stop()
	file := filepath.Join(e.dir, "dump.bin")
	defer os.Remove(file)
	args := c.args(e.self, e.bin, t.sock, sim.BulkPoolBase, n, file)
	cmd := exec.Command(args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	s0, _ := cpuTime(os.Getpid())
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return transferResult{}, fmt.Errorf("%s: %v: %s", filepath.Base(args[0]), err, lastLine(out.String()))
	}
	// The client may exit before its last ACK has crossed the line: the
	// target has seen everything once it has seen the connection end.
	select {
	case <-t.rec.gone:
	case <-time.After(10 * time.Second):
		return transferResult{}, errors.New("the target did not see the client leave")
	}
	s1, _ := cpuTime(os.Getpid())
	r := transferResult{n: n, wall: time.Since(start), rss: maxRSS(cmd),
		cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), simCPU: s1 - s0}
	r.sizes, r.window, r.resent = t.rec.window()
	if err := verify(file, n); err != nil {
		return r, err
	}
	if r.window <= 0 {
		return r, errors.New("the target saw no read of the bulk pool")
	}
	return r, nil
}

// verify checks that file holds the first n bytes of the bulk pool.
func verify(file string, n int64) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	var w [8]byte
	for off := int64(0); off < n; off += 8 {
		k, err := io.ReadFull(r, w[:min(8, n-off)])
		if err != nil {
			return fmt.Errorf("%s: %d bytes; want %d", file, off+int64(k), n)
		}
		want := sim.BulkPoolWord(seed, sim.BulkPoolBase+uint64(off))
		for i := range k {
			if w[i] != byte(want>>(8*i)) {
				return fmt.Errorf("%s: byte %d differs from the target's memory", file, off+int64(i))
			}
		}
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return fmt.Errorf("%s: longer than %d bytes", file, n)
	}
	return nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// sessionResult is an interactive kd session: connect, prompt, go, idle.
type sessionResult struct {
	total    time.Duration // process start to the first prompt
	afterAns time.Duration // the target's first packet to the first prompt
	requests int           // requests served before the first prompt
	apis     []string      // what they were
	simCPU   float64       // fraction of one core this process (the simulator) used meanwhile
	idleCPU  float64       // fraction of one core kd used while the target ran
	idleFor  time.Duration
	cpuKnown bool
	rss      int64
}

// promptText is the end of kd's prompt ("0: kd> ").
const promptText = "kd> "

// session runs kd against a stopped machine at baud up to its first
// prompt; with idle > 0 it then lets the target run ("g") and measures
// kd's CPU for that long. Closing kd's input detaches it.
func (e env) session(baud int, idle time.Duration) (sessionResult, error) {
	var res sessionResult
	t, err := startTarget(e.dir, sim.Config{Seed: seed, Stopped: true, Baud: baud})
	if err != nil {
		return res, err
	}
	defer t.stop()
	cmd := exec.Command(filepath.Join(e.bin, "kd"), "-k", "com:pipe,port="+t.sock)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return res, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return res, err
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	start := time.Now()
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return res, err
	}
	pw.Close()
	// kd shows its prompt on a pipe when it reads a command: give it one to
	// read as soon as it is ready.
	if _, err := io.WriteString(stdin, "r\n"); err != nil {
		return res, err
	}
	prompt := make(chan time.Time, 1)
	var out bytes.Buffer // kd's output, for errors; read until kd exits
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 4096)
		seen := false
		for {
			n, err := pr.Read(buf)
			if out.Len() < 1<<20 {
				out.Write(buf[:n])
			}
			if !seen && bytes.Contains(out.Bytes(), []byte(promptText)) {
				seen = true
				prompt <- time.Now()
			}
			if err != nil {
				return
			}
		}
	}()
	finish := func() error {
		stdin.Close()
		timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
		defer timer.Stop()
		err := cmd.Wait()
		<-readDone
		pr.Close()
		res.rss = maxRSS(cmd)
		return err
	}
	select {
	case at := <-prompt:
		res.total = at.Sub(start)
		answered, requests, apis := t.rec.snapshot()
		res.afterAns, res.requests, res.apis = at.Sub(answered), requests, apis
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		finish()
		return res, fmt.Errorf("kd showed no prompt within 60s: %s", lastLine(out.String()))
	}
	if idle > 0 {
		if _, err := io.WriteString(stdin, "g\n"); err != nil {
			return res, err
		}
		select {
		case <-t.rec.ran:
		case <-time.After(30 * time.Second):
			finish()
			return res, fmt.Errorf("the target did not resume after g: %s", lastLine(out.String()))
		}
		c0, ok0 := cpuTime(cmd.Process.Pid)
		s0, _ := cpuTime(os.Getpid())
		t0 := time.Now()
		time.Sleep(idle) // the measurement itself: kd's CPU over this interval
		c1, ok1 := cpuTime(cmd.Process.Pid)
		s1, _ := cpuTime(os.Getpid())
		res.idleFor = time.Since(t0)
		res.cpuKnown = ok0 && ok1
		res.idleCPU = (c1 - c0).Seconds() / res.idleFor.Seconds()
		res.simCPU = (s1 - s0).Seconds() / res.idleFor.Seconds()
	}
	if err := finish(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return res, err
		}
		// kd's exit status after a detach is not part of the measurement.
	}
	return res, nil
}

// resyncResult is repeated resynchronisations of kd's engine with a
// stopped target.
type resyncResult struct {
	times    []time.Duration // RESET sent to the state change received
	failures int
}

func (r resyncResult) median() time.Duration {
	s := slices.Clone(r.times)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func (r resyncResult) max() time.Duration {
	if len(r.times) == 0 {
		return 0
	}
	return slices.Max(r.times)
}

// resync resynchronises reps times with a machine configured by cfg, with
// the engine's options as kd's console uses them (a RESET every second).
func (e env) resync(cfg sim.Config, reps int) (resyncResult, error) {
	var res resyncResult
	cfg.Seed, cfg.Stopped = seed, true
	t, err := startTarget(e.dir, cfg)
	if err != nil {
		return res, err
	}
	defer t.stop()
	conn, err := net.Dial("unix", t.sock)
	if err != nil {
		return res, err
	}
	eng := kdproto.NewEngine(conn, kdproto.Options{})
	defer eng.Close()
	stops := make(chan struct{}, 16)
	go func() {
		for ev := range eng.Events() {
			if ev.Kind == kdproto.EventStateChange {
				select {
				case stops <- struct{}{}:
				default:
				}
			}
		}
	}()
	once := func() (time.Duration, error) {
		for len(stops) > 0 {
			<-stops
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		t0 := time.Now()
		if _, err := eng.Resync(ctx, kdproto.ResyncOptions{Interval: time.Second, Max: 30}); err != nil {
			return 0, err
		}
		select {
		case <-stops:
			return time.Since(t0), nil
		case <-ctx.Done():
			return 0, errors.New("no state change after the RESET")
		}
	}
	if _, err := once(); err != nil { // the first contact is not measured
		return res, fmt.Errorf("first contact: %w", err)
	}
	for range reps {
		d, err := once()
		if err != nil {
			res.failures++
			continue
		}
		res.times = append(res.times, d)
	}
	return res, nil
}
