#!/usr/bin/env bash
# Shared helpers for berth's machine-setup scripts. Source it; don't run it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
#
# Environment knobs (all optional):
#   BERTH_DATA_DIR   per-checkout state (dockerd log/pidfile, setup.env, logs)  [$BERTH_ROOT/.berth]
#   BERTH_CACHE_DIR  per-user cache (temporal CLI, image tarballs)             [$HOME/.cache/berth]
#   BERTH_VERBOSE=1  stream the output of long commands instead of only logging it
set -euo pipefail

if [[ -z "${_BERTH_COMMON_LOADED:-}" ]]; then
  _BERTH_COMMON_LOADED=1

  BERTH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  if [[ -z "${HOME:-}" ]]; then
    HOME="$(getent passwd "$(id -u)" | cut -d: -f6)"
    export HOME
  fi
  BERTH_DATA_DIR="${BERTH_DATA_DIR:-$BERTH_ROOT/.berth}"
  BERTH_CACHE_DIR="${BERTH_CACHE_DIR:-$HOME/.cache/berth}"
  BERTH_LOG_DIR="$BERTH_DATA_DIR/logs"
  export BERTH_ROOT BERTH_DATA_DIR BERTH_CACHE_DIR BERTH_LOG_DIR
  mkdir -p "$BERTH_DATA_DIR" "$BERTH_LOG_DIR" "$BERTH_CACHE_DIR"

  # Go lives outside the default PATH on the dev machines.
  if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
    PATH="$PATH:/usr/local/go/bin"
  fi
  # sbin dirs are missing from PATH for some non-login root shells (dockerd, chroot, useradd).
  case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" ;; esac
  export PATH
fi

# ---------------------------------------------------------------------------
# Output and timing
# ---------------------------------------------------------------------------
_berth_now() { printf '%s' "${EPOCHREALTIME/,/.}"; }

_berth_elapsed() { # START -> "1.2s"
  local start="$1" now
  now="$(_berth_now)"
  awk -v a="$start" -v b="$now" 'BEGIN { printf "%.1fs", b - a }'
}

berth_log() { printf '[berth] %s\n' "$*"; }
berth_warn() { printf '[berth] WARNING: %s\n' "$*" >&2; }
berth_die() {
  printf '[berth] ERROR: %s\n' "$*" >&2
  exit 1
}

_BERTH_STEP=""
_BERTH_STEP_T0=""

# step_start NAME: begin a timed step (prints nothing until it finishes).
step_start() {
  _BERTH_STEP="$1"
  _BERTH_STEP_T0="$(_berth_now)"
}

# step_progress MSG: a progress note for a long-running step.
step_progress() { printf '[berth] %s: %s\n' "$_BERTH_STEP" "$*"; }

# step_done [DETAIL]: "[berth] NAME ... done (1.2s)" (+ optional detail).
step_done() {
  local extra=""
  [[ -n "${1:-}" ]] && extra=" - $1"
  printf '[berth] %s ... done (%s)%s\n' "$_BERTH_STEP" "$(_berth_elapsed "$_BERTH_STEP_T0")" "$extra"
  _BERTH_STEP=""
}

# step_skip [REASON]: "[berth] NAME ... skipped (already present)".
step_skip() {
  printf '[berth] %s ... skipped (%s)\n' "$_BERTH_STEP" "${1:-already present}"
  _BERTH_STEP=""
}

# run_logged NAME CMD...: run CMD with its output in $BERTH_LOG_DIR/NAME.log.
# On failure, print the tail of the log and return the command's status.
run_logged() {
  local name="$1"
  shift
  local log="$BERTH_LOG_DIR/$name.log" rc=0
  if [[ "${BERTH_VERBOSE:-0}" == 1 ]]; then
    "$@" </dev/null 2>&1 | tee "$log" || rc=$?
  else
    "$@" </dev/null >"$log" 2>&1 || rc=$?
  fi
  if [[ $rc -ne 0 ]]; then
    printf '[berth] command failed (exit %d): %s\n' "$rc" "$*" >&2
    printf '[berth] last lines of %s:\n' "$log" >&2
    tail -n 40 "$log" | sed 's/^/    /' >&2
  fi
  return "$rc"
}

# make_venv VENV LOGNAME [WHAT]: creates a Python virtualenv at VENV unless one is there, from
# $BERTH_PYTHON (default python3); dies with a hint naming WHAT needs it. A half-made venv is removed.
make_venv() {
  local venv="$1" logname="$2" what="${3:-berth}" base="${BERTH_PYTHON:-python3}"
  [[ -x "$venv/bin/python" ]] && return 0
  command -v "$base" >/dev/null 2>&1 ||
    berth_die "$base not found: install Python >= 3.10 with venv (Debian: apt-get install python3 python3-venv) for $what, or set BERTH_PYTHON"
  if ! run_logged "$logname" "$base" -m venv "$venv"; then
    rm -rf "$venv"
    berth_die "creating $venv failed (Debian: apt-get install python3-venv); see $BERTH_LOG_DIR/$logname.log"
  fi
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# ---------------------------------------------------------------------------
# apt
# ---------------------------------------------------------------------------
pkg_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

# apt-get update, at most once per setup run (shared with child scripts via env).
apt_update_once() {
  [[ "${_BERTH_APT_UPDATED:-0}" == 1 ]] && return 0
  run_logged apt-update apt-get update
  _BERTH_APT_UPDATED=1
  export _BERTH_APT_UPDATED
}

# apt package lists are usable when present and less than a day old.
_apt_lists_fresh() {
  local f
  f="$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 -print -quit 2>/dev/null || true)"
  [[ -n "$f" ]]
}

# apt_install PKG...: install the packages that are missing (no-op when all present).
apt_install() {
  local missing=() p
  for p in "$@"; do
    pkg_installed "$p" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if ! is_root; then
    berth_die "missing Debian packages: ${missing[*]}. Install them as root: sudo apt-get install -y --no-install-recommends ${missing[*]}"
  fi
  _apt_lists_fresh || apt_update_once
  local cmd=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}")
  if ! run_logged apt-install "${cmd[@]}"; then
    # Stale package lists (404s) are the usual cause: refresh once and retry.
    [[ "${_BERTH_APT_UPDATED:-0}" == 1 ]] && return 1
    apt_update_once
    run_logged apt-install "${cmd[@]}"
  fi
}

# ---------------------------------------------------------------------------
# Debian mirror, read from the machine's apt configuration at run time.
# Prints the first URI of the main (non-security) Debian source.
# Override with BERTH_DEBIAN_MIRROR.
# ---------------------------------------------------------------------------
debian_mirror() {
  if [[ -n "${BERTH_DEBIAN_MIRROR:-}" ]]; then
    printf '%s\n' "$BERTH_DEBIAN_MIRROR"
    return 0
  fi
  local files=() f uri=""
  for f in /etc/apt/sources.list.d/*.sources; do [[ -f "$f" ]] && files+=("$f"); done
  if [[ ${#files[@]} -gt 0 ]]; then
    # deb822: stanzas separated by blank lines; pick Types: deb, URIs not *security*.
    uri="$(awk '
      function flush() {
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && uris != "" && suites !~ /-security/ && uris !~ /security/ && !found) {
          split(uris, u, /[ \t]+/); print u[1]; found = 1
        }
        types = ""; uris = ""; suites = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      tolower($1) == "types:"  { $1 = ""; types = $0 }
      tolower($1) == "uris:"   { $1 = ""; sub(/^[ \t]+/, ""); uris = $0 }
      tolower($1) == "suites:" { $1 = ""; suites = $0 }
      END { flush() }
    ' "${files[@]}")"
  fi
  if [[ -z "$uri" ]]; then
    files=()
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do [[ -f "$f" ]] && files+=("$f"); done
    if [[ ${#files[@]} -gt 0 ]]; then
      uri="$(awk '
        $1 == "deb" {
          i = 2
          if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
          url = $(i); suite = $(i + 1)
          if (url !~ /security/ && suite !~ /-security/) { print url; exit }
        }
      ' "${files[@]}")"
    fi
  fi
  [[ -n "$uri" ]] || return 1
  printf '%s\n' "${uri%/}"
}

# ---------------------------------------------------------------------------
# Docker
# ---------------------------------------------------------------------------
docker_ok() {
  command -v docker >/dev/null 2>&1 && timeout 15 docker info >/dev/null 2>&1
}
