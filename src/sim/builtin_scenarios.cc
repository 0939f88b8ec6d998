// The named built-in scenarios. Every number here is an assumption, and each one is written
// down in the scenario's `assumptions` so that `simulate --describe NAME` shows it. None was
// tuned to reproduce anyone's published figures.
#include <functional>
#include <map>

#include "sim/scenario.h"

namespace sheepdog::sim {
namespace {

// Shared pricing assumption: 1,000 prompt + 250 completion tokens per request.
constexpr double kInputTokens = 1000;
constexpr double kOutputTokens = 250;

UpstreamModel primary_provider() {
  UpstreamModel u;
  u.name = "primary";
  u.capacity = 256;
  u.queue_limit = 256;
  u.latency_median = milliseconds(800);
  u.latency_p99 = seconds(4);
  u.error_latency = milliseconds(100);
  u.retry_after = seconds(1);
  u.cost_per_attempt_usd = token_cost_usd(kInputTokens, kOutputTokens, 2.50, 10.0);
  return u;
}

UpstreamModel fallback_provider() {
  UpstreamModel u = primary_provider();
  u.name = "fallback";
  u.latency_median = milliseconds(1000);
  u.latency_p99 = seconds(5);
  u.cost_per_attempt_usd = token_cost_usd(kInputTokens, kOutputTokens, 3.00, 15.0);
  return u;
}

const std::vector<std::string> kCommonAssumptions = {
    "Cost: 1,000 prompt + 250 completion tokens per attempt; primary $2.50 / $10 per million "
    "tokens ($0.005 per served attempt), fallback $3 / $15 ($0.00675). Only attempts the "
    "provider served are charged, including those whose client had already timed out.",
    "Fast failures (429, 500, 503, connect failed) come back after 100 ms; a hang never answers "
    "and ends at the attempt timeout.",
    "Every 429 carries Retry-After: 1 s.",
    "The fallback provider is slower (median 1 s, p99 5 s) and dearer than the primary.",
};

Scenario mixed_faults_10k() {
  Scenario s;
  s.name = "mixed-faults-10k";
  s.summary =
      "10,000 requests with artificial failures: 10% transient faults of a mixed kind plus three "
      "short brownouts";
  s.requests = 10000;
  s.client.mode = ClientMode::kOpenLoop;
  s.client.rate_per_second = 50;
  s.client.deadline = seconds(30);
  UpstreamModel p = primary_provider();
  p.fault_rate = 0.10;
  p.fault_mix =
      FaultMix{.server_error = 0.30, .overloaded = 0.25, .rate_limited = 0.30, .hang = 0.15};
  p.brownouts = {{seconds(40), seconds(50), 0.5},
                 {seconds(100), seconds(110), 0.5},
                 {seconds(160), seconds(170), 0.5}};
  UpstreamModel f = fallback_provider();
  f.fault_rate = 0.10;
  f.fault_mix = p.fault_mix;
  s.upstreams = {p, f};
  s.assumptions = {
      "Reproduces only the stated setting of a widely quoted comparison of retry strategies "
      "(\"10,000 requests with artificial failures\"); that source gives no further detail, so "
      "everything below is our choice, and nothing was tuned to match its numbers.",
      "10,000 requests, open loop: Poisson arrivals at 50 requests/s (about 200 s of traffic).",
      "Request deadline 30 s; the attempt timeout is each strategy's (10 s for the built-ins).",
      "Transient fault rate 10% of attempts, independent of load and of each other.",
      "Fault mix, as seen from LLM APIs: 30% HTTP 429 (with Retry-After), 30% HTTP 500, 25% HTTP "
      "503, 15% hangs (no answer until the attempt timeout).",
      "Three 10 s brownouts at 40 s, 100 s and 160 s during which the primary's fault rate is "
      "50% (same mix).",
      "Capacity is not the bottleneck: 256 concurrent + 256 queued per provider, against about "
      "50 in service on average.",
      "Service time lognormal with median 800 ms and p99 4 s (a chat completion of a few hundred "
      "tokens).",
      "The fallback provider has the same independent 10% fault rate and mix, but no brownouts.",
  };
  s.assumptions.insert(s.assumptions.end(), kCommonAssumptions.begin(), kCommonAssumptions.end());
  return s;
}

Scenario outage() {
  Scenario s;
  s.name = "outage";
  s.summary = "the primary is hard down (connections time out) from 30 s to 60 s; fallback healthy";
  s.requests = 10000;
  s.client.rate_per_second = 100;
  s.client.deadline = seconds(30);
  UpstreamModel p = primary_provider();
  p.capacity = 400;
  p.queue_limit = 200;
  p.fault_rate = 0.01;
  p.outages = {{seconds(30), seconds(60), HardDownMode::kConnectFailed, seconds(5)}};
  UpstreamModel f = fallback_provider();
  f.capacity = 400;
  f.queue_limit = 200;
  f.fault_rate = 0.01;
  s.upstreams = {p, f};
  s.assumptions = {
      "10,000 requests, open loop: Poisson arrivals at 100 requests/s (about 100 s).",
      "From 30 s to 60 s the primary's address black-holes connections: every attempt fails "
      "with connect_failed at a 5 s connect timeout (the OpenAI SDKs' default). It is fully "
      "healthy again at 60 s. (With fail_after_ms: 100, i.e. refused at once, plain retries fail "
      "fast too and the breaker's advantage is in success rate only.)",
      "Outside the outage both providers fail 1% of attempts (500 40%, 503 40%, hang 20%).",
      "Capacity 400 concurrent + 200 queued per provider, about 3x the average load.",
      "Request deadline 30 s; the attempt timeout is each strategy's (10 s for the built-ins).",
  };
  s.assumptions.insert(s.assumptions.end(), kCommonAssumptions.begin(), kCommonAssumptions.end());
  return s;
}

Scenario rate_limit_storm() {
  Scenario s;
  s.name = "rate-limit-storm";
  s.summary = "offered load 1.5x the primary's capacity: 429 + Retry-After, retries amplify";
  s.requests = 10000;
  s.client.rate_per_second = 60;
  s.client.deadline = seconds(30);
  UpstreamModel p = primary_provider();
  p.capacity = 40;
  p.queue_limit = 40;
  UpstreamModel f = fallback_provider();
  f.capacity = 20;
  f.queue_limit = 20;
  s.upstreams = {p, f};
  s.assumptions = {
      "10,000 requests, open loop: Poisson arrivals at 60 requests/s (about 170 s).",
      "The primary serves 40 requests at once and queues 40 more; with a mean service time of "
      "about 1 s it completes about 40 requests/s, so the offered load is 1.5x its capacity "
      "before any retry.",
      "Beyond the queue every attempt gets 429 with Retry-After: 1 s after 100 ms. Queueing "
      "time counts against the attempt timeout, and abandoned attempts are still served.",
      "No injected faults: every failure comes from overload.",
      "The fallback provider is smaller: 20 concurrent + 20 queued.",
      "Request deadline 30 s; the attempt timeout is each strategy's (10 s for the built-ins).",
  };
  s.assumptions.insert(s.assumptions.end(), kCommonAssumptions.begin(), kCommonAssumptions.end());
  return s;
}

Scenario flaky() {
  Scenario s;
  s.name = "flaky";
  s.summary = "the primary fails 30% of attempts at random; the fallback 2%";
  s.requests = 10000;
  s.client.rate_per_second = 50;
  s.client.deadline = seconds(30);
  UpstreamModel p = primary_provider();
  p.fault_rate = 0.30;
  UpstreamModel f = fallback_provider();
  f.fault_rate = 0.02;
  s.upstreams = {p, f};
  s.assumptions = {
      "10,000 requests, open loop: Poisson arrivals at 50 requests/s (about 200 s).",
      "The primary fails 30% of attempts independently (500 40%, 503 40%, hang 20%); the "
      "fallback 2% with the same mix.",
      "Capacity 256 concurrent + 256 queued per provider: never the bottleneck.",
      "Request deadline 30 s; the attempt timeout is each strategy's (10 s for the built-ins).",
  };
  s.assumptions.insert(s.assumptions.end(), kCommonAssumptions.begin(), kCommonAssumptions.end());
  return s;
}

Scenario no_faults() {
  Scenario s;
  s.name = "no-faults";
  s.summary = "healthy providers with ample capacity (a baseline: every strategy should tie)";
  s.requests = 10000;
  s.client.rate_per_second = 50;
  s.client.deadline = seconds(30);
  s.upstreams = {primary_provider(), fallback_provider()};
  s.assumptions = {
      "10,000 requests, open loop: Poisson arrivals at 50 requests/s.",
      "No faults, no outages, capacity 256 + 256 queued: every attempt is served.",
  };
  s.assumptions.insert(s.assumptions.end(), kCommonAssumptions.begin(), kCommonAssumptions.end());
  return s;
}

Scenario tool_calls() {
  Scenario s;
  s.name = "tool-calls";
  s.summary = "20% of tool calls fail validation: resample vs repair vs pass (1% transport faults)";
  s.requests = 10000;
  s.client.rate_per_second = 50;
  s.client.deadline = seconds(30);
  UpstreamModel p = primary_provider();
  p.fault_rate = 0.01;
  s.upstreams = {p};
  ToolCallModel t;
  t.fault_rate = 0.2;
  t.repair_success_rate = 0.9;
  t.repair_prompt_multiplier = 1.15;
  // 1,000 prompt tokens at $2.50 per million against 250 completion tokens at $10: half each.
  t.prompt_cost_fraction = 0.5;
  s.tool_calls = t;
  s.assumptions = {
      "10,000 requests, open loop: Poisson arrivals at 50 requests/s; every request offers tools "
      "and expects a tool call.",
      "20% of answers to a request (and to every resample of it) fail validation (malformed "
      "JSON arguments, unknown tool, schema violation, all counted as one event), independently "
      "per sample. Assumed, not measured: it is the knob this scenario exists to turn "
      "(tool_calls.fault_rate in a scenario file).",
      "A repair (the same request plus the faulty call and the exact validation errors) gives a "
      "valid answer 90% of the time, independently per repair. ASSUMED: published "
      "function-calling evaluations suggest most schema errors are fixed once the error is fed "
      "back, but this figure is not taken from any of them.",
      "A repair request carries 1.15x the prompt tokens (the faulty call and the error list "
      "added to a 1,000-token prompt), so it costs 1.075x an attempt; same service time as any "
      "attempt (the longer prompt's prefill is neglected).",
      "As in the gateway: validation takes no time; an invalid answer counts as a success for "
      "the breaker and the retry budget; a resample or repair goes at once (no backoff) to the "
      "same provider and does not count against the 4 transport attempts (its allowance is the "
      "ToolCallPolicy's max_retries), but the 30 s deadline covers the whole request.",
      "pass returns the invalid answer, flagged: counted as 'invalid passed', not as success. "
      "Strategies without a tool-call policy do not validate: their invalid answers are counted "
      "the same way.",
      "Transport faults kept low and separate: 1% of attempts (500 40%, 503 40%, hang 20%), "
      "retried by exponential-jitter's policy; failures they cause are reported under their own "
      "give-up reasons, validation failures under invalid_tool_call. With tool_calls.fault_rate "
      "p and no transport faults, resample succeeds 1 - p^3 at 1 + p + p^2 attempts, repair "
      "1 - p(1 - r)^2 at 1 + p + p(1 - r) (r the repair success rate), pass 1 - p at 1.",
      "Single provider (the tool strategies do not fall back); capacity 256 + 256 queued, never "
      "the bottleneck; service time lognormal, median 800 ms, p99 4 s.",
      "Cost: 1,000 prompt + 250 completion tokens per attempt at $2.50 / $10 per million tokens: "
      "$0.005 per served attempt, $0.005375 per served repair attempt. Only attempts the "
      "provider served are charged.",
      kCommonAssumptions[1],  // fast failures and hangs
  };
  return s;
}

using Factory = Scenario (*)();
const std::map<std::string, Factory, std::less<>>& factories() {
  static const auto* const kFactories = new std::map<std::string, Factory, std::less<>>{
      {"mixed-faults-10k", &mixed_faults_10k},
      {"outage", &outage},
      {"rate-limit-storm", &rate_limit_storm},
      {"flaky", &flaky},
      {"no-faults", &no_faults},
      {"tool-calls", &tool_calls},
  };
  return *kFactories;
}

}  // namespace

const std::vector<std::string>& builtin_scenario_names() {
  static const auto* const kNames = new std::vector<std::string>{
      "mixed-faults-10k", "outage", "rate-limit-storm", "flaky", "no-faults", "tool-calls"};
  return *kNames;
}

std::optional<Scenario> builtin_scenario(std::string_view name) {
  auto it = factories().find(name);
  if (it == factories().end()) {
    return std::nullopt;
  }
  return it->second();
}

}  // namespace sheepdog::sim
