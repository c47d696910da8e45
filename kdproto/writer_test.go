package kdproto

import "testing"

// The writer's claim: a sender writes its packets itself only when nothing
// is queued and nobody writes; while it does, the write loop takes nothing
// (it is woken when the claim ends), so packets never overtake each other.
func TestWriterClaim(t *testing.T) {
	ack := outItem{pkt: Packet{Header: ControlHeader(PacketTypeAcknowledge, 1)}}
	drain := func(w *writer) bool {
		select {
		case <-w.wake:
			return true
		default:
			return false
		}
	}
	tests := []struct {
		name string
		run  func(t *testing.T, w *writer)
	}{
		{"free link", func(t *testing.T, w *writer) {
			if !w.claim() {
				t.Fatal("claim refused on a free link")
			}
			if w.claim() {
				t.Fatal("a second claim was granted")
			}
			w.unclaim()
			if drain(w) {
				t.Fatal("the write loop was woken with nothing queued")
			}
		}},
		{"queued first", func(t *testing.T, w *writer) {
			w.queue(ack)
			if w.claim() {
				t.Fatal("claim granted with an ACK queued: the request would overtake it")
			}
			if got := w.take(false, nil); len(got) != 1 {
				t.Fatalf("take = %d items", len(got))
			}
			if w.claim() {
				t.Fatal("claim granted while the write loop writes")
			}
			w.unclaim()
			if !w.claim() {
				t.Fatal("claim refused after the write loop's turn")
			}
		}},
		{"queued while claimed", func(t *testing.T, w *writer) {
			if !w.claim() {
				t.Fatal("claim refused")
			}
			drain(w)
			w.queue(ack)
			if got := w.take(false, nil); len(got) != 0 {
				t.Fatalf("the write loop took %d items while a sender writes", len(got))
			}
			drain(w)
			w.unclaim()
			if !drain(w) {
				t.Fatal("the write loop was not woken for the ACK queued meanwhile")
			}
			if got := w.take(false, nil); len(got) != 1 {
				t.Fatalf("take = %d items after the claim", len(got))
			}
		}},
		{"stopped", func(t *testing.T, w *writer) {
			w.take(true, nil)
			if w.claim() {
				t.Fatal("claim granted after the writer stopped")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newWriter()) })
	}
}
