#!/usr/bin/env bash
# `sheepdog serve --upstream` the way a user runs it (issue 10): the start-up lines say which
# upstream gets the client's own key (the first only, by default), which its own --api-key
# (the --upstream before it) and which nothing; --forward-client-key extends the client's key
# to every upstream without one; misplaced key flags exit 2 with one line.
# Usage: quick_start.sh /path/to/sheepdog
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]]; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "quick_start.sh: $*" >&2; exit 1; }

# Starts serve with the given flags, waits for the listening line, stops it with SIGTERM.
run_serve() {
  "$bin" serve --port 0 --log-level off "$@" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  for _ in $(seq 1 100); do  # up to 10 s for the listening line
    grep -q 'listening on' "$tmp/out" && break
    kill -0 "$pid" 2>/dev/null || fail "serve exited early: $(cat "$tmp/err")"
    sleep 0.1
  done
  grep -q 'listening on' "$tmp/out" || fail "no listening line: $(cat "$tmp/out")"
  kill -TERM "$pid"
  wait "$pid" || fail "serve exited $? after SIGTERM"
  pid=
}
expect_line() {
  grep -qF -- "$1" "$tmp/out" || fail "missing line '$1' in: $(cat "$tmp/out")"
}

# The README's pairing: api.openai.com first, a local server as failover.
a=http://127.0.0.1:9/v1
b=http://127.0.0.1:10/v1
c=http://127.0.0.1:11/v1
run_serve --upstream "$a" --upstream "$b"
expect_line "upstream 1 $a: the client's own Authorization header"
expect_line "upstream 2 $b: no Authorization header"

run_serve --upstream "$a" --upstream "$b" --api-key sk-local-key --upstream "$c"
expect_line "upstream 1 $a: the client's own Authorization header"
expect_line "upstream 2 $b: its --api-key (never the client's key)"
expect_line "upstream 3 $c: no Authorization header"

run_serve --forward-client-key --upstream "$a" --upstream "$b" --api-key sk-local-key --upstream "$c"
expect_line "upstream 1 $a: the client's own Authorization header"
expect_line "upstream 2 $b: its --api-key (never the client's key)"
expect_line "upstream 3 $c: the client's own Authorization header"

# One --api-key before the first --upstream: every upstream's key, nothing forwarded.
run_serve --api-key sk-every --upstream "$a" --upstream "$b"
expect_line "upstream 1 $a: its --api-key"
expect_line "upstream 2 $b: its --api-key"
if grep -q "sk-every\|sk-local-key" "$tmp/out" "$tmp/err"; then
  fail "a key was printed: $(cat "$tmp/out" "$tmp/err")"
fi

expect_usage_error() {
  set +e
  "$bin" "$@" >"$tmp/bad_out" 2>"$tmp/bad_err"
  local code=$?
  set -e
  [[ $code -eq 2 ]] || fail "'$*' exited $code, expected 2: $(cat "$tmp/bad_err")"
  [[ $(wc -l <"$tmp/bad_err") -eq 1 ]] || fail "'$*' printed more than one line: $(cat "$tmp/bad_err")"
}
expect_usage_error serve --upstream "$a" --api-key k1 --api-key k2 --port 0
grep -q "two --api-key after --upstream" "$tmp/bad_err" || fail "unexpected: $(cat "$tmp/bad_err")"
expect_usage_error serve --demo --api-key k1 --port 0
grep -q "put it after the --upstream" "$tmp/bad_err" || fail "unexpected: $(cat "$tmp/bad_err")"
expect_usage_error serve --demo --forward-client-key --port 0
echo "quick_start.sh: ok"
