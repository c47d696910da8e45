package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/gokd/kd/kdproto"
)

// The round-trip floor: what two Go processes alone spend to pass one
// read's bytes back and forth over a Unix socket, stop and wait, with no
// protocol at all. A 3944-byte read moves a 73-byte request and the ACK of
// the previous reply (16) one way, and the target's ACK (16) and its
// 4017-byte reply the other way.
const (
	floorFlag  = "-floor-echo"
	floorOut   = 73 + 16
	floorBack  = 16 + 73 + kdproto.MaxTransfer
	floorTrips = 20000
)

// floorResult is a run of bare round trips.
type floorResult struct {
	trips        int
	wall         time.Duration
	here, there  time.Duration // CPU of this process and of the echo process
	cpuAvailable bool
}

// rate is the payload rate the round trips would carry: 3944 bytes each.
func (f floorResult) rate() float64 {
	return float64(f.trips) * kdproto.MaxTransfer / f.wall.Seconds()
}

// floor runs the echo process and makes floorTrips round trips with it.
func (e env) floor() (floorResult, error) {
	var res floorResult
	sock := filepath.Join(e.dir, "floor.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return res, err
	}
	defer ln.Close()
	cmd := exec.Command(e.self, floorFlag, sock)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return res, err
	}
	conn, err := ln.Accept()
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return res, err
	}
	out, back := make([]byte, floorOut), make([]byte, floorBack)
	c0, ok0 := selfCPU()
	t0 := time.Now()
	for res.trips < floorTrips {
		if _, err = conn.Write(out); err != nil {
			break
		}
		if _, err = io.ReadFull(conn, back); err != nil {
			break
		}
		res.trips++
	}
	res.wall = time.Since(t0)
	c1, ok1 := selfCPU()
	conn.Close()
	if werr := cmd.Wait(); err == nil && werr != nil {
		err = fmt.Errorf("echo process: %w", werr)
	}
	if err != nil {
		return res, err
	}
	res.here = c1 - c0
	res.there = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	res.cpuAvailable = ok0 && ok1
	return res, nil
}

// floorEcho is the echo process: it answers every floorOut bytes with
// floorBack bytes until the connection ends.
func floorEcho(sock string) error {
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return err
	}
	defer conn.Close()
	in, back := make([]byte, floorOut), make([]byte, floorBack)
	for {
		if _, err := io.ReadFull(conn, in); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if _, err := conn.Write(back); err != nil {
			return err
		}
	}
}
