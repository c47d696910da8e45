module github.com/gokd/kd

go 1.26.0

require (
	github.com/Microsoft/go-winio v0.6.4 // indirect
	github.com/chzyer/readline v1.5.1 // indirect
	github.com/creack/pty v1.1.24 // indirect
	github.com/spf13/pflag v1.1.0 // indirect
	go.bug.st/serial v1.8.0 // indirect
	golang.org/x/arch v0.33.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
