#!/usr/bin/env bash
# Ensure the real E2B clients the E2B front door is tested with (test/api/e2b/), pinned:
#   - the `e2b` Python SDK          in $BERTH_CACHE_DIR/e2b-py-venv      (Python >= 3.11)
#   - `agentbox-python-sdk`          in $BERTH_CACHE_DIR/agentbox-venv    (its own venv: its
#                                    pins of httpx/protobuf differ from e2b's)
#   - the `e2b` npm package          in $BERTH_CACHE_DIR/e2b-js/node_modules
# Exports BERTH_E2B_PYTHON, BERTH_AGENTBOX_PYTHON and BERTH_E2B_JS_DIR (the folder whose
# node_modules holds `e2b`).
#
# Idempotent: a marker in each folder records the pins it was built for; a re-run with the
# pins unchanged does nothing. Packages come from the index pip and npm are configured with
# (no host is named here).
#
# Knobs: BERTH_PYTHON (interpreter to build the venvs from, default python3).
#
# Runnable on its own or sourced (defines ensure_e2b_clients).
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BERTH_E2B_PY_PINS="e2b==2.63.0"
BERTH_AGENTBOX_PINS="agentbox-python-sdk==1.0.9"
BERTH_E2B_JS_PIN="e2b@2.51.0"

# _ensure_client_venv NAME PINS -> prints nothing; dies on failure. Sets _VENV_PY.
_ensure_client_venv() {
  local name="$1" pins="$2"
  local venv="$BERTH_CACHE_DIR/$name" marker="$BERTH_CACHE_DIR/$name/.berth-pins"
  _VENV_PY="$venv/bin/python"
  step_start "$name ($pins)"
  if [[ -x "$_VENV_PY" && -f "$marker" && "$(cat "$marker")" == "$pins" ]]; then
    step_skip "up to date"
    return 0
  fi
  make_venv "$venv" "$name" "the E2B SDK tests"
  # shellcheck disable=SC2086
  run_logged "$name-pip" "$_VENV_PY" -m pip install --no-input --disable-pip-version-check $pins ||
    berth_die "installing $pins failed; see $BERTH_LOG_DIR/$name-pip.log"
  printf '%s' "$pins" >"$marker"
  step_done
}

ensure_e2b_clients() {
  _ensure_client_venv e2b-py-venv "$BERTH_E2B_PY_PINS"
  BERTH_E2B_PYTHON="$_VENV_PY"
  _ensure_client_venv agentbox-venv "$BERTH_AGENTBOX_PINS"
  BERTH_AGENTBOX_PYTHON="$_VENV_PY"

  local dir="$BERTH_CACHE_DIR/e2b-js" marker="$BERTH_CACHE_DIR/e2b-js/.berth-pins"
  step_start "e2b npm client ($BERTH_E2B_JS_PIN)"
  if [[ -f "$marker" && "$(cat "$marker")" == "$BERTH_E2B_JS_PIN" && -d "$dir/node_modules/e2b" ]]; then
    step_skip "up to date"
  else
    command -v npm >/dev/null 2>&1 || berth_die "npm not found; install Node.js >= 20"
    mkdir -p "$dir"
    [[ -f "$dir/package.json" ]] || printf '{ "name": "berth-e2b-clients", "private": true }\n' >"$dir/package.json"
    run_logged e2b-js-npm npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$BERTH_E2B_JS_PIN" ||
      berth_die "npm install $BERTH_E2B_JS_PIN failed; see $BERTH_LOG_DIR/e2b-js-npm.log"
    printf '%s' "$BERTH_E2B_JS_PIN" >"$marker"
    step_done
  fi
  BERTH_E2B_JS_DIR="$dir"
  export BERTH_E2B_PYTHON BERTH_AGENTBOX_PYTHON BERTH_E2B_JS_DIR
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  ensure_e2b_clients
fi
