#!/usr/bin/env bash
# Ensure the Python SDK's test venv: $BERTH_CACHE_DIR/py-sdk-venv with pinned httpx, websockets, pytest
# and pytest-asyncio, and sdk/python installed editable from this checkout.
# Exports BERTH_PY_SDK_PYTHON (the venv's python).
#
# Idempotent: a marker in the venv records the pins and the SDK path it was built for;
# a re-run with both unchanged does nothing. Needs python3 (>= 3.9) with the venv module;
# packages come from the package index pip is configured with (no host is named here).
#
# Knobs: BERTH_PYTHON (interpreter to build the venv from, default python3).
#
# Runnable on its own or sourced (defines ensure_python_sdk).
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BERTH_PY_SDK_PINS="httpx==0.28.1 websockets==13.1 pytest==8.4.2 pytest-asyncio==1.2.0"

ensure_python_sdk() {
  local venv="$BERTH_CACHE_DIR/py-sdk-venv" sdk="$BERTH_ROOT/sdk/python"
  local py="$venv/bin/python" marker="$venv/.berth-py-sdk"
  local want
  want="$BERTH_PY_SDK_PINS $sdk $(cksum <"$sdk/pyproject.toml" | cut -d' ' -f1)"
  step_start "python SDK venv"
  if [[ -x "$py" && -f "$marker" && "$(cat "$marker")" == "$want" ]]; then
    step_skip "up to date"
  else
    make_venv "$venv" py-sdk-venv "the Python SDK's tests"
    # shellcheck disable=SC2086
    run_logged py-sdk-pip "$py" -m pip install --no-input --disable-pip-version-check $BERTH_PY_SDK_PINS ||
      berth_die "installing $BERTH_PY_SDK_PINS failed; see $BERTH_LOG_DIR/py-sdk-pip.log"
    run_logged py-sdk-install "$py" -m pip install --no-input --disable-pip-version-check --no-deps -e "$sdk" ||
      berth_die "pip install -e $sdk failed; see $BERTH_LOG_DIR/py-sdk-install.log"
    printf '%s' "$want" >"$marker"
    step_done
  fi
  BERTH_PY_SDK_PYTHON="$py"
  export BERTH_PY_SDK_PYTHON
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  ensure_python_sdk
fi
