#!/usr/bin/env bash
# Build berth's local sandbox images when absent. There is no container registry
# here (`docker pull` never works), so images are made from Debian packages:
#
#   berth/busybox:1               busybox-static + minimal /etc, a few MB
#   berth/debian-python:bookworm  debootstrap minbase + python3, ca-certificates, procps
#                                 (rootfs tarball cached in $BERTH_CACHE_DIR/images/)
#
# Knobs: BERTH_SKIP_DEBIAN_IMAGE=1 (skip the Debian image), BERTH_DEBIAN_MIRROR=URL
# (default: read from the machine's apt sources).
#
# Runnable on its own (ensures Docker first) or sourced (defines ensure_images).
set -euo pipefail
_BERTH_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "$_BERTH_LIB_DIR/common.sh"
# shellcheck source=ensure-docker.sh
source "$_BERTH_LIB_DIR/ensure-docker.sh"

# Fixed tags: src/templates.ts (LOCAL_IMAGES) maps the templates to exactly these.
BERTH_IMAGE_BUSYBOX="berth/busybox:1"
BERTH_IMAGE_PYTHON="berth/debian-python:bookworm"
BERTH_IMAGE_CACHE_DIR="$BERTH_CACHE_DIR/images"
BERTH_DEBIAN_SUITE="bookworm"
export BERTH_IMAGE_BUSYBOX BERTH_IMAGE_PYTHON

_IMG_PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

image_present() { docker image inspect "$1" >/dev/null 2>&1; }

_berth_tmpdirs=()
_berth_cleanup_tmp() {
  local d
  for d in "${_berth_tmpdirs[@]+"${_berth_tmpdirs[@]}"}"; do
    [[ -n "$d" && -d "$d" ]] && rm -rf --one-file-system "$d"
  done
  _berth_tmpdirs=()
}

_berth_mktemp() {
  local d
  mkdir -p "$BERTH_CACHE_DIR/tmp"
  d="$(mktemp -d "$BERTH_CACHE_DIR/tmp/rootfs.XXXXXX")"
  _berth_tmpdirs+=("$d")
  trap _berth_cleanup_tmp EXIT
  printf '%s\n' "$d"
}

# An image that fails its checks loses its tag, so the next run rebuilds it instead of
# taking it for done.
_reject_image() {
  docker rmi -f "$1" >/dev/null 2>&1 || true
  berth_die "$2"
}

# Smoke test run once right after an image is built: default bridge networking,
# pause/unpause and exec must all work for berth sandboxes.
_smoke_test_image() {
  local img="$1" name out
  name="berth-smoke-$$-$RANDOM"
  out="$(docker run --rm "$img" sh -c 'cat /proc/net/route | tail -n +2 | wc -l')" ||
    _reject_image "$img" "smoke test: 'docker run --rm $img' failed"
  [[ "$out" -ge 1 ]] 2>/dev/null || _reject_image "$img" "smoke test: container of $img has no network route (bridge networking broken?)"
  docker run -d --name "$name" "$img" sleep 60 >/dev/null || _reject_image "$img" "smoke test: docker run -d $img failed"
  if ! { docker pause "$name" >/dev/null &&
    [[ "$(docker inspect -f '{{.State.Status}}' "$name")" == paused ]] &&
    docker unpause "$name" >/dev/null &&
    [[ "$(docker exec "$name" echo ok)" == ok ]]; }; then
    docker rm -f "$name" >/dev/null 2>&1 || true
    _reject_image "$img" "smoke test: pause/unpause/exec failed for $img"
  fi
  docker rm -f "$name" >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------------------
# berth/busybox:1
# ---------------------------------------------------------------------------
_static_busybox() {
  local b
  for b in /bin/busybox /usr/bin/busybox; do
    # (ldd exits non-zero for static binaries, so don't pipe it under pipefail)
    if [[ -x "$b" ]] && [[ "$(LC_ALL=C ldd "$b" 2>&1 || true)" == *"not a dynamic executable"* ]]; then
      printf '%s\n' "$b"
      return 0
    fi
  done
  return 1
}

ensure_busybox_image() {
  step_start "image $BERTH_IMAGE_BUSYBOX"
  if image_present "$BERTH_IMAGE_BUSYBOX"; then
    step_skip "already present"
    return 0
  fi
  local bb
  if ! bb="$(_static_busybox)"; then
    apt_install busybox-static
    hash -r
    bb="$(_static_busybox)" || berth_die "no statically linked busybox found after installing busybox-static"
  fi

  local tmp rootfs
  tmp="$(_berth_mktemp)"
  rootfs="$tmp/rootfs"
  mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,root,home/user,tmp,var/tmp,proc,sys,dev}
  cp "$bb" "$rootfs/bin/busybox"
  chmod 0755 "$rootfs/bin/busybox"
  # Applets in their canonical dirs (bin/sh, usr/bin/env, ...) as symlinks to /bin/busybox.
  # Note: the applet list includes "busybox" itself; linking it would create a loop.
  local applet
  while IFS= read -r applet; do
    [[ -z "$applet" || "$applet" == */busybox || "$applet" == busybox ]] && continue
    [[ -e "$rootfs/$applet" || -L "$rootfs/$applet" ]] && continue
    mkdir -p "$rootfs/$(dirname "$applet")"
    ln -s /bin/busybox "$rootfs/$applet"
  done < <("$bb" --list-full)
  cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
user:x:1000:
nogroup:x:65534:
EOF
  printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
  chmod 0700 "$rootfs/root"
  chown 1000:1000 "$rootfs/home/user"

  tar --numeric-owner -C "$rootfs" -c . |
    docker import \
      --change 'CMD ["/bin/sh"]' \
      --change "ENV PATH=$_IMG_PATH" \
      --change 'LABEL org.berth.image=busybox' \
      - "$BERTH_IMAGE_BUSYBOX" >/dev/null
  _berth_cleanup_tmp
  _smoke_test_image "$BERTH_IMAGE_BUSYBOX"
  step_done "$(docker image inspect -f '{{.Size}}' "$BERTH_IMAGE_BUSYBOX" | awk '{printf "%.1f MB", $1/1e6}')"
}

# ---------------------------------------------------------------------------
# berth/debian-python:bookworm
# ---------------------------------------------------------------------------
_build_debian_rootfs_tar() { # OUT_TAR
  local out="$1"
  is_root || berth_die "building $BERTH_IMAGE_PYTHON needs root (debootstrap). Run as root, or provide $out"
  apt_install debootstrap
  hash -r
  local mirror
  mirror="$(debian_mirror)" || berth_die "could not find a Debian mirror in /etc/apt/sources.list{,.d/*}; set BERTH_DEBIAN_MIRROR"

  local tmp rootfs
  tmp="$(_berth_mktemp)"
  rootfs="$tmp/rootfs"
  step_progress "debootstrap $BERTH_DEBIAN_SUITE (minbase + python3) from $mirror (takes a few minutes)"
  local keyring=()
  [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] && keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
  run_logged debootstrap debootstrap "${keyring[@]+"${keyring[@]}"}" --variant=minbase \
    --include=python3,ca-certificates,procps "$BERTH_DEBIAN_SUITE" "$rootfs" "$mirror" ||
    berth_die "debootstrap failed; see $BERTH_LOG_DIR/debootstrap.log"

  step_progress "adding user, cleaning, packing"
  chroot "$rootfs" /usr/sbin/groupadd -g 1000 user
  chroot "$rootfs" /usr/sbin/useradd -m -u 1000 -g 1000 -s /bin/bash -d /home/user user
  # Shrink: apt caches/lists, logs, docs. /dev is provided by the runtime.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/debconf/*-old \
    "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/tmp/* "$rootfs"/root/.bash_history
  find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete 2>/dev/null || true
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  find "$rootfs/dev" -mindepth 1 -delete
  : >"$rootfs/etc/resolv.conf"
  printf 'sandbox\n' >"$rootfs/etc/hostname"

  mkdir -p "$(dirname "$out")"
  tar --numeric-owner -C "$rootfs" -cf "$out.partial" .
  mv -f "$out.partial" "$out"
  _berth_cleanup_tmp
}

ensure_debian_python_image() {
  step_start "image $BERTH_IMAGE_PYTHON"
  if [[ "${BERTH_SKIP_DEBIAN_IMAGE:-0}" == 1 ]]; then
    step_skip "BERTH_SKIP_DEBIAN_IMAGE=1"
    return 0
  fi
  if image_present "$BERTH_IMAGE_PYTHON"; then
    step_skip "already present"
    return 0
  fi
  local cache="$BERTH_IMAGE_CACHE_DIR/debian-python-$BERTH_DEBIAN_SUITE.tar"
  local from="cached rootfs $cache"
  if [[ ! -s "$cache" ]]; then
    _build_debian_rootfs_tar "$cache"
    from="debootstrap"
  else
    step_progress "importing from cache $cache"
  fi
  docker import \
    --change 'CMD ["/bin/bash"]' \
    --change "ENV PATH=$_IMG_PATH" \
    --change 'ENV LANG=C.UTF-8' \
    --change 'WORKDIR /home/user' \
    --change 'LABEL org.berth.image=debian-python' \
    "$cache" "$BERTH_IMAGE_PYTHON" >/dev/null
  local out
  out="$(docker run --rm "$BERTH_IMAGE_PYTHON" python3 -c 'print(1)' 2>&1)" || true
  [[ "$out" == 1 ]] || _reject_image "$BERTH_IMAGE_PYTHON" "$BERTH_IMAGE_PYTHON does not run python3 (got: $out)"
  _smoke_test_image "$BERTH_IMAGE_PYTHON"
  step_done "from $from, $(docker image inspect -f '{{.Size}}' "$BERTH_IMAGE_PYTHON" | awk '{printf "%.0f MB", $1/1e6}')"
}

ensure_images() {
  ensure_docker
  ensure_busybox_image
  ensure_debian_python_image
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  ensure_images
fi
