#!/usr/bin/env bash
# Ensure a headless Chromium from Debian's packages (`chromium`), used by the browser test of
# the /docs page (test/api/rest/docs-page.test.ts). Exports BERTH_CHROMIUM (the executable).
#
# Skipped when a chromium executable is already there. Otherwise `apt-get install chromium`
# (with --no-install-recommends, non-interactive; needs root): about 80 MB download,
# ~290 MB installed, about a minute on a fresh machine (measured: see README, REST surface).
# fonts-liberation comes along so that screenshots of pages show text.
#
# Knobs: BERTH_CHROMIUM (use this executable instead; nothing is installed),
#        BERTH_SKIP_CHROMIUM=1 (skip; the browser test then fails with a hint).
#
# Runnable on its own or sourced (defines ensure_chromium).
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

_chromium_path() {
  local c
  for c in "${BERTH_CHROMIUM:-}" chromium chromium-browser; do
    [[ -n "$c" ]] || continue
    if command -v "$c" >/dev/null 2>&1; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

ensure_chromium() {
  step_start "headless chromium"
  if [[ "${BERTH_SKIP_CHROMIUM:-0}" == 1 ]]; then
    step_skip "BERTH_SKIP_CHROMIUM=1"
    return 0
  fi
  local path
  if path="$(_chromium_path)"; then
    step_skip "already at $path"
  else
    step_progress "apt-get install chromium (about 80 MB, once)"
    apt_install chromium fonts-liberation || berth_die "installing chromium failed; see $BERTH_LOG_DIR/apt-install.log"
    path="$(_chromium_path)" || berth_die "chromium was installed but no chromium executable is on PATH"
    step_done "$("$path" --version 2>/dev/null || true)"
  fi
  BERTH_CHROMIUM="$path"
  export BERTH_CHROMIUM
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  ensure_chromium
fi
