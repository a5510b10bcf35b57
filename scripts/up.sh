#!/usr/bin/env bash
# `npm run up`: installs what is missing, then runs the whole stack on embedded defaults.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
set -a && source "${BERTH_DATA_DIR:-.berth}/setup.env" && set +a
exec node --import tsx scripts/up.ts
