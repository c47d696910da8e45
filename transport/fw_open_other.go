//go:build !(linux && (amd64 || arm64 || riscv64 || loong64 || s390x || 386))

package transport

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

// open1394 reports that this build has no 1394 host backend.
func open1394(context.Context, Spec, Options, *emitter) (Conn, error) {
	return nil, fmt.Errorf("transport: 1394 debugging needs Linux firewire-cdev (/dev/fw*) on a 64-bit or x86 host; not available on %s/%s: %w",
		runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)
}
