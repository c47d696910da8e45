module github.com/gokd/kd

go 1.26.0

require (
	github.com/Microsoft/go-winio v0.6.4
	github.com/chzyer/readline v1.5.1
	github.com/creack/pty v1.1.24
	github.com/google/gopacket v1.1.19
	github.com/schollz/progressbar/v3 v3.19.1
	github.com/spf13/pflag v1.1.0
	go.bug.st/serial v1.8.0
	golang.org/x/arch v0.33.0
	golang.org/x/sys v0.50.0
)

require (
	github.com/mitchellh/colorstring v0.0.0-20190213212951-d06e56a500db // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
	golang.org/x/net v0.63.0 // indirect
	golang.org/x/term v0.48.0 // indirect
)
