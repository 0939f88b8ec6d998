// Micro benchmarks for the per-attempt resilience hot spots: a backoff delay, classifying a
// response, parsing pushback headers. All should be far below a microsecond.
#include <benchmark/benchmark.h>

#include <string>

#include "resilience/backoff.h"
#include "resilience/outcome.h"
#include "resilience/pushback.h"

namespace sheepdog {
namespace {

void BM_NextDelay(benchmark::State& state) {
  BackoffPolicy policy;
  policy.kind = static_cast<BackoffKind>(state.range(0));
  policy.jitter = JitterMode::kFull;
  SeededRandom random(42);
  Backoff backoff(policy, random);
  for (auto _ : state) {
    if (backoff.retries() >= 10) {
      backoff.reset();
    }
    benchmark::DoNotOptimize(backoff.next_delay());
  }
  state.SetLabel(std::string(to_string(policy.kind)));
}
BENCHMARK(BM_NextDelay)->DenseRange(0, 4);

void BM_Classify(benchmark::State& state) {
  // A 429 without a quota hint: the whole body is scanned for every quota needle.
  const std::string body =
      R"({"error":{"message":"Rate limit reached for gpt-4o in organization org-abc on )"
      R"(tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in )"
      R"(2s.","type":"tokens","param":null,"code":"rate_limit_exceeded"}})";
  AttemptResponse response;
  response.http_status = state.range(0);
  response.body = body;
  for (auto _ : state) {
    benchmark::DoNotOptimize(classify(response));
  }
}
BENCHMARK(BM_Classify)->Arg(200)->Arg(429)->Arg(400)->Arg(503);

void BM_ParsePushback(benchmark::State& state) {
  const WallTime now = WallTime{} + seconds(784111777 - 30);
  PushbackHeaders headers;
  switch (state.range(0)) {
    case 0:
      headers.retry_after = "120";
      break;
    case 1:
      headers.retry_after = "Sun, 06 Nov 1994 08:49:37 GMT";
      break;
    default:
      headers.ratelimit_reset_requests = "1m6.5s";
      headers.ratelimit_reset_tokens = "20ms";
      break;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(parse_pushback(headers, now));
  }
  state.SetLabel(state.range(0) == 0 ? "delta" : state.range(0) == 1 ? "http_date" : "reset");
}
BENCHMARK(BM_ParsePushback)->DenseRange(0, 2);

}  // namespace
}  // namespace sheepdog
