#!/usr/bin/env bash
# `sheepdog check-config`: exit 0 and a summary for a valid file (the shipped example), exit 1
# with each error's line for a broken one, exit 2 with one line for a missing file.
# Usage: bash check_config.sh /path/to/sheepdog
set -u

sheepdog="${1:?usage: check_config.sh /path/to/sheepdog}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
example="$here/../../examples/sheepdog.yaml"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# expect_exit WANT NAME OUTPUT_FILE -- COMMAND...
expect_exit() {
  local want="$1" name="$2" out="$3"
  shift 4
  "$@" >"$out" 2>&1
  local got=$?
  if [[ "$got" != "$want" ]]; then
    fail "$name: exit $got, want $want; output:"
    sed 's/^/    /' "$out"
  fi
}

expect_output() {
  local name="$1" out="$2" pattern="$3"
  if ! grep -qF -- "$pattern" "$out"; then
    fail "$name: output lacks '$pattern'; output:"
    sed 's/^/    /' "$out"
  fi
}

# 1. The shipped example is valid. Only OPENAI_API_KEY is set: the other providers' unset keys
#    are dropped with warnings, which must not fail the check.
out="$work/ok.txt"
expect_exit 0 "example" "$out" -- env -i PATH="$PATH" OPENAI_API_KEY=sk-test \
  "$sheepdog" check-config "$example"
expect_output "example" "$out" "$example: ok (4 providers, 5 models)"
expect_output "example" "$out" "warning: providers.backup.api_keys[0]: environment variable 'BACKUP_API_KEY' is not set; key dropped"

# 2. A broken file: every error, each with its line, exit 1.
broken="$work/broken.yaml"
cat >"$broken" <<'EOF'
server:
  prot: 8080
providers:
  openai: {kind: openai, base_url: "ftp://example.com"}
models:
  gpt-4o:
    deployments: [{provider: opena, model: gpt-4o}]
    fallbacks: [gpt-4o]
EOF
out="$work/broken.txt"
expect_exit 1 "broken" "$out" -- "$sheepdog" check-config "$broken"
expect_output "broken" "$out" "$broken:2:3: server.prot: unknown key; did you mean 'port'?"
expect_output "broken" "$out" "$broken:4:36: providers.openai.base_url: invalid URL"
expect_output "broken" "$out" "$broken:7:30: models.gpt-4o.deployments[0].provider: unknown provider 'opena'; did you mean 'openai'?"
expect_output "broken" "$out" "$broken:8:17: models.gpt-4o.fallbacks[0]: fallback cycle: gpt-4o -> gpt-4o"
expect_output "broken" "$out" "$broken: 4 errors"

# 3. A YAML syntax error is an error in the file (exit 1), with its line.
syntax="$work/syntax.yaml"
printf 'providers:\n  a: [1, 2\nmodels: {}\n' >"$syntax"
out="$work/syntax.txt"
expect_exit 1 "syntax" "$out" -- "$sheepdog" check-config "$syntax"
expect_output "syntax" "$out" "$syntax:3:"

# 4. A missing file is a usage error: exit 2, one line naming the problem and the fix.
out="$work/missing.txt"
expect_exit 2 "missing" "$out" -- "$sheepdog" check-config "$work/nope.yaml"
expect_output "missing" "$out" "$work/nope.yaml: no such file"
if [[ "$(wc -l <"$out")" -ne 1 ]]; then
  fail "missing: expected exactly one line"
fi

# 5. No file at all: usage error too.
out="$work/none.txt"
expect_exit 2 "no argument" "$out" -- "$sheepdog" check-config
expect_output "no argument" "$out" "usage: sheepdog check-config FILE"

# 6. Extra arguments: usage error.
out="$work/extra.txt"
expect_exit 2 "extra argument" "$out" -- "$sheepdog" check-config "$example" surplus
expect_output "extra argument" "$out" "unexpected argument 'surplus'"

if [[ "$failures" -ne 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "check_config: all checks passed"
