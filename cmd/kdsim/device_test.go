//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestDeviceExitOnReboot serves a pseudo-terminal as if it were /dev/ttyS0
// and reboots the target: under --exit-on-reboot kdsim exits with status 4
// once the ACK of the Reboot request is on the wire.
func TestDeviceExitOnReboot(t *testing.T) {
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	defer tty.Close()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"--device", tty.Name(), "--exit-on-reboot", "--byte-timeout", "1m"}, pw, io.Discard)
		pw.Close()
	}()
	// A long byte timeout: no state change is sent again while the test is
	// slow to ACK it. Nothing may be sent before the line is raw: the
	// terminal would echo it.
	stdout := bufio.NewReader(pr)
	if line, err := stdout.ReadString('\n'); line != "kdsim: serial port "+tty.Name()+" at 115200 baud\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	rest := make(chan string, 1)
	go func() { b, _ := io.ReadAll(stdout); rest <- string(b) }()
	read := func(n int) []byte {
		t.Helper()
		b := make([]byte, n)
		if _, err := io.ReadFull(master, b); err != nil {
			t.Fatalf("read %d bytes: %v", n, err)
		}
		return b
	}
	master.Write([]byte{0x62})
	sc := read(16 + 0xF4 + 1)
	if le.Uint32(sc[8:]) != 0x80800800 {
		t.Fatalf("state change header % x", sc[:16])
	}
	master.Write([]byte("iiii\x04\x00\x00\x00\x00\x00\x80\x80\x00\x00\x00\x00"))
	// Reboot (0x313B), id 0x80800000: checksum 0x3B+0x31.
	req := append([]byte("0000\x02\x00\x38\x00\x00\x00\x80\x80\x6c\x00\x00\x00\x3b\x31"), make([]byte, 0x36)...)
	master.Write(append(req, 0xAA))
	if got, want := read(16), []byte("iiii\x04\x00\x00\x00\x00\x00\x80\x80\x00\x00\x00\x00"); !bytes.Equal(got, want) {
		t.Fatalf("ACK % x", got)
	}
	select {
	case code := <-done:
		if code != exitRebooted {
			t.Errorf("exit %d; want %d", code, exitRebooted)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("kdsim did not exit after the reboot")
	}
	if out := <-rest; out != "kdsim: the host rebooted the target\n" {
		t.Errorf("stdout after the first line %q", out)
	}
}
