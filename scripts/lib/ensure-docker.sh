#!/usr/bin/env bash
# Ensure a working Docker daemon.
#
# - `docker info` works            -> nothing to do.
# - root, no daemon                -> install docker.io if dockerd is missing, start dockerd
#                                     in the background (survives this script), wait until ready.
# - not root, no daemon            -> fail with instructions.
#
# dockerd runs detached (setsid), logs to $BERTH_DATA_DIR/dockerd.log, pidfile
# $BERTH_DATA_DIR/dockerd.pid. The flags that worked are remembered in
# $BERTH_DATA_DIR/dockerd.flags and tried first next time.
#
# Knobs: BERTH_DOCKERD_FLAGS="..." (use exactly these flags), BERTH_DOCKER_DATA_ROOT=/path.
#
# Runnable on its own (`bash scripts/lib/ensure-docker.sh`) or sourced (defines ensure_docker).
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DOCKERD_LOG="$BERTH_DATA_DIR/dockerd.log"
DOCKERD_PIDFILE="$BERTH_DATA_DIR/dockerd.pid"
DOCKERD_FLAGSFILE="$BERTH_DATA_DIR/dockerd.flags"
DOCKERD_START_TIMEOUT="${BERTH_DOCKERD_START_TIMEOUT:-60}"

# Candidate flag sets, most capable first. On this kind of VM (cgroup v1, overlay
# available, nf_tables iptables) the first one works; the fallbacks cover kernels
# without iptables/NAT support or without overlayfs.
_dockerd_candidates() {
  if [[ -n "${BERTH_DOCKERD_FLAGS:-}" ]]; then
    printf '%s\n' "$BERTH_DOCKERD_FLAGS"
    return
  fi
  [[ -s "$DOCKERD_FLAGSFILE" ]] && head -n 1 "$DOCKERD_FLAGSFILE"
  local base="--experimental"
  [[ -n "${BERTH_DOCKER_DATA_ROOT:-}" ]] && base+=" --data-root=$BERTH_DOCKER_DATA_ROOT"
  if grep -qw overlay /proc/filesystems 2>/dev/null; then
    printf '%s\n' "$base" "$base --iptables=false --ip-masq=false"
  fi
  printf '%s\n' "$base --storage-driver=vfs" "$base --storage-driver=vfs --iptables=false --ip-masq=false"
}

_dockerd_pid_alive() {
  local pid
  [[ -s "$DOCKERD_PIDFILE" ]] || return 1
  pid="$(cat "$DOCKERD_PIDFILE" 2>/dev/null)" || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

# Wait until `docker info` works or PID dies / timeout. Returns 0 when ready.
_wait_docker_ready() {
  local pid="$1" deadline=$((SECONDS + DOCKERD_START_TIMEOUT))
  while ((SECONDS < deadline)); do
    docker_ok && return 0
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.3
  done
  return 1
}

_stop_pid() {
  local pid="$1" i
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -9 "$pid" 2>/dev/null || true
}

_start_dockerd() { # FLAGS (space separated) -> 0 when ready
  local flags="$1" pid
  local -a argv
  read -r -a argv <<<"$flags"
  {
    printf '\n===== %s: dockerd %s (started by %s) =====\n' "$(date -u +%FT%TZ)" "$flags" "${BASH_SOURCE[0]}"
  } >>"$DOCKERD_LOG"
  # setsid + nohup: own session, survives the end of this script and of its caller's
  # process group. All fds redirected so it never holds the caller's stdout pipe open.
  setsid nohup dockerd "${argv[@]}" --pidfile "$DOCKERD_PIDFILE" </dev/null >>"$DOCKERD_LOG" 2>&1 &
  pid=$!
  if _wait_docker_ready "$pid"; then
    printf '%s\n' "$flags" >"$DOCKERD_FLAGSFILE"
    return 0
  fi
  if kill -0 "$pid" 2>/dev/null; then
    berth_warn "dockerd ($flags) did not become ready within ${DOCKERD_START_TIMEOUT}s; stopping it"
    _stop_pid "$pid"
  fi
  return 1
}

ensure_docker() {
  [[ "${_BERTH_DOCKER_READY:-0}" == 1 ]] && return 0
  step_start "docker daemon"

  if docker_ok; then
    step_skip "already running"
    _BERTH_DOCKER_READY=1
    export _BERTH_DOCKER_READY
    return 0
  fi

  if ! is_root; then
    if command -v docker >/dev/null 2>&1; then
      berth_die "Docker is installed but 'docker info' fails (daemon not running, or no permission on the socket).
  Fix one of:
    - start it as root:   sudo bash $BERTH_ROOT/scripts/lib/ensure-docker.sh
      (or: sudo systemctl start docker)
    - give your user access: sudo usermod -aG docker $(id -un)  (then log in again)
    - point DOCKER_HOST at a reachable daemon"
    fi
    berth_die "Docker is not installed. Run as root: sudo bash $BERTH_ROOT/scripts/lib/ensure-docker.sh
  (installs Debian's docker.io and starts dockerd), or install Docker yourself and make 'docker info' work."
  fi

  # A daemon we started earlier may still be starting up.
  if _dockerd_pid_alive; then
    step_progress "dockerd (pid $(cat "$DOCKERD_PIDFILE")) is running; waiting for it"
    if _wait_docker_ready "$(cat "$DOCKERD_PIDFILE")"; then
      step_done "dockerd pid $(cat "$DOCKERD_PIDFILE")"
      _BERTH_DOCKER_READY=1
      export _BERTH_DOCKER_READY
      return 0
    fi
    berth_die "dockerd (pid $(cat "$DOCKERD_PIDFILE")) is running but 'docker info' still fails; see $DOCKERD_LOG"
  fi

  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    step_progress "installing docker.io"
    apt_install docker.io
    hash -r
  fi
  command -v dockerd >/dev/null 2>&1 || berth_die "dockerd still missing after installing docker.io"

  # On machines booted with systemd, let systemd own the daemon.
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    if systemctl start docker >/dev/null 2>&1 && _wait_docker_ready ""; then
      step_done "started docker.service via systemd"
      _BERTH_DOCKER_READY=1
      export _BERTH_DOCKER_READY
      return 0
    fi
    berth_warn "systemctl start docker failed; starting dockerd directly"
  fi

  # Another dockerd (not ours) holding the default pidfile would make ours refuse to start.
  # It may be one the package's init script just started: give it time to come up first.
  if [[ -s /var/run/docker.pid ]] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    if _wait_docker_ready "$(cat /var/run/docker.pid)"; then
      step_done "dockerd pid $(cat /var/run/docker.pid) (started outside berth)"
      _BERTH_DOCKER_READY=1
      export _BERTH_DOCKER_READY
      return 0
    fi
    berth_die "a dockerd (pid $(cat /var/run/docker.pid)) is already running but 'docker info' fails; check it, or stop it and re-run"
  fi

  local flags tried=()
  while IFS= read -r flags; do
    [[ -z "$flags" ]] && continue
    # skip duplicates (the remembered flags are usually also a candidate)
    local seen=0 t
    for t in "${tried[@]+"${tried[@]}"}"; do [[ "$t" == "$flags" ]] && seen=1; done
    ((seen)) && continue
    tried+=("$flags")
    step_progress "starting dockerd $flags"
    if _start_dockerd "$flags"; then
      step_done "dockerd pid $(cat "$DOCKERD_PIDFILE"), flags: $flags, log: $DOCKERD_LOG"
      _BERTH_DOCKER_READY=1
      export _BERTH_DOCKER_READY
      return 0
    fi
    berth_warn "dockerd failed with flags '$flags'; last log lines:"
    tail -n 8 "$DOCKERD_LOG" | sed 's/^/    /' >&2
  done < <(_dockerd_candidates)

  berth_die "could not start dockerd (tried: ${tried[*]}); see $DOCKERD_LOG"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  ensure_docker
fi
