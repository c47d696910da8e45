module github.com/gokd/kd

go 1.26.0

require (
	github.com/Microsoft/go-winio v0.6.4
	github.com/chzyer/readline v1.5.1
	github.com/creack/pty v1.1.24
	github.com/spf13/pflag v1.1.0
	go.bug.st/serial v1.8.0
	golang.org/x/arch v0.33.0
	golang.org/x/sys v0.50.0
)
