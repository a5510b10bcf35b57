#!/usr/bin/env bash
# `npm run bench [-- --scale smoke|medium|full] [--only a,b] [--out DIR]`: machine setup
# (idempotent), then berth against the raw Docker floor (bench/run.ts). Results land in
# docs/benchmarks/ unless --out says otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
set -a && source "${BERTH_DATA_DIR:-.berth}/setup.env" && set +a
exec node --import tsx bench/run.ts "$@"
