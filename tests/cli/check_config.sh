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

# 7. check-config and serve agree (issue 10): a provider whose only key is an unset variable
#    fails check-config, naming the variable, exactly as serve refuses to start.
unset_file="$work/unset.yaml"
cat >"$unset_file" <<'EOF'
providers:
  openai: {kind: openai, base_url: "https://api.openai.com/v1", api_keys: ["${OPENAI_API_KEY}"]}
models:
  gpt-4o:
    deployments: [{provider: openai, model: gpt-4o}]
EOF
out="$work/unset.txt"
expect_exit 1 "unset key" "$out" -- env -i PATH="$PATH" "$sheepdog" check-config "$unset_file"
expect_output "unset key" "$out" "$unset_file: no model alias can be served: no provider has an API key; set OPENAI_API_KEY"
expect_output "unset key" "$out" "$unset_file: 1 error, 3 warnings"
out="$work/unset_serve.txt"
expect_exit 1 "unset key (serve)" "$out" -- env -i PATH="$PATH" timeout 10 "$sheepdog" serve \
  --config "$unset_file" --port 0
expect_output "unset key (serve)" "$out" "set OPENAI_API_KEY"
# With the variable set, both accept it.
out="$work/set.txt"
expect_exit 0 "key set" "$out" -- env -i PATH="$PATH" OPENAI_API_KEY=sk-x \
  "$sheepdog" check-config "$unset_file"
expect_output "key set" "$out" "$unset_file: ok (1 provider, 1 model)"

# 8. Errors do not hide warnings: both, in line order, both counted.
mixed="$work/mixed.yaml"
cat >"$mixed" <<'EOF'
providers:
  openai: {kind: openai, base_url: "https://api.openai.com/v1", api_keys: [os.environ/MIXED_KEY]}
models:
  gpt-4o:
    deployments: [{provider: openai, model: gpt-4o}]
    fallbacks: [nope]
policies:
  default:
    backoff: {base_delay: 500, max_delay: 20m}
EOF
out="$work/mixed.txt"
expect_exit 1 "errors and warnings" "$out" -- env -i PATH="$PATH" MIXED_KEY=sk-m \
  "$sheepdog" check-config "$mixed"
expect_output "errors and warnings" "$out" "$mixed:2:76: warning: providers.openai.api_keys[0]: 'os.environ/MIXED_KEY' (LiteLLM's syntax) is read as \${MIXED_KEY}"
expect_output "errors and warnings" "$out" "$mixed:6:17: models.gpt-4o.fallbacks[0]: unknown model 'nope'"
expect_output "errors and warnings" "$out" "$mixed:9:27: warning: policies.default.backoff.base_delay: 500 is read as 500 seconds (about 8 minutes); write 500ms if you meant milliseconds"
expect_output "errors and warnings" "$out" "$mixed: 1 error, 2 warnings"
if [[ "$(grep -n 'warning: providers.openai' "$out" | cut -d: -f1)" -gt \
      "$(grep -n 'fallbacks\[0\]' "$out" | cut -d: -f1)" ]]; then
  fail "errors and warnings: expected line order (the line-2 warning before the line-6 error)"
fi

# 9. A value cannot forge a diagnostic line: control characters are escaped.
forged="$work/forged.yaml"
cat >"$forged" <<'EOF'
providers:
  openai: {kind: openai, base_url: "https://api.openai.com/v1"}
models:
  gpt-4o:
    deployments: [{provider: openai, model: gpt-4o}]
    fallbacks: ["x\nsheepdog.yaml:1:1: ok"]
EOF
out="$work/forged.txt"
expect_exit 1 "forged line" "$out" -- "$sheepdog" check-config "$forged"
if grep -q '^sheepdog.yaml:1:1: ok' "$out"; then
  fail "forged line: a value printed a line of its own:"
  sed 's/^/    /' "$out"
fi
expect_output "forged line" "$out" "'x\\nsheepdog.yaml:1:1: ok'"
[[ "$(wc -l <"$out")" -eq 2 ]] || fail "forged line: expected one error and the summary"

# 10. Hostile files: an endless one, binary bytes, nesting past the parser's limit: each one
#     error with its line, quickly.
out="$work/zero.txt"
expect_exit 1 "endless file" "$out" -- timeout 20 "$sheepdog" check-config /dev/zero
expect_output "endless file" "$out" "/dev/zero: the file is larger than 4 MiB"
binary="$work/binary.yaml"
printf 'providers:\n  op\xffenai: {kind: openai}\n' >"$binary"
out="$work/binary.txt"
expect_exit 1 "binary" "$out" -- "$sheepdog" check-config "$binary"
expect_output "binary" "$out" "$binary:2:5: invalid UTF-8 (byte 0xff)"
deep="$work/deep.yaml"
{ printf 'providers: '; head -c 50000 /dev/zero | tr '\0' '['; echo; } >"$deep"
out="$work/deep.txt"
expect_exit 1 "deep" "$out" -- timeout 20 "$sheepdog" check-config "$deep"
expect_output "deep" "$out" "nested too deeply"

if [[ "$failures" -ne 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "check_config: all checks passed"
