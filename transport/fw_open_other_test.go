//go:build !(linux && (amd64 || arm64 || riscv64 || loong64 || s390x || 386))

package transport

import (
	"context"
	"errors"
	"testing"
)

func TestOpen1394Unsupported(t *testing.T) {
	_, err := Open(context.Background(), Spec{Kind: Kind1394, Channel: 20}, Options{})
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Open(1394) = %v; want errors.ErrUnsupported", err)
	}
}
