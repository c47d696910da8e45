package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gokd/kd/internal/target"
)

// Progress reports a long transfer's progress; the console shows a bar on
// a terminal and nothing in scripts or --json.
type Progress interface {
	Add(n int)
	Done()
}

var fileCommands = []*Command{
	{
		Names: []string{".writemem"}, Group: groupData,
		Example: ".writemem pool.bin ffffd000`00000000 L?4000000",
		Help: "Write target memory to a file.\n\n\t.writemem FileName Range\n\n" +
			"Range is Address L Count (bytes; L? for more than 256 MiB) or Address EndAddress. The memory is copied " +
			"as it is, in bounded chunks, with a progress bar on a terminal when it takes more than a second. CTRL+C " +
			"stops it; the file keeps what was read. An unreadable page ends it with `Unable to read memory at ...`.",
		Run: cmdWriteMem,
	},
	{
		Names: []string{".readmem"}, Group: groupData,
		Example: ".readmem C:\\dumps\\pool.bin ffffd000`00000000 L1000",
		Help: "Read a file into target memory.\n\n\t.readmem FileName Range\n\n" +
			"Writes the file's bytes at the range's address, at most the range's length (a shorter file writes " +
			"less). CTRL+C stops it and says how much was written.",
		Run: cmdReadMem,
	},
}

// splitFileArg splits "FILE REST" where FILE may be quoted.
func splitFileArg(args string) (file, rest string) {
	args = strings.TrimSpace(args)
	if strings.HasPrefix(args, `"`) {
		if i := strings.IndexByte(args[1:], '"'); i >= 0 {
			return args[1 : i+1], strings.TrimSpace(args[i+2:])
		}
	}
	file, rest, _ = strings.Cut(args, " ")
	return file, strings.TrimSpace(rest)
}

// fileRange parses a .writemem/.readmem range: an address and a length.
func (e *Env) fileRange(ctx context.Context, name, args string) (file string, addr, n uint64, err error) {
	line := strings.TrimSpace(name + " " + args)
	file, rest := splitFileArg(args)
	if file == "" || rest == "" {
		return "", 0, 0, syntaxErr(line, "a file name and a range are expected: %s FileName Address L Count", name)
	}
	r, err := parseRange(rest, exprTarget{ctx, e})
	if err != nil {
		return "", 0, 0, syntaxErr(line, "%v", err)
	}
	if !r.haveAddr || r.count == 0 && !r.haveEnd {
		return "", 0, 0, syntaxErr(line, "a range is expected: Address L Count or Address EndAddress")
	}
	n, err = r.length(1, r.addr)
	if err != nil {
		return "", 0, 0, syntaxErr(line, "%v", err)
	}
	return file, r.addr, n, nil
}

func cmdWriteMem(ctx context.Context, e *Env, args string) (Result, error) {
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	file, addr, n, err := e.fileRange(ctx, ".writemem", args)
	if err != nil {
		return nil, err
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, &Error{Msg: ".writemem: cannot create " + file + ": " + pathErr(err), Hints: []string{"check the path and that the directory is writable"}}
	}
	res := FileTransfer{Op: ".writemem", File: file, Addr: addr, Total: n}
	start := time.Now()
	p := e.Host.Progress(int64(n), "writemem")
	err = e.T.ReadStream(ctx, addr, n, func(b []byte) error {
		if _, werr := f.Write(b); werr != nil {
			return &Error{Msg: ".writemem: writing " + file + ": " + werr.Error()}
		}
		res.Bytes += uint64(len(b))
		p.Add(len(b))
		return nil
	})
	p.Done()
	res.Elapsed = time.Since(start)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = &Error{Msg: ".writemem: closing " + file + ": " + cerr.Error()}
	}
	return res, transferError(res, err)
}

func cmdReadMem(ctx context.Context, e *Env, args string) (Result, error) {
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	file, addr, n, err := e.fileRange(ctx, ".readmem", args)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, &Error{Msg: ".readmem: cannot open " + file + ": " + pathErr(err)}
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && uint64(st.Size()) < n {
		n = uint64(st.Size())
	}
	res := FileTransfer{Op: ".readmem", File: file, Addr: addr, Total: n}
	start := time.Now()
	p := e.Host.Progress(int64(n), "readmem")
	buf := make([]byte, target.StreamChunk)
	left := n
	res.Bytes, err = e.T.WriteStream(ctx, addr, func() ([]byte, error) {
		if left == 0 {
			return nil, nil
		}
		k, rerr := io.ReadFull(f, buf[:min(uint64(len(buf)), left)])
		left -= uint64(k)
		p.Add(k)
		if errors.Is(rerr, io.ErrUnexpectedEOF) || errors.Is(rerr, io.EOF) {
			left, rerr = 0, nil
		}
		if rerr != nil {
			rerr = &Error{Msg: ".readmem: reading " + file + ": " + rerr.Error()}
		}
		return buf[:k], rerr
	})
	p.Done()
	res.Elapsed = time.Since(start)
	return res, transferError(res, err)
}

// transferError says how a transfer ended early, with what was moved.
func transferError(res FileTransfer, err error) error {
	var ue *target.UnreadableError
	var ae *target.AccessError
	moved := fmt.Sprintf("0x%x of 0x%x bytes", res.Bytes, res.Total)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return &Error{Msg: fmt.Sprintf("%s: interrupted after %s; %s", res.Op, moved, keeps(res))}
	case errors.As(err, &ue):
		return &Error{Msg: fmt.Sprintf("%s: %s; %s", res.Op, ue.Error(), keeps(res)),
			Hints: []string{"the range crosses memory the target cannot read; shorten it or start after the page"}}
	case errors.As(err, &ae):
		return &Error{Msg: fmt.Sprintf("%s: %s after %s", res.Op, ae.Error(), moved)}
	}
	return err
}

func keeps(res FileTransfer) string {
	if res.Op == ".writemem" {
		return fmt.Sprintf("%s keeps the 0x%x bytes read before", res.File, res.Bytes)
	}
	return fmt.Sprintf("0x%x bytes were written to the target", res.Bytes)
}

// pathErr is an *os.PathError's cause, the rest of the message naming
// the file already.
func pathErr(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
