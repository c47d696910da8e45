package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gokd/kd/kdproto"
)

// client is a program that copies n bytes of target memory at addr into
// file, against the target on sock: args returns its command line.
type client struct {
	name string
	args func(self, bin, sock string, addr uint64, n int64, file string) []string
}

var (
	engineClientCmd = client{"kd's engine (ReadVirtual, 3944 bytes a request)", engineReadArgs}
	kdClientCmd     = client{"kd .writemem", kdWritememArgs}
)

// transferClient performs the transfers: kd's .writemem. Before kd had
// .writemem it was the engine client below (-client engine still runs it,
// to tell the engine's cost from the rest of kd's).
var transferClient = kdClientCmd

// kdWritememArgs runs kd's .writemem (issue 9) for the transfer.
func kdWritememArgs(self, bin, sock string, addr uint64, n int64, file string) []string {
	return []string{filepath.Join(bin, "kd"), "-k", "com:pipe,port=" + sock,
		"-c", fmt.Sprintf(".writemem %s %#x L?%#x", file, addr, n)}
}

// engineReadArgs runs this program as a client that reads through kd's
// engine (kdproto.Engine.ReadVirtual, 3944 bytes a request) and streams
// the data to file, as .writemem will.
func engineReadArgs(self, bin, sock string, addr uint64, n int64, file string) []string {
	return []string{self, clientFlag, "-sock", sock, "-addr", "0x" + strconv.FormatUint(addr, 16),
		"-n", strconv.FormatInt(n, 10), "-out", file}
}

// clientFlag as the first argument selects the engine client.
const clientFlag = "-engine-read"

// engineClient is the engine client's main: connect, resynchronise with the
// stopped target, read n bytes at addr in 64 KiB steps into out.
func engineClient(args []string) error {
	fs := flag.NewFlagSet("engine-read", flag.ContinueOnError)
	sock := fs.String("sock", "", "")
	addrS := fs.String("addr", "", "")
	n := fs.Int64("n", 0, "")
	out := fs.String("out", "", "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	addr, err := strconv.ParseUint(*addrS, 0, 64)
	if err != nil {
		return fmt.Errorf("bad -addr %q", *addrS)
	}
	conn, err := net.Dial("unix", *sock)
	if err != nil {
		return err
	}
	e := kdproto.NewEngine(conn, kdproto.Options{})
	defer e.Close()
	go func() {
		for range e.Events() {
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if _, err := e.Resync(ctx, kdproto.ResyncOptions{Interval: time.Second, Max: 20}); err != nil {
		return fmt.Errorf("resync: %w", err)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	const step = 64 << 10
	for done := int64(0); done < *n; {
		k := min(*n-done, step)
		b, err := e.ReadVirtual(ctx, 0, addr+uint64(done), int(k))
		if _, werr := w.Write(b); werr != nil {
			return werr
		}
		done += int64(len(b))
		if err != nil {
			return fmt.Errorf("read at %#x: %w", addr+uint64(done), err)
		}
	}
	// Stay connected until the target has had the last reply's ACK, as kd
	// does after .writemem: one more request cannot be served before it.
	if _, err := e.GetVersion(ctx); err != nil {
		return fmt.Errorf("after the transfer: %w", err)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
