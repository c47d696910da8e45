package kdnet

import "testing"

// BenchmarkSealOpen measures one data datagram of a 1288-byte KD packet
// (the largest seen in a Windows capture) sealed and opened.
func BenchmarkSealOpen(b *testing.B) {
	p := newPair(b)
	p.connect(b, 10, t0)
	c := p.h.cur.data
	body := make([]byte, 1288)
	var out, plain []byte
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		out, err = c.Seal(out[:0], Datagram{Version: 4, Counter: 7, Body: body})
		if err != nil {
			b.Fatal(err)
		}
		if _, plain, err = c.Open(out, plain); err != nil {
			b.Fatal(err)
		}
	}
}
