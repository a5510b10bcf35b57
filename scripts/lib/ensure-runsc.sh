# gVisor's runsc (Debian's package) for the gVisor template and its pause to disk with a
# checkpoint (docs/pause.md). Non-fatal: without it only test/docker/gvisor-pause.test.ts skips.
# Installs the binary only: it is registered as a runtime on private test engines, never on the
# shared engine's config.
ensure_runsc() {
  step_start "gVisor runsc"
  if command -v runsc >/dev/null 2>&1; then
    step_skip "present ($(runsc --version 2>/dev/null | head -1))"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1 || [[ "$(id -u)" != 0 ]]; then
    berth_warn "runsc missing and apt-get (as root) unavailable: the gVisor test will skip"
    step_skip "not available"
    return 0
  fi
  step_progress "apt-get install runsc"
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runsc >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runsc >/dev/null 2>&1; }; then
    step_done
  else
    berth_warn "apt-get install runsc failed: the gVisor test will skip"
    step_skip "install failed"
  fi
}
