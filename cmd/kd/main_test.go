package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Binaries built once by TestMain.
var kdBin, kdsimBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kd-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kdBin = filepath.Join(dir, "kd")
	kdsimBin = filepath.Join(dir, "kdsim")
	for bin, pkg := range map[string]string{kdBin: ".", kdsimBin: "../kdsim"} {
		out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n%s", pkg, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestKDArgs(t *testing.T) {
	tests := []struct {
		in, want []string
	}{
		{[]string{"-logo", "a.log", "-k", "sim"}, []string{"--logo", "a.log", "-k", "sim"}},
		{[]string{"-loga", "a.log", "-cf", "x.txt", "-version"}, []string{"--loga", "a.log", "--cf", "x.txt", "--version"}},
		{[]string{"-?"}, []string{"--help"}},
		{[]string{"-b", "-k"}, []string{"-b", "--k-env"}},
		{[]string{"-k", "-b"}, []string{"--k-env", "-b"}},
		{[]string{"-k", "com:port=com1"}, []string{"-k", "com:port=com1"}},
		{[]string{"-bv", "-c", "r; g", "-k", "sim"}, []string{"-bv", "-c", "r; g", "-k", "sim"}},
		{[]string{"--", "-logo"}, []string{"--", "-logo"}},
	}
	for _, tt := range tests {
		if got := kdArgs(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("kdArgs(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// kd runs the kd binary with stdin and returns its output and status.
func kd(t *testing.T, stdin string, env []string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := exec.Command(kdBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running kd: %v", err)
	}
	return o.String(), e.String(), 0
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"-?"}, {"--help"}} {
		out, _, st := kd(t, "", nil, args...)
		if st != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(out, "Exit status:") || !strings.Contains(out, "Examples:") {
			t.Errorf("kd %v: status %d, output:\n%s", args, st, out)
		}
	}
	out, _, st := kd(t, "", nil, "-version")
	if st != 0 || !strings.HasPrefix(out, "kd version ") {
		t.Errorf("kd -version: status %d, output %q", st, out)
	}
}

func TestUsageErrors(t *testing.T) {
	clean := []string{"_NT_DEBUG_PORT=", "_NT_DEBUG_BUS=", "_NT_DEBUG_BAUD_RATE="}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "kd: error: no target: give -k CONNECT"},
		{[]string{"--bogus"}, "kd: error: unknown flag: --bogus"},
		{[]string{"-k", "com:port=com1,baud=1200"}, "kd: error: "},
		{[]string{"-k"}, "kd: error: "},
		{[]string{"-k", "sim", "extra"}, "kd: error: unexpected argument extra"},
	} {
		_, errOut, st := kd(t, "", clean, tt.args...)
		if st != 2 || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "kd: hint: run kd -h") {
			t.Errorf("kd %q: status %d, stderr:\n%s", tt.args, st, errOut)
		}
	}
}

func TestScriptedSim(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "kd.log")
	out, errOut, st := kd(t, "r rip\n\x12\r\nvertarget\n", nil, "-k", "sim", "-logo", log, "-c", ".echo hello")
	if st != 0 {
		t.Fatalf("status %d; stderr:\n%s\nstdout:\n%s", st, errOut, out)
	}
	for _, want := range []string{"Opened log file '" + log + "'", "kd> .echo hello\nhello\n", "kd> r rip\nrip=", "Resync complete (", "Kernel Version 19041"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(log)
	if err != nil || !strings.Contains(string(b), "kd> r rip\nrip=") {
		t.Errorf("log file (%v):\n%s", err, b)
	}
}

func TestCommandFailureStatus(t *testing.T) {
	_, errOut, st := kd(t, "db nosuchsymbol!x\nq\n", nil, "-k", "sim")
	if st != 1 {
		t.Errorf("status %d, want 1; stderr:\n%s", st, errOut)
	}
}
