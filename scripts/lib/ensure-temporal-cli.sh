#!/usr/bin/env bash
# Ensure the Temporal CLI (used for `temporal server start-dev`) is at
# $BERTH_CACHE_DIR/bin/temporal, building it from source with Go when missing.
# Exports BERTH_TEMPORAL_CLI.
#
# Knobs: BERTH_TEMPORAL_CLI_VERSION (default v1.5.1).
#
# Runnable on its own or sourced (defines ensure_temporal_cli).
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BERTH_TEMPORAL_CLI_VERSION="${BERTH_TEMPORAL_CLI_VERSION:-v1.5.1}"

ensure_temporal_cli() {
  local bin_dir="$BERTH_CACHE_DIR/bin"
  local cli="$bin_dir/temporal"
  step_start "temporal CLI"

  local version="" built=""
  # The version a cached binary was built from (go embeds its module version); a binary of
  # another version than the pin is rebuilt. Without Go, whatever is there is used.
  if [[ -x "$cli" ]] && command -v go >/dev/null 2>&1; then
    built="$(go version -m "$cli" 2>/dev/null | awk '$1 == "mod" { print $3; exit }')"
  fi
  if [[ -x "$cli" ]] && [[ -z "$built" || "$built" == "$BERTH_TEMPORAL_CLI_VERSION" ]] && version="$("$cli" --version 2>/dev/null)"; then
    step_skip "already present${built:+ ($built)}"
  else
    command -v go >/dev/null 2>&1 ||
      berth_die "Go is needed to build the Temporal CLI but 'go' is not on PATH (nor at /usr/local/go/bin/go). Install Go >= 1.23, or put a temporal binary at $cli"
    mkdir -p "$bin_dir"
    local tmp
    tmp="$(mktemp -d)"
    step_progress "building github.com/temporalio/cli/cmd/temporal@$BERTH_TEMPORAL_CLI_VERSION with $(go version | awk '{print $3}') (takes a few minutes)"
    # Run from an empty temp dir so no surrounding go.mod interferes.
    if ! (cd "$tmp" && run_logged temporal-cli-build env GOBIN="$bin_dir" CGO_ENABLED=0 GOFLAGS=-mod=mod \
      go install "github.com/temporalio/cli/cmd/temporal@$BERTH_TEMPORAL_CLI_VERSION"); then
      rm -rf "$tmp"
      berth_die "building the Temporal CLI failed; see $BERTH_LOG_DIR/temporal-cli-build.log"
    fi
    rm -rf "$tmp"
    version="$("$cli" --version 2>/dev/null)" || berth_die "built $cli but '$cli --version' fails"
    step_done
  fi

  BERTH_TEMPORAL_CLI="$cli"
  export BERTH_TEMPORAL_CLI
  berth_log "temporal CLI: $BERTH_TEMPORAL_CLI (${version%%$'\n'*})"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  ensure_temporal_cli
fi
