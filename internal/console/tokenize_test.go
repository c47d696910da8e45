package console

import (
	"reflect"
	"testing"
)

func TestTokenize(t *testing.T) {
	names := defaultCommands().names
	tests := []struct {
		line       string
		name, args string
		ok         bool
	}{
		{"db@rsp", "db", "@rsp", true},
		{"db @rsp", "db", "@rsp", true},
		{"dd rsp L4", "dd", "rsp L4", true},
		{"DQ rsp", "dq", "rsp", true},
		{"d", "d", "", true},
		{"r rax", "r", "rax", true},
		{"r @rax=1", "r", "@rax=1", true},
		{"r", "r", "", true},
		{"~1s", "~s", "1", true},
		{"~ 2s", "~s", "2", true},
		{".reboot", ".reboot", "", true},
		{".restart", ".restart", "", true},
		{".logopen c:\\x.log", ".logopen", "c:\\x.log", true},
		{"  vertarget  ", "vertarget", "", true},
		{"help db", "help", "db", true},
		{".help", ".help", "", true},
		{"? 1+2", "?", "1+2", true},
		{"?", "?", "", true},
		{"helpme", "helpme", "", false},
		{"vertargets", "vertargets", "", false},
		{"bp nt!KiIdleLoop", "bp", "nt!KiIdleLoop", true},
		{"bl", "bl", "", true},
		{"bc *", "bc", "*", true},
		{"u", "u", "", true},
		{"q", "q", "", true},
		{"g", "g", "", true},
		{"!process 0 0", "!process", "0 0", false},
	}
	for _, tt := range tests {
		name, args, ok := tokenize(tt.line, names)
		if name != tt.name || args != tt.args || ok != tt.ok {
			t.Errorf("tokenize(%q) = %q, %q, %v; want %q, %q, %v", tt.line, name, args, ok, tt.name, tt.args, tt.ok)
		}
	}
}

func TestSplitCommands(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"r; g", []string{"r", "g"}},
		{" r ;; db rsp ; ", []string{"r", "db rsp"}},
		{`.echo "a;b"; q`, []string{`.echo "a;b"`, "q"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := splitCommands(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitCommands(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

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
