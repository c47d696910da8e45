package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var le = binary.LittleEndian

func TestHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Usage: kdsim", "--listen ADDR", "--desync-after N", "kd -k com:pipe,port=/tmp/kd.sock"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--bogus"},
		{"--listen", "unix:/tmp/x", "--pty"},
		{"--listen", "tcp:0.0.0.0:9000"},
		{"--listen", "unix:/tmp/x", "--noise", "2"},
		{"--listen", "unix:/tmp/x", "--procs", "0"},
		{"--listen", "unix:/tmp/x", "extra"},
		{"--kdnet", "127.0.0.1:50000"},
		{"--key", "1.2.3.4", "--listen", "unix:/tmp/x"},
		{"--kdnet", "[::1]:50000", "--key", "1.2.3.4"},
		{"--kdnet", "127.0.0.1:50000", "--key", "1.2.3"},
		{"--kdnet", "127.0.0.1:50000", "--key", "1.2.3.4", "--kdnet-version", "3"},
		{"--kdnet", "127.0.0.1:50000", "--key", "1.2.3.4", "--listen", "unix:/tmp/x"},
		{"--device", "/dev/ttyS0", "--pty"},
		{"--device", "/dev/ttyS0", "--baud", "12345"},
		{"--pty", "--exit-on-reboot"},
		{"--pty", "--settle", "1s"},
		{"--device", "/dev/ttyS0", "--settle", "-1s"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 || !strings.HasPrefix(errb.String(), "kdsim: error: ") {
			t.Errorf("run %q = %d, stderr %q; want 2 and an error", args, code, errb.String())
		}
		if strings.Contains(errb.String(), "1.2.3") {
			t.Errorf("run %q: the key appears in %q", args, errb.String())
		}
	}
}

// TestListenUnix runs kdsim on a Unix socket and talks to it with raw bytes:
// the boot state change, its ACK, a GetVersion exchange.
func TestListenUnix(t *testing.T) {
	dir := t.TempDir()
	sock, events := filepath.Join(dir, "kd.sock"), filepath.Join(dir, "events.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "unix:" + sock, "--stopped", "--events", events}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || line != "kdsim: listening on unix:"+sock+"\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	go io.Copy(io.Discard, pr)

	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	read := func(n int) []byte {
		t.Helper()
		b := make([]byte, n)
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatalf("read %d bytes: %v", n, err)
		}
		return b
	}
	sc := read(16 + 0xF4 + 1)
	if string(sc[:4]) != "0000" || le.Uint16(sc[4:]) != 7 || le.Uint32(sc[8:]) != 0x80800800 || sc[len(sc)-1] != 0xAA {
		t.Fatalf("state change header % x", sc[:16])
	}
	ack := []byte("iiii\x04\x00\x00\x00\x00\x00\x80\x80\x00\x00\x00\x00")
	c.Write(ack)
	// GetVersion, id 0x80800000: checksum 0x46+0x31 (spec §9.4).
	req := append([]byte("0000\x02\x00\x38\x00\x00\x00\x80\x80\x77\x00\x00\x00\x46\x31"), make([]byte, 0x36)...)
	c.Write(append(req, 0xAA))
	if got := read(16); !bytes.Equal(got, ack) {
		t.Fatalf("ACK % x", got)
	}
	rep := read(16 + 0x38 + 1)
	if le.Uint32(rep[8:]) != 0x80800001 || le.Uint16(rep[16+0x18:]) != 0x8664 || le.Uint16(rep[16+0x12:]) != 19041 {
		t.Fatalf("reply % x", rep)
	}
	c.Write([]byte("iiii\x04\x00\x00\x00\x01\x00\x80\x80\x00\x00\x00\x00"))
	c.Close()

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after cancel", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("kdsim did not stop")
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
	ev, _ := os.ReadFile(events)
	if !bytes.Contains(ev, []byte(`"kind":"api","api":"GetVersion"`)) {
		t.Errorf("events lack the GetVersion request:\n%s", ev)
	}
}
