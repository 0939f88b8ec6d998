#!/usr/bin/env bash
# SIGHUP the way an operator sends it (`kill -HUP`): `sheepdog serve --config` reloads its file
# (a new model is listed at once); a broken file leaves the running configuration in place,
# with its errors on stderr; the process keeps serving either way and still stops cleanly on
# SIGTERM. `sheepdog mock` and the quick start log the SIGHUP and ignore it (the default
# action would have ended them).
# Usage: reload.sh /path/to/sheepdog
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "reload.sh: $*" >&2; exit 1; }

# wait_for FILE PATTERN PID: up to 10 s for PATTERN in FILE while PID lives.
wait_for() {
  for _ in $(seq 1 100); do
    grep -qF -- "$2" "$1" && return 0
    kill -0 "$3" 2>/dev/null || fail "process exited early: $(cat "$tmp"/*.err)"
    sleep 0.1
  done
  fail "no '$2' in $1: $(cat "$1")"
}
models() { curl -sS --max-time 10 "$url/v1/models"; }

write_config() {  # write_config MODEL...
  {
    echo "providers:"
    echo "  local: {kind: openai, base_url: \"http://127.0.0.1:9/v1\"}"
    echo "models:"
    for m in "$@"; do echo "  $m: {deployments: [{provider: local, model: gpt-4o}]}"; done
  } >"$tmp/sheepdog.yaml"
}

# 1. serve --config: a new model after SIGHUP.
write_config first
"$bin" serve --config "$tmp/sheepdog.yaml" --port 0 --log-level off >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
pids+=("$pid")
wait_for "$tmp/serve.out" "listening on" "$pid"
url=$(grep -o 'http://[^ ]*' "$tmp/serve.out" | head -n1)
models | grep -q '"first"' || fail "first model not listed: $(models)"

write_config first second
kill -HUP "$pid"
wait_for "$tmp/serve.out" "reloaded $tmp/sheepdog.yaml (2 models)" "$pid"
models | grep -q '"second"' || fail "second model not listed after SIGHUP: $(models)"

# 2. A broken file: errors with their lines, the running configuration stays.
printf 'models:\n  third: {deployments: [{provider: nowhere, model: x}]}\n' >"$tmp/sheepdog.yaml"
kill -HUP "$pid"
wait_for "$tmp/serve.err" "reload of $tmp/sheepdog.yaml failed; still serving the previous configuration" "$pid"
grep -q "sheepdog.yaml:2:" "$tmp/serve.err" || fail "no line-numbered error: $(cat "$tmp/serve.err")"
models | grep -q '"second"' || fail "the previous configuration was lost: $(models)"
models | grep -q '"third"' && fail "the broken file was applied: $(models)"

kill -TERM "$pid"
wait "$pid" || fail "serve exited $? after SIGTERM"
pids=()

# 3. The mock ignores SIGHUP, with a line saying so.
"$bin" mock --port 0 >"$tmp/mock.out" 2>"$tmp/mock.err" &
pid=$!
pids+=("$pid")
wait_for "$tmp/mock.out" "http://" "$pid"
kill -HUP "$pid"
wait_for "$tmp/mock.err" "SIGHUP ignored" "$pid"
kill -0 "$pid" || fail "mock ended on SIGHUP"
kill -TERM "$pid"
wait "$pid" || fail "mock exited $? after SIGTERM"
pids=()

# 4. The quick start has no file to reload: ignored, with a line.
"$bin" serve --upstream http://127.0.0.1:9/v1 --port 0 --log-level off >"$tmp/quick.out" 2>"$tmp/quick.err" &
pid=$!
pids+=("$pid")
wait_for "$tmp/quick.out" "listening on" "$pid"
kill -HUP "$pid"
wait_for "$tmp/quick.out" "SIGHUP ignored (no --config file to reload)" "$pid"
kill -TERM "$pid"
wait "$pid" || fail "quick start exited $? after SIGTERM"
pids=()
echo "reload.sh: ok"
