#!/usr/bin/env bash
# End-to-end tests with the official `openai` and `@anthropic-ai/sdk` npm SDKs (tests/e2e/*.test.mjs): `sheepdog serve`
# in front of `sheepdog mock`, real processes on loopback. Needs node and ./node_modules, which
# scripts/bootstrap installs. Prints node's test summary; exit status is node's.
# Usage: bash e2e.sh /path/to/sheepdog
set -u

sheepdog="${1:?usage: e2e.sh /path/to/sheepdog}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

if ! command -v node >/dev/null; then
  echo "e2e: node not found; run scripts/bootstrap" >&2
  exit 1
fi
if [[ ! -f "$root/node_modules/openai/package.json" || ! -f "$root/node_modules/@anthropic-ai/sdk/package.json" ]]; then
  echo "e2e: the SDKs in $root/node_modules are missing; run scripts/bootstrap (npm ci)" >&2
  exit 1
fi

cd "$root"
export SHEEPDOG_BIN="$sheepdog"
# Each file starts its own mock and gateway on free ports.
exec node --test --test-reporter=spec tests/e2e/*.test.mjs
