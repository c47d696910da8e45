package console

import "testing"

func TestKeyLine(t *testing.T) {
	tests := []struct {
		line string
		key  Key
		ok   bool
	}{
		{"\x12", KeyCtrlR, true},
		{"\x12\r", KeyCtrlR, true},
		{"\x02", KeyCtrlB, true},
		{"\x03", KeyCtrlC, true},
		{"\x06", KeyCtrlF, true},
		{"\x04", KeyCtrlD, true},
		{"\x0b", KeyCtrlK, true},
		{"\x16", KeyCtrlV, true},
		{"\x17", KeyCtrlW, true},
		{"\x01", KeyCtrlA, true},
		{"\x12\x12", 0, false},
		{"r", 0, false},
		{"\x05", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		k, ok := KeyLine(tt.line)
		if k != tt.key || ok != tt.ok {
			t.Errorf("KeyLine(%q) = %v, %v; want %v, %v", tt.line, k, ok, tt.key, tt.ok)
		}
	}
}
