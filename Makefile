# kd: a KD-style console kernel debugger client.
GO        ?= go
PKGS      := ./...
FUZZTIME  ?= 30s
BIN       := bin

.DEFAULT_GOAL := build

.PHONY: build run test unit unit-386 vet fmt-check deps lint cross smoke vm-smoke fuzz bench ci faults soak

build:
	$(GO) build -o $(BIN)/ ./cmd/...

# The console on the embedded simulator.
run: build
	./$(BIN)/kd -k sim

# Every test: formatting, vet, unit tests with the race detector, cross builds
# and the end-to-end smoke test of kd against kdsim over a Unix socket.
test: fmt-check vet deps unit unit-386 cross smoke

unit:
	$(GO) test -race -count=1 $(PKGS)

# Target data is decoded into int on 32-bit hosts too: run the parsers there.
unit-386:
	GOARCH=386 $(GO) test -count=1 ./kdproto/... ./internal/... ./transport/...

# Imports point one way: cmd -> internal -> kdproto -> transport. The
# debugger (console, commands, render, target) never links the simulator
# or the pty library; kdproto never imports internal; transport never
# imports kdproto.
deps:
	@./scripts/check-deps.sh

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# staticcheck, pinned; not part of test so that CI does not depend on it.
lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.6.1 $(PKGS)

cross:
	GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null $(PKGS)
	GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null $(PKGS)

smoke: build
	./scripts/smoke.sh

# kd against kdsim inside a QEMU virtual machine (Debian's kernel, an
# initramfs of our own): Unix socket and TCP serial back ends, a real guest
# reboot, kd started before the VM, QEMU killed and restarted. Needs
# qemu-system-x86_64 and apt (for the kernel package) or KD_VM_KERNEL;
# KD_VM_ACCEL=tcg forces TCG. See scripts/vm-smoke.sh and docs/ci.md.
vm-smoke:
	./scripts/vm-smoke.sh

# Run every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

# The seeded fault matrix of docs/reliability.md: kd against kdsim over
# noise, drop, dup and garbage; rewrites the table there.
FAULT_SEEDS ?= 20
faults:
	$(GO) test -count=1 -timeout 60m -run '^TestFaultMatrix$$' ./internal/faults -args -matrix -seeds $(FAULT_SEEDS) -write $(CURDIR)/docs/reliability.md

# kdsim --evil with every fault at once for SOAK, sampling RSS and goroutines.
SOAK ?= 10m
soak:
	$(GO) test -count=1 -timeout 0 -v -run '^TestSoak$$' ./internal/faults -args -soak $(SOAK)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# kd end to end against the simulator, each figure next to its limit or
# goal (issue 9); about two minutes. See docs/performance.md.
bench-e2e: build
	$(GO) build -o $(BIN)/bench-e2e ./scripts/bench-e2e
	./$(BIN)/bench-e2e -bin $(BIN) $(BENCHFLAGS)

ci: test
