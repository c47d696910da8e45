package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"
)

// packCommand is "kdsim-init pack".
func packCommand(args []string, stdout, stderr io.Writer) int {
	var kdsim, out string
	fs := pflag.NewFlagSet("pack", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&kdsim, "kdsim", "", "")
	fs.StringVarP(&out, "output", "o", "", "")
	if err := fs.Parse(args); err != nil {
		return usageError(stderr, err.Error())
	}
	switch {
	case fs.NArg() > 0:
		return usageError(stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	case kdsim == "" || out == "":
		return usageError(stderr, "pack needs --kdsim PATH and -o FILE")
	}
	self, err := os.Executable()
	if err == nil {
		err = pack(out, self, kdsim)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kdsim-init: error: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "kdsim-init: wrote %s\n", out)
	return 0
}

// pack writes the guest's initramfs to out: init as /init, kdsim as
// /bin/kdsim. The file is written whole or not at all.
func pack(out, init, kdsim string) (err error) {
	initBin, err := os.ReadFile(init)
	if err != nil {
		return err
	}
	kdsimBin, err := os.ReadFile(kdsim)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dirOf(out), ".initramfs-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := newCpioWriter(tmp)
	for _, e := range []cpioEntry{
		{Name: "bin", Mode: modeDir | 0o755},
		{Name: "dev", Mode: modeDir | 0o755},
		// The kernel opens /dev/console for init's stdin, stdout and stderr
		// before anything is mounted, so the node must be in the archive.
		{Name: "dev/console", Mode: modeChar | 0o600, RdevMajor: 5, RdevMinor: 1},
		{Name: "proc", Mode: modeDir | 0o555},
		{Name: "sys", Mode: modeDir | 0o555},
		{Name: "init", Mode: modeFile | 0o755, Data: initBin},
		{Name: "bin/kdsim", Mode: modeFile | 0o755, Data: kdsimBin},
	} {
		if err := w.add(e); err != nil {
			return err
		}
	}
	if err := w.close(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

func dirOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if os.IsPathSeparator(path[i]) {
			return path[:i+1]
		}
	}
	return "."
}

// errCpioName means an entry name the newc format cannot carry.
var errCpioName = errors.New("bad cpio entry name")
