#!/usr/bin/env bash
# The ctest entry fuzz.<target>: a smoke run of one fuzz target, a fixed number of executions
# (smoke_runs in tests/fuzz/<target>.options) from its seed corpus with a fixed seed, so CI
# runs the same inputs every time. New corpus entries go to a scratch directory, never into the
# committed corpus. Fails (and keeps the input under WORK/artifacts/) on a crash, a sanitizer
# report, a leak, a timeout or an out-of-memory.
# Usage: smoke.sh FUZZ_BINARY TESTS_FUZZ_DIR WORK_DIR
set -euo pipefail
binary=$1
fuzz_dir=$2
work=$3
target=$(basename "$binary")
# shellcheck source=tests/fuzz/options.sh
source "$fuzz_dir/options.sh"
fuzz_read_options "$fuzz_dir" "$target"
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
start=$SECONDS
status=0
"$binary" "${FUZZ_FLAGS[@]}" -runs="$FUZZ_SMOKE_RUNS" -seed=1 -timeout=30 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
  "$work/corpus" "$fuzz_dir/corpus/$target" >"$work/log" 2>&1 || status=$?
# The summary lines: executions, speed, and any report.
grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
  "$work/log" || true
echo "fuzz.$target: $((SECONDS - start)) s, exit $status"
if ((status != 0)); then
  tail -n 80 "$work/log"
  echo "fuzz.$target: the failing input is in $work/artifacts/: reproduce with $binary FILE"
fi
exit "$status"
