package main

import (
	"math"
	"testing"
	"time"
)

func TestPacketArithmetic(t *testing.T) {
	tests := []struct {
		name string
		got  int
		want int
	}{
		{"request", requestBytes, 73},
		{"reply of 3944", replyBytes(3944), 4017},
		{"cycle of 3944", cycleBytes(3944), 4122},
		{"state change", stateChangeBytes, 261},
		{"window of one read", windowBytes([]int{3944}), 4122 - 73},
		{"window of two reads", windowBytes([]int{3944, 100}), 4122 + 278 - 73},
		{"no reads", windowBytes(nil), 0},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %d bytes; want %d", tt.name, tt.got, tt.want)
		}
	}
}

func TestChunks(t *testing.T) {
	tests := []struct {
		n    int64
		want []int
	}{
		{0, nil},
		{100, []int{100}},
		{3944, []int{3944}},
		{8000, []int{3944, 3944, 112}},
	}
	for _, tt := range tests {
		got := chunks(tt.n)
		if len(got) != len(tt.want) {
			t.Errorf("chunks(%d) = %v; want %v", tt.n, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("chunks(%d) = %v; want %v", tt.n, got, tt.want)
			}
		}
	}
}

func TestStopAndWaitLimit(t *testing.T) {
	// Issue 9: about 11,000 B/s for 3944-byte reads at 115200 baud.
	tests := []struct {
		sizes []int
		baud  int
		want  float64
	}{
		{[]int{3944, 3944}, 115200, 3944 * 2 / (float64(2*4122-73) * 10 / 115200)},
		{[]int{3944}, 57600, 3944 / (float64(4122-73) * 10 / 57600)},
	}
	for _, tt := range tests {
		if got := stopAndWaitLimit(tt.sizes, tt.baud); math.Abs(got-tt.want) > 0.01 {
			t.Errorf("limit(%v, %d) = %.2f; want %.2f", tt.sizes, tt.baud, got, tt.want)
		}
	}
	if d := lineTime(1152, 115200); d != 100*time.Millisecond {
		t.Errorf("1152 characters at 115200 take %v; want 100ms", d)
	}
}
