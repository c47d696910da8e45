package sim

import (
	"context"
	"io"
	"net"
	"runtime"
	"testing"
	"testing/synctest"
	"time"
)

// FuzzTarget feeds arbitrary host bytes to the target state machine. The
// first byte picks the machine: bit 0 boots it stopped, bit 1 makes it
// evil, bit 2 adds periodic DbgPrints. The target must never panic, and
// its heap must stay bounded whatever the host sends.
func FuzzTarget(f *testing.F) {
	ack := controlPkt(tAck, idInitial)
	getVersion := frame(dataLeader, tData, idInitial, manip(apiGetVersion, 0, nil, nil))
	read := frame(dataLeader, tData, idInitial|1, manip(apiReadVirtual, 0, union(uint64(0xFFFFF80000000000), uint32(0xFFFFFFFF)), nil))
	step := frame(dataLeader, tData, idInitial, manip(apiContinue2, 0, union(uint32(0x10002), uint32(1)), nil))
	fill := frame(dataLeader, tData, idInitial, manip(apiFillMemory, 0, union(uint64(0), uint32(0xFFFFFFFF), uint16(2), uint16(1)), []byte{0}))
	search := frame(dataLeader, tData, idInitial, manip(apiSearchMemory, 0, union(uint64(0), ^uint64(0), uint32(2)), []byte("MZ")))
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	f.Add(cat([]byte{1}, ack, getVersion, controlPkt(tAck, idInitial|1), read))
	f.Add(cat([]byte{0, 0x62}, controlPkt(tReset, 0), ack, step))
	f.Add(cat([]byte{3}, ack, fill, ack, search))
	f.Add(cat([]byte{5}, controlPkt(tResend, 0), []byte("000000iiii\xff\xff"), getVersion[:30]))
	f.Add([]byte{4, 0x62, 0x62, 0x30, 0x30, 0x30, 0x30, 0x02, 0x00, 0xA0, 0x0F})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		cfg := Config{Stopped: data[0]&1 != 0, Evil: data[0]&2 != 0, Seed: int64(data[0])}
		if data[0]&4 != 0 {
			cfg.PrintEvery = 30 * time.Millisecond
		}
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		synctest.Test(t, func(t *testing.T) {
			m := New(cfg)
			a, b := net.Pipe()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- m.Serve(ctx, a) }()
			go io.Copy(io.Discard, b)
			for rest := data[1:]; len(rest) > 0; {
				n := min(len(rest), 1+int(rest[0])%64)
				if _, err := b.Write(rest[:n]); err != nil {
					break
				}
				rest = rest[n:]
			}
			<-done
			b.Close()
		})
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if after.HeapAlloc > before.HeapAlloc+64<<20 {
			t.Fatalf("heap grew by %d MiB", (after.HeapAlloc-before.HeapAlloc)>>20)
		}
	})
}
