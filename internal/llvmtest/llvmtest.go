// Package llvmtest finds and runs the LLVM tools (llvm-readobj,
// llvm-pdbutil) that tests compare kd's PE, unwind and PDB readers with.
// A test without the tool is skipped, unless KD_REQUIRE_LLVM is set: CI
// sets it and installs LLVM, so that a missing tool fails there instead of
// skipping silently.
package llvmtest

import (
	"os"
	"os/exec"
	"testing"
)

// Tool returns the path of the first of names on PATH (a tool and its
// versioned spellings, e.g. "llvm-pdbutil", "llvm-pdbutil-16"). Without
// any it skips the test, or fails it when KD_REQUIRE_LLVM is set.
func Tool(t testing.TB, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("KD_REQUIRE_LLVM") != "" {
		t.Fatalf("%s is not installed and KD_REQUIRE_LLVM is set (apt-get install llvm)", names[0])
	}
	t.Skipf("%s is not installed (apt-get install llvm); set KD_REQUIRE_LLVM=1 to make this fail", names[0])
	return ""
}

// Readobj returns llvm-readobj's path (see Tool).
func Readobj(t testing.TB) string {
	return Tool(t, "llvm-readobj", "llvm-readobj-16", "llvm-readobj-15", "llvm-readobj-14")
}

// Pdbutil returns llvm-pdbutil's path (see Tool).
func Pdbutil(t testing.TB) string {
	return Tool(t, "llvm-pdbutil", "llvm-pdbutil-16", "llvm-pdbutil-15", "llvm-pdbutil-14")
}

// Run runs tool with args and returns its standard output; a failure
// fails the test with the tool's standard error.
func Run(t testing.TB, tool string, args ...string) string {
	t.Helper()
	out, err := exec.Command(tool, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %v: %v\n%s", tool, args, err, stderr)
	}
	return string(out)
}
