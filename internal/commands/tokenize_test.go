package commands

import (
	"reflect"
	"testing"
)

func TestTokenize(t *testing.T) {
	names := Default().names
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
		{"!vad 0 1", "!vad", "0 1", false},
		{"n", "n", "", true},
		{"n 10", "n", "10", true},
		{"n10", "n", "10", true},
		{"nosuch", "nosuch", "", false},
		{".formats 1c407e62", ".formats", "1c407e62", true},
		{"?? 1", "??", "1", true},
		{"??", "??", "", true},
		{".if (1) { r }", ".if", "(1) { r }", true},
		{"$$ comment", "$$", "comment", true},
		{"$$comment", "$$", "comment", true},
		{"* comment; r", "*", "comment; r", true},
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
		{"$$ a comment", []string{"$$ a comment"}},
		{"$$ a comment; r", []string{"$$ a comment", "r"}},
		{`r; $$ it"s a comment; db rsp`, []string{"r", `$$ it"s a comment`, "db rsp"}},
		{"r;$$x;g", []string{"r", "$$x", "g"}},
		{"$$<script.txt; r", []string{"$$<script.txt", "r"}},
		{"$$>a<script.txt 1", []string{"$$>a<script.txt 1"}},
		{"r; * the rest; is a comment", []string{"r", "* the rest; is a comment"}},
		{"* all of it", []string{"* all of it"}},
		{"r rax*2", []string{"r rax*2"}},
		{".if (1) { r; g }; db", []string{".if (1) { r; g }", "db"}},
		{`.echo "{"; r`, []string{`.echo "{"`, "r"}},
		{"}; r", []string{"}", "r"}},
		{"{{{{", []string{"{{{{"}},
	}
	for _, tt := range tests {
		if got := Split(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Split(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
