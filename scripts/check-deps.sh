#!/usr/bin/env bash
# Checks that imports point one way: cmd -> internal -> kdproto -> transport.
set -euo pipefail
cd "$(dirname "$0")/.."
mod=github.com/gokd/kd
fail=0
check() { # check PKG FORBIDDEN_REGEX WHY
  local bad
  bad=$(go list -deps "$1" | grep -E "$2" || true)
  if [ -n "$bad" ]; then
    echo "deps: $1 must not import $(echo "$bad" | tr '\n' ' '): $3" >&2
    fail=1
  fi
}
for p in ./internal/console ./internal/commands ./internal/render ./internal/target; do
  check "$p" "^$mod/internal/sim(/|$)|^github.com/creack/pty$" "the debugger does not link the simulator"
done
check ./internal/target "^$mod/internal/(console|commands|render)$" "the core prints nothing and knows no commands"
check ./internal/commands "^$mod/internal/(console|render)$" "commands return results; rendering is render's job"
check ./internal/render "^$mod/internal/console$" "renderers do not know the console"
check ./kdproto/... "^$mod/(internal|cmd)/" "kdproto sits below internal"
check ./transport/... "^$mod/(internal|cmd|kdproto)(/|$)" "transport knows nothing about KD"
check ./cmd/kd "^github.com/creack/pty$" "the kd binary does not link a pty library"
[ "$fail" = 0 ] && echo "deps: imports point one way (cmd -> internal -> kdproto -> transport)"
exit "$fail"
