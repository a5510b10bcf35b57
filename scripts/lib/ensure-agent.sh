#!/usr/bin/env bash
# Ensure berth's in-sandbox agent (agent/, Go, stdlib only) is built at
# $BERTH_CACHE_DIR/bin/berth-agent: a static binary, rebuilt when the source changes (the
# binary's name carries no version; a stamp file beside it holds the source's hash).
# Exports BERTH_AGENT_BINARY (empty when Go is missing and nothing is cached: sandboxes
# then run without an agent and berth uses docker exec).
#
# Runnable on its own or sourced (defines ensure_agent).
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_agent() {
  local bin_dir="$BERTH_CACHE_DIR/bin"
  local bin="$bin_dir/berth-agent" src="$BERTH_ROOT/agent"
  step_start "berth-agent (in-sandbox agent)"
  local hash
  hash="$(cd "$src" && cat go.mod ./*.go | sha256sum | cut -c1-16)"
  if [[ -x "$bin" && "$(cat "$bin.src" 2>/dev/null)" == "$hash" ]]; then
    step_skip "already built ($hash)"
  elif ! command -v go >/dev/null 2>&1; then
    berth_warn "Go not found: berth-agent not built; sandboxes run commands through docker exec"
    [[ -x "$bin" ]] || bin=""
    step_skip "no Go"
  else
    mkdir -p "$bin_dir"
    local tmp="$bin.tmp.$$"
    (cd "$src" && run_logged berth-agent-build env CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags='-s -w' -o "$tmp" .) ||
      berth_die "building berth-agent failed; see $BERTH_LOG_DIR/berth-agent-build.log"
    mv -f "$tmp" "$bin"
    printf '%s\n' "$hash" >"$bin.src"
    step_done
  fi
  BERTH_AGENT_BINARY="$bin"
  export BERTH_AGENT_BINARY
  berth_log "berth-agent: ${BERTH_AGENT_BINARY:-none}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  ensure_agent
fi
