#!/usr/bin/env bash
# Ensure schemathesis (the OpenAPI fuzzer run by test/api/rest/openapi-fuzz.test.ts) is installed
# in a virtualenv in the cache, outside the repo: $BERTH_CACHE_DIR/venv. Exports BERTH_SCHEMATHESIS
# (the `st` executable). Installs from the package index pip is configured with.
#
# Knobs: BERTH_SCHEMATHESIS_VERSION (default 4.32.5), BERTH_PYTHON (default python3).
#
# Runnable on its own or sourced (defines ensure_schemathesis).
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BERTH_SCHEMATHESIS_VERSION="${BERTH_SCHEMATHESIS_VERSION:-4.32.5}"

ensure_schemathesis() {
  local venv="$BERTH_CACHE_DIR/venv"
  local st="$venv/bin/st"
  step_start "schemathesis $BERTH_SCHEMATHESIS_VERSION"
  if [[ -x "$st" ]] && [[ "$("$st" --version 2>/dev/null)" == *" $BERTH_SCHEMATHESIS_VERSION" ]]; then
    step_skip "already in $venv"
  else
    make_venv "$venv" schemathesis-venv "the OpenAPI fuzz test"
    step_progress "pip install schemathesis==$BERTH_SCHEMATHESIS_VERSION"
    run_logged schemathesis-install "$venv/bin/pip" install --disable-pip-version-check -q "schemathesis==$BERTH_SCHEMATHESIS_VERSION" ||
      berth_die "installing schemathesis failed; see $BERTH_LOG_DIR/schemathesis-install.log"
    [[ "$("$st" --version 2>/dev/null)" == *" $BERTH_SCHEMATHESIS_VERSION" ]] || berth_die "$st does not report version $BERTH_SCHEMATHESIS_VERSION"
    step_done
  fi
  BERTH_SCHEMATHESIS="$st"
  export BERTH_SCHEMATHESIS
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  ensure_schemathesis
fi
