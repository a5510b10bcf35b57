#!/usr/bin/env bash
# `npm run chaos [-- --short] [--targets worker,api,temporal,all] [--per-kind N] [--outage-ms MS] [--out FILE]`:
# machine setup (idempotent), then SIGKILLs of berth's control plane with work in flight
# (chaos/run.ts). Exit code 1 when the goal (0 lost / 0 orphans / 0 early, p99 lateness < 2 s) is missed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
set -a && source "${BERTH_DATA_DIR:-.berth}/setup.env" && set +a
exec node --import tsx chaos/run.ts "$@"
