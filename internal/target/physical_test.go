package target

import "testing"

// TestSelfMapAddr checks the entry addresses against public !pte samples:
// the classic self-map index 0x1ED and a randomised one (0x1DA).
func TestSelfMapAddr(t *testing.T) {
	for _, tc := range []struct {
		self, va uint64
		want     [4]uint64
	}{
		{0x1ED, 0xfffff80002f6a000, [4]uint64{0xFFFFF6FB7DBEDF80, 0xFFFFF6FB7DBF0000, 0xFFFFF6FB7E0000B8, 0xFFFFF6FC00017B50}},
		{0x1DA, 0x000001fe151d0000, [4]uint64{0xFFFFED76BB5DA018, 0xFFFFED76BB403FC0, 0xFFFFED76807F8540, 0xFFFFED00FF0A8E80}},
		{0x1ED, 0x00000000ffd53acc, [4]uint64{0xFFFFF6FB7DBED000, 0xFFFFF6FB7DA00018, 0xFFFFF6FB40003FF0, 0xFFFFF680007FEA98}},
	} {
		for l := 0; l < 4; l++ {
			if got := SelfMapAddr(tc.self, l, tc.va); got != tc.want[l] {
				t.Errorf("SelfMapAddr(%#x, %s, %#x) = %#x, want %#x", tc.self, PageLevel[l], tc.va, got, tc.want[l])
			}
		}
	}
	// !pte PTE: the address of a PTE names the page it maps.
	if va, ok := SelfMapTarget(0x1ED, 0xFFFFF6FC00017B50); !ok || va != 0xfffff80002f6a000 {
		t.Errorf("SelfMapTarget = %#x %v", va, ok)
	}
	if _, ok := SelfMapTarget(0x1ED, 0xfffff80002f6a000); ok {
		t.Error("SelfMapTarget accepted an address outside the page tables")
	}
	for _, tc := range []struct {
		va uint64
		ok bool
	}{{0, true}, {0x00007fffffffffff, true}, {0x0000800000000000, false}, {0xffff800000000000, true}, {0xfffe800000000000, false}} {
		if Canonical(tc.va) != tc.ok {
			t.Errorf("Canonical(%#x) = %v", tc.va, !tc.ok)
		}
	}
}
