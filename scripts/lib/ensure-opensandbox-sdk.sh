#!/usr/bin/env bash
# Ensure the OpenSandbox SDK's test venv: $BERTH_CACHE_DIR/opensandbox-venv with the real,
# unmodified `opensandbox` SDK from the package index (pinned) plus pytest and pytest-asyncio.
# test/api/opensandbox/sdk.test.ts drives berth's /v1 front door with it.
# Exports BERTH_OPENSANDBOX_PYTHON (the venv's python).
#
# Idempotent: a marker in the venv records the pins it was built for; a re-run with the
# same pins does nothing. Needs python3 (>= 3.10, the SDK's floor) with the venv module;
# packages come from the package index pip is configured with (no host is named here).
#
# Knobs: BERTH_PYTHON (interpreter to build the venv from, default python3).
#
# Runnable on its own or sourced (defines ensure_opensandbox_sdk).
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BERTH_OPENSANDBOX_PINS="opensandbox==1.1.1 pytest==8.4.2 pytest-asyncio==1.2.0"

ensure_opensandbox_sdk() {
  local venv="$BERTH_CACHE_DIR/opensandbox-venv"
  local py="$venv/bin/python" marker="$venv/.berth-opensandbox"
  step_start "OpenSandbox SDK venv"
  if [[ -x "$py" && -f "$marker" && "$(cat "$marker")" == "$BERTH_OPENSANDBOX_PINS" ]]; then
    step_skip "up to date"
  else
    make_venv "$venv" opensandbox-venv "the OpenSandbox SDK's tests"
    # shellcheck disable=SC2086
    if ! run_logged opensandbox-pip "$py" -m pip install --no-input --disable-pip-version-check $BERTH_OPENSANDBOX_PINS; then
      rm -rf "$venv"
      berth_die "installing $BERTH_OPENSANDBOX_PINS failed; see $BERTH_LOG_DIR/opensandbox-pip.log"
    fi
    printf '%s' "$BERTH_OPENSANDBOX_PINS" >"$marker"
    step_done
  fi
  BERTH_OPENSANDBOX_PYTHON="$py"
  export BERTH_OPENSANDBOX_PYTHON
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  ensure_opensandbox_sdk
fi
