#!/usr/bin/env bash
# Load benchmark, run by hand (not a test): the same wrk load (one thread, a 200-byte chat POST,
# bench/load/chat.lua) straight to `sheepdog mock`, through sheepdog, through nginx as a plain
# reverse proxy (2 workers, upstream keepalive) and through Portkey's gateway (npm
# @portkey-ai/gateway), all in front of the same mock; then sheepdog's memory with 1,000
# concurrent slow streams. Prints markdown tables; every process it starts is stopped on exit.
#
# Usage: bench/load/run.sh [path/to/sheepdog]      (default build/release/bin/sheepdog)
# Environment: DURATION (10s), LEVELS ("1 32 128": wrk connections), LEGS ("direct sheepdog
#   nginx portkey"), STREAMS (1000), MOCK_THREADS (1), SHEEPDOG_THREADS (2), SHEEPDOG_LOG_LEVEL
#   (info: one JSON line per attempt and per request, to a log file), UPSTREAM (mock, or nginx:
#   a fixed completion from nginx, as in the peer figures), KEEP=1 keeps the work directory
#   (configs, logs, raw wrk output).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${1:-${SHEEPDOG_BIN:-$root/build/release/bin/sheepdog}}"
DURATION="${DURATION:-10s}"
LEVELS="${LEVELS:-1 32 128}"
LEGS="${LEGS:-direct sheepdog nginx portkey}"
STREAMS="${STREAMS:-1000}"
MOCK_THREADS="${MOCK_THREADS:-1}"
UPSTREAM="${UPSTREAM:-mock}"
SHEEPDOG_THREADS="${SHEEPDOG_THREADS:-2}"
SHEEPDOG_LOG_LEVEL="${SHEEPDOG_LOG_LEVEL:-info}"
portkey_js="$root/node_modules/@portkey-ai/gateway/build/start-server.js"

for tool in wrk nginx node curl; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (scripts/bootstrap)" >&2; exit 1; }
done
[[ -x "$bin" ]] || { echo "run.sh: no sheepdog binary at $bin" >&2; exit 1; }

work="$(mktemp -d /tmp/sheepdog-load.XXXXXX)"
chmod 755 "$work"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ "${KEEP:-0}" == 1 ]]; then
    echo "run.sh: kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_http URL [expected status prefix]: up to 20 s.
wait_http() {
  local code
  for _ in $(seq 200); do
    code="$(curl -s -o /dev/null -w '%{http_code}' -m 1 "$1" || true)"
    if [[ "$code" == ${2:-2}* ]]; then
      return 0
    fi
    sleep 0.1
  done
  echo "run.sh: $1 not ready (last status $code)" >&2
  return 1
}

# start NAME COMMAND...: background process, output to $work/NAME.log, pid remembered.
start() {
  local name="$1"
  shift
  "$@" >"$work/$name.log" 2>&1 &
  pids+=("$!")
  eval "${name}_pid=$!"
}

rss_mib() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

# The upstream. UPSTREAM=mock: `sheepdog mock` with no faults, no latency, no pacing (its
# defaults), answers of 16 tokens. UPSTREAM=nginx: nginx (1 worker) returning a fixed completion,
# the upstream of the peer figures in shared/NOTES.md.
mock_port="$(free_port)"
if [[ "$UPSTREAM" == nginx ]]; then
  mkdir -p "$work/fixed"
  chmod 777 "$work/fixed"
  cat >"$work/fixed.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/fixed/nginx.pid;
error_log $work/fixed/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/fixed/body;
  proxy_temp_path $work/fixed/proxy;
  fastcgi_temp_path $work/fixed/fastcgi;
  uwsgi_temp_path $work/fixed/uwsgi;
  scgi_temp_path $work/fixed/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$mock_port;
    location / {
      default_type application/json;
      return 200 '{"id":"chatcmpl-fixed","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Lorem ipsum dolor sit amet, consectetur adipiscing elit sed do eiusmod."},"finish_reason":"stop"}],"usage":{"prompt_tokens":40,"completion_tokens":16,"total_tokens":56}}';
    }
  }
}
EOF
  start mock nginx -p "$work/fixed" -c "$work/fixed.conf"
  wait_http "http://127.0.0.1:$mock_port/"
else
  start mock "$bin" mock --host 127.0.0.1 --port "$mock_port" --threads "$MOCK_THREADS" --seed 1
  wait_http "http://127.0.0.1:$mock_port/_mock/stats"
fi
upstream="http://127.0.0.1:$mock_port/v1"

sheepdog_port="$(free_port)"
start sheepdog "$bin" serve --host 127.0.0.1 --port "$sheepdog_port" \
  --threads "$SHEEPDOG_THREADS" --log-level "$SHEEPDOG_LOG_LEVEL" --upstream "$upstream"
wait_http "http://127.0.0.1:$sheepdog_port/health"

nginx_port="$(free_port)"
mkdir -p "$work/nginx"
chmod 777 "$work/nginx"
cat >"$work/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  upstream mock {
    server 127.0.0.1:$mock_port;
    keepalive 256;
  }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
start nginx nginx -p "$work/nginx" -c "$work/nginx.conf"
wait_http "http://127.0.0.1:$nginx_port/v1/models"

portkey_port=""
if [[ " $LEGS " == *" portkey "* ]]; then
  [[ -f "$portkey_js" ]] || { echo "run.sh: $portkey_js missing (scripts/bootstrap)" >&2; exit 1; }
  portkey_port="$(free_port)"
  start portkey node "$portkey_js" --port="$portkey_port" --headless
  wait_http "http://127.0.0.1:$portkey_port/" 2
fi
portkey_headers="x-portkey-provider: openai;x-portkey-custom-host: $upstream"

# A chat request through each leg first: every leg must answer 200 before it is measured.
check_leg() {
  local url="$1" extra=()
  if [[ -n "${2:-}" ]]; then
    IFS=';' read -ra hs <<<"$2"
    for h in "${hs[@]}"; do extra+=(-H "$h"); done
  fi
  local code
  code="$(curl -s -o "$work/check.json" -w '%{http_code}' -m 10 -X POST "$url" \
    -H 'content-type: application/json' -H 'authorization: Bearer sk-bench-0000000000000000' \
    "${extra[@]}" -d '{"model":"gpt-4o-mini","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}')"
  if [[ "$code" != 200 ]]; then
    echo "run.sh: $url answered $code: $(head -c 300 "$work/check.json")" >&2
    return 1
  fi
}

leg_url() {
  case "$1" in
    direct) echo "http://127.0.0.1:$mock_port/v1/chat/completions" ;;
    sheepdog) echo "http://127.0.0.1:$sheepdog_port/v1/chat/completions" ;;
    nginx) echo "http://127.0.0.1:$nginx_port/v1/chat/completions" ;;
    portkey) echo "http://127.0.0.1:$portkey_port/v1/chat/completions" ;;
  esac
}
leg_headers() { [[ "$1" == portkey ]] && echo "$portkey_headers" || echo ""; }

# wrk's latency figures ("210.00us", "1.23ms", "1.02s") in microseconds.
to_us() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) m = 1; else if (v ~ /ms$/) m = 1000; else if (v ~ /s$/) m = 1000000; else m = 1
    printf "%.1f", n * m
  }'
}

declare -A rps p50 p99 errs
run_wrk() {
  local leg="$1" conns="$2" url headers out
  url="$(leg_url "$leg")"
  headers="$(leg_headers "$leg")"
  out="$work/wrk-$leg-c$conns.txt"
  # Warm-up (JIT, pools, page faults), then the measured run.
  WRK_HEADERS="$headers" wrk -t1 -c"$conns" -d2s -s "$root/bench/load/chat.lua" "$url" >/dev/null
  WRK_HEADERS="$headers" wrk -t1 -c"$conns" -d"$DURATION" --latency -s "$root/bench/load/chat.lua" \
    "$url" >"$out"
  rps[$leg,$conns]="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")"
  p50[$leg,$conns]="$(to_us "$(awk '$1 == "50%" {print $2}' "$out")")"
  p99[$leg,$conns]="$(to_us "$(awk '$1 == "99%" {print $2}' "$out")")"
  local non2xx socket
  non2xx="$(awk '/Non-2xx/ {print $NF}' "$out")"
  socket="$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$out")"
  errs[$leg,$conns]=$(( ${non2xx:-0} + ${socket:-0} ))
  echo "  $leg c=$conns: ${rps[$leg,$conns]} req/s, p50 ${p50[$leg,$conns]} us, p99 ${p99[$leg,$conns]} us, errors ${errs[$leg,$conns]}" >&2
}

for leg in $LEGS; do
  check_leg "$(leg_url "$leg")" "$(leg_headers "$leg")"
done

echo "== wrk -t1, ${DURATION} per run, levels: $LEVELS" >&2
for conns in $LEVELS; do
  for leg in $LEGS; do
    run_wrk "$leg" "$conns"
  done
done

sheepdog_rss_after_load="$(rss_mib "$sheepdog_pid")"
overhead_lines="$(curl -s -m 5 "http://127.0.0.1:$sheepdog_port/metrics" | grep -i 'overhead' | grep -v '^#' | grep -E '_(sum|count)' || true)"

fmt_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
fmt_added() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "") printf "%+.0f", a - b; else print "-" }'; }

echo
echo "### Throughput and latency (wrk -t1, ${DURATION}, 200-byte chat POST; latencies in us)"
echo
echo "| leg | conns | req/s | p50 | p99 | added p50 vs direct | added p99 vs direct | errors |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for conns in $LEVELS; do
  for leg in $LEGS; do
    added50="-"
    added99="-"
    if [[ "$leg" != direct && " $LEGS " == *" direct "* ]]; then
      added50="$(fmt_added "${p50[$leg,$conns]}" "${p50[direct,$conns]}")"
      added99="$(fmt_added "${p99[$leg,$conns]}" "${p99[direct,$conns]}")"
    fi
    echo "| $leg | $conns | ${rps[$leg,$conns]} | ${p50[$leg,$conns]} | ${p99[$leg,$conns]} | $added50 | $added99 | ${errs[$leg,$conns]} |"
  done
done

if [[ " $LEGS " == *" sheepdog "* ]]; then
  echo
  echo "### sheepdog against the targets"
  echo
  echo "| conns | sheepdog / nginx req/s (target >= 0.8x) | sheepdog / Portkey req/s (target >= 10x) | added p50 (target < 25 us) |"
  echo "|---:|---:|---:|---:|"
  for conns in $LEVELS; do
    vs_nginx="-"
    vs_portkey="-"
    [[ " $LEGS " == *" nginx "* ]] && vs_nginx="$(fmt_ratio "${rps[sheepdog,$conns]}" "${rps[nginx,$conns]}")"
    [[ " $LEGS " == *" portkey "* ]] && vs_portkey="$(fmt_ratio "${rps[sheepdog,$conns]}" "${rps[portkey,$conns]}")"
    added="-"
    [[ " $LEGS " == *" direct "* ]] && added="$(fmt_added "${p50[sheepdog,$conns]}" "${p50[direct,$conns]}") us"
    echo "| $conns | $vs_nginx | $vs_portkey | $added |"
  done
  if [[ -n "$overhead_lines" ]]; then
    echo
    echo "sheepdog's own overhead histogram after the runs (/metrics):"
    echo '```'
    echo "$overhead_lines"
    echo '```'
  fi
fi

# Memory with STREAMS concurrent streams: fresh mocks streaming slowly (4 tokens/s, 40 tokens:
# about 10 s per stream) and a fresh sheepdog in front of them. The gateway's upstream pool
# holds at most 64 connections per origin per io thread (src/upstream/connection_pool.h, not
# configurable), so the streams are spread by weight over STREAM_MOCKS mocks (default 12, about
# 83 streams each) to keep every stream open at once.
if [[ " $LEGS " == *" sheepdog "* && "$STREAMS" -gt 0 ]]; then
  cat >"$work/slow.yaml" <<EOF
default:
  tokens_per_second: 4
EOF
  {
    echo "server: {host: 127.0.0.1, port: 0, threads: $SHEEPDOG_THREADS}"
    echo "providers:"
    for i in $(seq "${STREAM_MOCKS:-12}"); do
      slow_port="$(free_port)"
      start "slowmock$i" "$bin" mock --host 127.0.0.1 --port "$slow_port" --threads "$MOCK_THREADS" \
        --faults "$work/slow.yaml"
      wait_http "http://127.0.0.1:$slow_port/_mock/stats" >&2
      echo "  slow$i: {kind: openai, base_url: http://127.0.0.1:$slow_port/v1}"
    done
    echo "models:"
    echo "  gpt-4o-mini:"
    echo "    deployments:"
    for i in $(seq "${STREAM_MOCKS:-12}"); do
      echo "      - {provider: slow$i, model: gpt-4o-mini}"
    done
  } >"$work/streams.yaml"
  gw_port="$(free_port)"
  start gw2 "$bin" serve --config "$work/streams.yaml" --port "$gw_port" \
    --log-level "$SHEEPDOG_LOG_LEVEL"
  wait_http "http://127.0.0.1:$gw_port/health"
  echo "== $STREAMS concurrent streams through sheepdog (pid $gw2_pid)" >&2
  streams_json="$(node "$root/bench/load/streams.mjs" --url "http://127.0.0.1:$gw_port" \
    --pid "$gw2_pid" --streams "$STREAMS" --max-tokens 40)"
  echo "  $streams_json" >&2
  echo
  echo "### sheepdog memory, $STREAMS concurrent streams (mocks at 4 tokens/s, 40 tokens each)"
  echo
  node -e '
    const r = JSON.parse(process.argv[1]);
    console.log("| idle RSS MiB | RSS with all streams open MiB | RSS after MiB | peak RSS MiB | streams open at sample | completed with [DONE] | failed |");
    console.log("|---:|---:|---:|---:|---:|---:|---:|");
    console.log(`| ${r.rss_mib_before} | ${r.rss_mib_during} | ${r.rss_mib_after} | ${r.peak_rss_mib} | ${r.open_at_sample} / ${r.streams} | ${r.completed_with_done} | ${r.failed} |`);
  ' "$streams_json"
  echo
  echo "sheepdog (benchmark instance) RSS after the wrk runs: $sheepdog_rss_after_load MiB"
fi
