#!/usr/bin/env bash
# CLI tests for `sheepdog simulate`, run the way a user runs it: every output format, the plot,
# determinism per seed, the scenario file example, and bad input (one line, exit code 2).
# Usage: bash tests/cli/simulate.sh /path/to/sheepdog
set -euo pipefail

bin=${1:?usage: simulate.sh /path/to/sheepdog}
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Runs the command expecting exit code 2 and exactly one line on stderr containing $1.
expect_bad_input() {
  local want=$1
  shift
  local code=0
  "$bin" simulate "$@" >"$tmp/bad.out" 2>"$tmp/bad.err" || code=$?
  [[ $code -eq 2 ]] || fail "simulate $* exited $code, want 2"
  [[ $(wc -l <"$tmp/bad.err") -eq 1 ]] || fail "simulate $*: stderr is not one line: $(cat "$tmp/bad.err")"
  grep -qF -- "$want" "$tmp/bad.err" || fail "simulate $*: stderr lacks '$want': $(cat "$tmp/bad.err")"
  [[ ! -s $tmp/bad.out ]] || fail "simulate $*: wrote to stdout on bad input"
}

# 1. Default format: a Markdown table, labelled SIMULATED, one row per default strategy.
"$bin" simulate --requests 400 >"$tmp/md.txt"
head -1 "$tmp/md.txt" | grep -q '^## SIMULATED results: scenario `mixed-faults-10k`, seed 1, 400 requests' ||
  fail "markdown title: $(head -1 "$tmp/md.txt")"
for s in linear exponential exponential-jitter exponential-jitter-breaker decorrelated-jitter \
  exponential-jitter-breaker+budget; do
  grep -qF "| $s |" "$tmp/md.txt" || fail "markdown lacks a row for $s"
done

# 2. Same seed, same bytes; another seed, other bytes.
"$bin" simulate --requests 400 >"$tmp/md2.txt"
cmp -s "$tmp/md.txt" "$tmp/md2.txt" || fail "two runs with seed 1 differ"
"$bin" simulate --requests 400 --seed 2 >"$tmp/md3.txt"
! cmp -s "$tmp/md.txt" "$tmp/md3.txt" || fail "seeds 1 and 2 gave identical output"

# 3. JSON parses and has the expected shape (node if present, else grep).
"$bin" simulate --scenario outage --requests 500 --runs 2 --format json >"$tmp/out.json"
if command -v node >/dev/null 2>&1; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const ok = r.simulated === true && r.scenario === "outage" && r.runs === 2 &&
      r.strategies.length === 6 &&
      r.strategies.every(s => s.metrics.success_rate.mean >= 0 && s.metrics.success_rate.mean <= 1);
    if (!ok) { console.error(JSON.stringify(r).slice(0, 400)); process.exit(1); }
  ' "$tmp/out.json" || fail "json shape"
else
  grep -q '"simulated": true' "$tmp/out.json" || fail "json lacks simulated"
  [[ $(grep -c '"name":' "$tmp/out.json") -eq 6 ]] || fail "json strategy count"
fi

# 4. CSV: a header and one line per strategy x metric.
"$bin" simulate --scenario flaky --requests 300 --strategies linear,exponential-jitter+budget \
  --format csv >"$tmp/out.csv"
head -1 "$tmp/out.csv" | grep -qx 'simulated,scenario,seed,runs,strategy,metric,mean,stddev,min,max' ||
  fail "csv header: $(head -1 "$tmp/out.csv")"
[[ $(wc -l <"$tmp/out.csv") -eq 19 ]] || fail "csv has $(wc -l <"$tmp/out.csv") lines, want 1 + 2 x 9"
grep -q '^true,flaky,1,1,exponential-jitter+budget,success_rate,' "$tmp/out.csv" || fail "csv row"

# 5. --plot writes an SVG, with line charts for the outage scenario.
"$bin" simulate --scenario outage --requests 800 --strategies exponential-jitter,exponential-jitter-breaker \
  --plot "$tmp/plot.svg" >/dev/null
head -c 4 "$tmp/plot.svg" | grep -q '^<svg' || fail "plot does not start with <svg"
grep -q '<polyline' "$tmp/plot.svg" || fail "outage plot lacks line charts"
tail -1 "$tmp/plot.svg" | grep -q '</svg>' || fail "plot not closed"

# 6. The AWS contention model has its own table.
"$bin" simulate --scenario aws-contention --requests 30 >"$tmp/aws.txt"
grep -q '^| backoff | calls | completion ms |' "$tmp/aws.txt" || fail "aws table header"
grep -q '^| full-jitter |.* 1.00x | 1.00x |$' "$tmp/aws.txt" || fail "aws full-jitter row"

# 7. --list, --describe and the shipped example scenario file.
"$bin" simulate --list | grep -q '^  rate-limit-storm ' || fail "--list lacks rate-limit-storm"
"$bin" simulate --scenario mixed-faults-10k --describe | grep -q '^Assumptions:' || fail "--describe"
"$bin" simulate --scenario-file "$src/scenarios/example.yaml" --requests 300 \
  --config "$src/scenarios/example-policies.yaml" \
  --strategies cautious-breaker,patient-linear,exponential-jitter >"$tmp/ex.txt"
grep -q 'scenario `example-regional-outage`' "$tmp/ex.txt" || fail "example scenario title"
grep -qF '| cautious-breaker |' "$tmp/ex.txt" || fail "example custom strategy row"

# 8. --config: the gateway's own file; one row per model alias, with serve's policies. The
# example's local-llama has one deployment and no fallback, so it cannot leave the dead primary.
"$bin" simulate --config "$src/examples/sheepdog.yaml" --scenario outage >"$tmp/cfg.txt"
for alias in gpt-4o gpt-4o-mini claude-sonnet local-llama; do
  grep -qF "| $alias |" "$tmp/cfg.txt" || fail "--config lacks a row for $alias: $(cat "$tmp/cfg.txt")"
done
grep -qF '| linear |' "$tmp/cfg.txt" && fail "--config also ran the built-in strategies"
llama=$(grep -F '| local-llama |' "$tmp/cfg.txt" | cut -d'|' -f3 | tr -d ' ')
gpt=$(grep -F '| gpt-4o |' "$tmp/cfg.txt" | cut -d'|' -f3 | tr -d ' ')
awk -v l="$llama" -v g="$gpt" 'BEGIN { exit !(l + 0 < g + 0) }' ||
  fail "a single-deployment alias ($llama %) should lose more in the outage than gpt-4o ($gpt %)"
"$bin" simulate --config "$src/examples/sheepdog.yaml" --strategies gpt-4o,linear --requests 300 \
  >"$tmp/cfg2.txt"
grep -qF '| gpt-4o |' "$tmp/cfg2.txt" && grep -qF '| linear |' "$tmp/cfg2.txt" ||
  fail "--config with --strategies mixes config aliases and built-ins"
printf 'models:\n  m: {deployments: []}\n' >"$tmp/badcfg.yaml"
expect_bad_input "badcfg.yaml:1:1: providers: missing or empty" --config "$tmp/badcfg.yaml"

# 9. Bad input: one line naming the problem and the fix, exit code 2.
expect_bad_input "--runs must be a whole number from 1 to 1000, got 'zero'" --runs zero
expect_bad_input "--requests must be a whole number" --requests -5
expect_bad_input "unknown --format 'xml'; use markdown, json or csv" --format xml
expect_bad_input "unknown scenario 'nope'; run 'sheepdog simulate --list'" --scenario nope
expect_bad_input "unknown strategy 'fast'" --strategies linear,fast
expect_bad_input "unknown argument '--bogus'" --bogus
expect_bad_input "--seed needs a value" --seed
expect_bad_input "either --scenario or --scenario-file" --scenario flaky --scenario-file x.yaml
printf 'upstreams:\n  - name: a\n    capcity: 3\n' >"$tmp/bad.yaml"
expect_bad_input "bad.yaml:3: unknown key 'capcity' in upstream" --scenario-file "$tmp/bad.yaml"
printf 'upstreams:\n  - name: a\nstrategies:\n  s: {max_attempts: 2}\n' >"$tmp/policy.yaml"
expect_bad_input "policy.yaml:4: a scenario file describes only the world" \
  --scenario-file "$tmp/policy.yaml"

echo "simulate.sh: all checks passed"
