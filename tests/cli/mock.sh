#!/usr/bin/env bash
# `sheepdog mock` the way a user runs it: start it on a free port, curl a completion, read the
# stats, stop it with SIGTERM (exit 0); bad flags and bad config files exit 2 with one line.
# Usage: mock.sh /path/to/sheepdog
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]]; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "mock.sh: $*" >&2; exit 1; }

"$bin" mock --port 0 --seed 3 >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 100); do  # up to 10 s for the ready line
  grep -q 'http://' "$tmp/out" && break
  kill -0 "$pid" 2>/dev/null || fail "mock exited early: $(cat "$tmp/err")"
  sleep 0.1
done
url=$(grep -o 'http://[^ ]*' "$tmp/out" | head -n1)
[[ -n $url ]] || fail "no ready line: $(cat "$tmp/out")"
[[ $(wc -l <"$tmp/out") -eq 1 ]] || fail "expected one ready line, got: $(cat "$tmp/out")"

curl -sS --max-time 10 "$url/v1/chat/completions" \
  -H 'Authorization: Bearer sk-test-abcdefgh1234' -H 'Content-Type: application/json' \
  -d '{"model":"gpt-4o-mini","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}' \
  >"$tmp/completion"
grep -q '"object":"chat.completion"' "$tmp/completion" || fail "bad completion: $(cat "$tmp/completion")"
grep -q '"completion_tokens":5' "$tmp/completion" || fail "bad usage: $(cat "$tmp/completion")"

curl -sS --max-time 10 -N "$url/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}' \
  >"$tmp/stream"
[[ $(tail -n2 "$tmp/stream" | head -n1) == 'data: [DONE]' ]] || fail "stream without [DONE]"

curl -sS --max-time 10 "$url/_mock/stats" >"$tmp/stats"
grep -q '"total":2' "$tmp/stats" || fail "bad stats: $(cat "$tmp/stats")"
grep -q '"sk-t...1234":1' "$tmp/stats" || fail "key not counted: $(cat "$tmp/stats")"

kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
pid=
[[ $rc -eq 0 ]] || fail "exit code $rc after SIGTERM, expected 0: $(cat "$tmp/err")"

# Bad input: exit 2 and one line naming the problem.
expect_usage_error() {
  set +e
  "$@" >"$tmp/bad_out" 2>"$tmp/bad_err"
  local code=$?
  set -e
  [[ $code -eq 2 ]] || fail "'$*' exited $code, expected 2: $(cat "$tmp/bad_err")"
  [[ $(wc -l <"$tmp/bad_err") -eq 1 ]] || fail "'$*' printed more than one line: $(cat "$tmp/bad_err")"
}
expect_usage_error "$bin" mock --fault-rate 2
grep -q -- '--fault-rate' "$tmp/bad_err" || fail "message does not name the flag: $(cat "$tmp/bad_err")"
expect_usage_error "$bin" mock --port http
printf 'default:\n  faults:\n    hnag: 0.5\n' >"$tmp/faults.yaml"
expect_usage_error "$bin" mock --faults "$tmp/faults.yaml"
grep -q "faults.yaml:3:5: default.faults.hnag: unknown fault; did you mean 'hang'" "$tmp/bad_err" ||
  fail "message does not point at the line: $(cat "$tmp/bad_err")"
echo "mock.sh: ok"
