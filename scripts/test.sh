#!/usr/bin/env bash
# `npm test`: installs what is missing (scripts/setup.sh), then runs lint, the type
# check and every vitest layer (unit, workflow, API, compose, bench smoke) against the
# real Temporal dev server and the real Docker engine. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
# shellcheck disable=SC1091
set -a && source "${BERTH_DATA_DIR:-.berth}/setup.env" && set +a

passed=0
failed=0
check() { # NAME CMD...: a check that counts as one test
  local name="$1"
  shift
  echo "[berth] ${name} ..."
  if "$@"; then
    passed=$((passed + 1))
    echo "[berth] ${name}: ok"
  else
    failed=$((failed + 1))
    echo "[berth] ${name}: FAILED"
  fi
}

check "lint (eslint)" npx --no-install eslint .
check "type check (tsc)" npx --no-install tsc --noEmit -p tsconfig.json

results=.berth/test-results.json
rm -f "$results"
npx --no-install vitest run "$@"
vitest_rc=$?
if [[ -f "$results" ]]; then
  read -r vp vf < <(node -e 'const r=require(process.argv[1]);console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites||0) + r.testResults.filter(t=>t.status==="failed"&&t.assertionResults.length===0).length)' "$PWD/$results")
  passed=$((passed + vp))
  failed=$((failed + vf))
  if [[ $vitest_rc -ne 0 && $vf -eq 0 ]]; then failed=$((failed + 1)); fi
else
  echo "[berth] vitest wrote no results (exit ${vitest_rc})"
  failed=$((failed + 1))
fi

echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
