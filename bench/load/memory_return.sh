#!/usr/bin/env bash
# Memory benchmark, run by hand (not a test): does `sheepdog serve` give memory back after a
# burst of large non-streamed answers (issue 10)? For each allocator variant it starts a fresh
# `sheepdog mock` (answers up to 4 MiB: max_completion_tokens 1048576, 4 characters per token)
# and a fresh gateway in front of it, then records the gateway's VmRSS (/proc/PID/status) once
# idle, sends ROUNDS rounds of CONCURRENCY concurrent non-streamed chat completions (curl
# --parallel; 3 in 4 answers of 1-4 MiB, 1 in 4 small, the same sizes for every variant), and
# records the peak (VmHWM, the kernel's exact high-water mark) and VmRSS 2 s and 10 s after the
# burst, with the wall time of the burst and the gateway's CPU time in it (/proc/PID/stat: the
# allocator's cost, less noisy than wall time on a busy machine). With TRIM=1 and gdb present,
# it then calls malloc_trim(0) in the glibc variants (what "malloc_trim on idle" would give) and
# records VmRSS again. Prints one markdown table; every
# process it starts is stopped on exit.
#
# Variants (VARIANTS, space-separated, in this order by default):
#   sheepdog          as shipped: `serve` sets glibc's thresholds to 128 KiB itself (mallopt,
#                     apps/sheepdog/serve_command.cc), the same as glibc-thresholds
#   glibc             glibc malloc, defaults (SHEEPDOG_MALLOC=default)
#   glibc-thresholds  GLIBC_TUNABLES=glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072
#                     (fixed thresholds turn off the dynamic mmap threshold, which otherwise
#                     rises to the size of the first large block freed, so that later large
#                     blocks come from the arenas and stay there)
#   glibc-arena2      the same plus glibc.malloc.arena_max=2
#   mimalloc          LD_PRELOAD=$MIMALLOC_SO (Debian libmimalloc2.0, 2.0.9), defaults
#   mimalloc-decommit0  the same with MIMALLOC_DECOMMIT_DELAY=0 MIMALLOC_SEGMENT_DECOMMIT_DELAY=0
#                     (2.0.9's names: MIMALLOC_PURGE_DELAY is 2.1's and is ignored by 2.0.9;
#                     MIMALLOC_RESET_DELAY is 2.0's deprecated spelling of DECOMMIT_DELAY)
#
# Usage: bench/load/memory_return.sh [path/to/sheepdog]    (default build/release/bin/sheepdog)
# Environment: VARIANTS (above), ROUNDS (4), CONCURRENCY (64), MIN_TOKENS (262144) and
#   MAX_TOKENS (1048576): the large answers' length in tokens (x4 bytes), SMALL_EVERY (4: every
#   Nth request asks for a small answer, 16-16384 tokens; 0 = none), MOCK_THREADS (2),
#   MOCK_LATENCY_MS (300: the mock's fixed time to the response head, so that a round's answers
#   arrive together and overlap in the gateway; 0 = none), SHEEPDOG_THREADS (2), TRIM (1),
#   MIMALLOC_SO (/usr/lib/x86_64-linux-gnu/libmimalloc.so.2),
#   KEEP=1 keeps the work directory (configs, logs, per-request status codes).
# Needs bash, curl (>= 7.66, for --parallel), awk; gdb only for TRIM. Loopback only.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${1:-${SHEEPDOG_BIN:-$root/build/release/bin/sheepdog}}"
VARIANTS="${VARIANTS:-sheepdog glibc glibc-thresholds glibc-arena2 mimalloc mimalloc-decommit0}"
ROUNDS="${ROUNDS:-4}"
CONCURRENCY="${CONCURRENCY:-64}"
MIN_TOKENS="${MIN_TOKENS:-262144}"
MAX_TOKENS="${MAX_TOKENS:-1048576}"
SMALL_EVERY="${SMALL_EVERY:-4}"
MOCK_THREADS="${MOCK_THREADS:-2}"
MOCK_LATENCY_MS="${MOCK_LATENCY_MS:-300}"
SHEEPDOG_THREADS="${SHEEPDOG_THREADS:-2}"
TRIM="${TRIM:-1}"
MIMALLOC_SO="${MIMALLOC_SO:-/usr/lib/x86_64-linux-gnu/libmimalloc.so.2}"
me="memory_return.sh"

die() { echo "$me: $*" >&2; exit 1; }
command -v curl >/dev/null || die "curl not found"
curl --help all 2>/dev/null | grep -q -- '--parallel-max' || die "curl lacks --parallel (needs 7.66+)"
[[ -x "$bin" ]] || die "no sheepdog binary at $bin"
(( MAX_TOKENS <= 1048576 )) || die "MAX_TOKENS is at most 1048576 (the mock's max_completion_tokens bound)"
if [[ " $VARIANTS " == *" mimalloc"* ]]; then
  [[ -f "$MIMALLOC_SO" ]] || die "$MIMALLOC_SO missing (apt-get install libmimalloc2.0), or set VARIANTS"
fi
can_trim=0
if [[ "$TRIM" == 1 ]] && command -v gdb >/dev/null; then can_trim=1; fi

work="$(mktemp -d /tmp/sheepdog-memory.XXXXXX)"
pids=()
stop_pid() {
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  if [[ "${KEEP:-0}" == 1 ]]; then
    echo "$me: kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The environment of each variant (for the gateway only; the mock always runs on glibc).
variant_env() {
  local thresholds="glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072"
  case "$1" in
    sheepdog) ;;  # as shipped: serve sets the fixed thresholds itself (mallopt)
    glibc) echo "SHEEPDOG_MALLOC=default" ;;
    glibc-thresholds) echo "GLIBC_TUNABLES=$thresholds" ;;
    glibc-arena2) echo "GLIBC_TUNABLES=$thresholds:glibc.malloc.arena_max=2" ;;
    mimalloc) echo "SHEEPDOG_MALLOC=default LD_PRELOAD=$MIMALLOC_SO" ;;
    mimalloc-decommit0)
      echo "SHEEPDOG_MALLOC=default LD_PRELOAD=$MIMALLOC_SO MIMALLOC_DECOMMIT_DELAY=0 MIMALLOC_SEGMENT_DECOMMIT_DELAY=0" ;;
    *) die "unknown variant '$1' (sheepdog, glibc, glibc-thresholds, glibc-arena2, mimalloc, mimalloc-decommit0)" ;;
  esac
}

# status_kib PID FIELD: a /proc/PID/status field (VmRSS, VmHWM) in KiB.
status_kib() {
  local key value _
  while read -r key value _; do
    if [[ "$key" == "$2:" ]]; then
      echo "$value"
      return 0
    fi
  done <"/proc/$1/status"
  die "no $2 for pid $1 (did it exit?)"
}
# cpu_ticks PID: user + system CPU time of PID, in clock ticks (/proc/PID/stat fields 14, 15).
cpu_ticks() {
  local stat
  stat="$(<"/proc/$1/stat")"
  stat="${stat##*) }"
  awk '{ print $12 + $13 }' <<<"$stat"
}
clk_tck="$(getconf CLK_TCK)"
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
now() { date +%s.%N; }
# sleep_until T: sleep until the epoch time T (no-op if already past).
sleep_until() {
  local left
  left="$(awk -v t="$1" -v n="$(now)" 'BEGIN { d = t - n; printf "%.3f", (d > 0 ? d : 0) }')"
  sleep "$left"
}

# start_logged NAME ENV... -- COMMAND...: background process (exec'd through env, so $! is its
# pid), output to $work/NAME.log; waits up to 20 s for "listening on http://HOST:PORT" and sets
# started_pid and started_port.
start_logged() {
  local name="$1" log="$work/$1.log" envs=() line
  shift
  while [[ "$1" != -- ]]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" "$@" >"$log" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
  for _ in $(seq 200); do
    line="$(grep -o 'listening on http://[0-9.]*:[0-9]*' "$log" 2>/dev/null | head -1 || true)"
    if [[ -n "$line" ]]; then
      started_port="${line##*:}"
      return 0
    fi
    kill -0 "$started_pid" 2>/dev/null || die "$name did not start: $(tail -c 400 "$log")"
    sleep 0.1
  done
  die "$name did not say it was listening within 20 s: $(tail -c 400 "$log")"
}

cat >"$work/faults.yaml" <<'EOF'
max_completion_tokens: 1048576
EOF

# The answer length of request n (1-based), the same in every variant.
tokens_for() {
  local n="$1" h=$(( ($1 * 2654435761) % 4294967296 ))
  if (( SMALL_EVERY > 0 && n % SMALL_EVERY == 0 )); then
    echo $(( 16 + h % 16369 ))
  else
    echo $(( MIN_TOKENS + h % (MAX_TOKENS - MIN_TOKENS + 1) ))
  fi
}

# write_round FILE PORT ROUND: a curl config of CONCURRENCY requests.
write_round() {
  local file="$1" port="$2" round="$3" i n body
  : >"$file"
  for i in $(seq "$CONCURRENCY"); do
    n=$(( (round - 1) * CONCURRENCY + i ))
    (( i > 1 )) && echo next >>"$file"
    body="{\"model\":\"gpt-4o-mini\",\"max_tokens\":$(tokens_for "$n"),"
    body+="\"messages\":[{\"role\":\"user\",\"content\":\"memory $n\"}]}"
    printf '%s\n' \
      "url = \"http://127.0.0.1:$port/v1/chat/completions\"" \
      'request = "POST"' \
      'header = "content-type: application/json"' \
      'header = "authorization: Bearer sk-bench-memory"' \
      "data = \"${body//\"/\\\"}\"" \
      'output = "/dev/null"' \
      'max-time = 120' \
      'write-out = "%{http_code} %{size_download}\n"' >>"$file"
  done
}

declare -A row
run_variant() {
  local variant="$1" envs mock_pid mock_port gw_pid gw_port
  read -ra envs <<<"$(variant_env "$variant")"
  echo "== $variant: ${envs[*]:-(no environment)}" >&2

  start_logged "mock-$variant" -- "$bin" mock --host 127.0.0.1 --port 0 --threads "$MOCK_THREADS" \
    --seed 1 --latency-ms "$MOCK_LATENCY_MS" --faults "$work/faults.yaml"
  mock_pid="$started_pid"
  mock_port="$started_port"
  cat >"$work/$variant.yaml" <<EOF
server: {host: 127.0.0.1, port: 0, threads: $SHEEPDOG_THREADS}
providers:
  mock: {kind: openai, base_url: "http://127.0.0.1:$mock_port/v1"}
models:
  gpt-4o-mini:
    deployments:
      - {provider: mock, model: gpt-4o-mini}
EOF
  start_logged "gateway-$variant" "${envs[@]}" -- "$bin" serve --config "$work/$variant.yaml" \
    --port 0 --threads "$SHEEPDOG_THREADS" --log-level off
  gw_pid="$started_pid"
  gw_port="$started_port"
  if [[ "$variant" == mimalloc* ]]; then
    grep -q libmimalloc "/proc/$gw_pid/maps" || die "$variant: libmimalloc is not mapped in the gateway"
  fi

  # One small answer first, so that the baseline includes what any first request sets up.
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' -m 10 -X POST \
    "http://127.0.0.1:$gw_port/v1/chat/completions" -H 'content-type: application/json' \
    -d '{"model":"gpt-4o-mini","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}')"
  [[ "$code" == 200 ]] || die "$variant: the warm-up request got $code"
  sleep 1
  local start_kib
  start_kib="$(status_kib "$gw_pid" VmRSS)"

  local r t0 t1
  for r in $(seq "$ROUNDS"); do write_round "$work/$variant-round$r.cfg" "$gw_port" "$r"; done
  : >"$work/$variant-codes.txt"
  local cpu0 cpu1
  cpu0="$(cpu_ticks "$gw_pid")"
  t0="$(now)"
  for r in $(seq "$ROUNDS"); do
    curl -s --no-progress-meter --parallel --parallel-immediate --parallel-max "$CONCURRENCY" \
      -K "$work/$variant-round$r.cfg" >>"$work/$variant-codes.txt" || true
  done
  t1="$(now)"
  cpu1="$(cpu_ticks "$gw_pid")"
  local peak_kib
  peak_kib="$(status_kib "$gw_pid" VmHWM)"

  sleep_until "$(awk -v t="$t1" 'BEGIN { printf "%.3f", t + 2 }')"
  local after2_kib after10_kib trim_kib="-"
  after2_kib="$(status_kib "$gw_pid" VmRSS)"
  sleep_until "$(awk -v t="$t1" 'BEGIN { printf "%.3f", t + 10 }')"
  after10_kib="$(status_kib "$gw_pid" VmRSS)"
  peak_kib="$(status_kib "$gw_pid" VmHWM)"
  if (( can_trim )) && [[ "$variant" == glibc* || "$variant" == sheepdog ]]; then
    timeout 60 gdb -p "$gw_pid" -batch -nx -ex 'call (int) malloc_trim(0)' \
      >"$work/$variant-trim.log" 2>&1 || true
    sleep 0.5
    trim_kib="$(status_kib "$gw_pid" VmRSS)"
  fi

  local ok total mb
  ok="$(awk '$1 == 200' "$work/$variant-codes.txt" | wc -l)"
  total="$(wc -l <"$work/$variant-codes.txt")"
  mb="$(awk '{ b += $2 } END { printf "%.0f", b / 1e6 }' "$work/$variant-codes.txt")"
  local others
  others="$(awk '$1 != 200 { c[$1]++ } END { for (k in c) { printf "%s%s x%d", sep, k, c[k]; sep = ", " } }' \
    "$work/$variant-codes.txt")"

  row[$variant]="$(awk -v v="$variant" -v s="$start_kib" -v p="$peak_kib" -v a2="$after2_kib" \
    -v a10="$after10_kib" -v tr="$trim_kib" -v t0="$t0" -v t1="$t1" -v ok="$ok" -v n="$total" \
    -v mb="$mb" -v cpu="$(( cpu1 - cpu0 ))" -v hz="$clk_tck" 'BEGIN {
      ret = (p - s > 0) ? sprintf("%.2f", (p - a10) / (p - s)) : "-"
      trm = (tr == "-") ? "-" : sprintf("%.1f", tr / 1024)
      printf "| %s | %.1f | %.1f | %.1f | %.1f | %s | %s | %.2f | %.2f | %s / %s | %s |", v, s / 1024,
        p / 1024, a2 / 1024, a10 / 1024, ret, trm, t1 - t0, cpu / hz, ok, n, mb
    }')"
  echo "  start $(mib "$start_kib") MiB, peak $(mib "$peak_kib"), +2 s $(mib "$after2_kib")," \
    "+10 s $(mib "$after10_kib"), after trim ${trim_kib} KiB; ${ok}/${total} ok${others:+ ($others)}" >&2

  stop_pid "$gw_pid"
  stop_pid "$mock_pid"
}

for variant in $VARIANTS; do
  variant_env "$variant" >/dev/null
done
for variant in $VARIANTS; do
  run_variant "$variant"
done

echo
echo "### sheepdog serve RSS around a burst of large non-streamed answers (MiB)"
echo
echo "$ROUNDS rounds of $CONCURRENCY concurrent chat completions through the gateway" \
  "(threads $SHEEPDOG_THREADS), answers of $((MIN_TOKENS * 4 / 1048576))-$((MAX_TOKENS * 4 / 1048576)) MiB" \
  "$( (( SMALL_EVERY > 0 )) && echo "(every ${SMALL_EVERY}th one small)")" \
  "from \`sheepdog mock\` (threads $MOCK_THREADS, latency $MOCK_LATENCY_MS ms)." \
  "peak = VmHWM; returned = (peak - after 10 s) / (peak - start);" \
  "after trim = VmRSS after malloc_trim(0) via gdb, after the 10 s sample (glibc only);" \
  "burst_s = wall time of the rounds, gateway_cpu_s = the gateway's user + system CPU time during them."
echo
printf '| %s ' variant rss_start_mb rss_peak_mb rss_after_2s_mb rss_after_10s_mb returned_at_10s \
  rss_after_trim_mb burst_s gateway_cpu_s ok "MB through"
echo "|"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for variant in $VARIANTS; do
  echo "${row[$variant]}"
done
