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

using Factory = Scenario (*)();
const std::map<std::string, Factory, std::less<>>& factories() {
  static const auto* const kFactories = new std::map<std::string, Factory, std::less<>>{
      {"mixed-faults-10k", &mixed_faults_10k},
      {"outage", &outage},
      {"rate-limit-storm", &rate_limit_storm},
      {"flaky", &flaky},
      {"no-faults", &no_faults},
  };
  return *kFactories;
}

}  // namespace

const std::vector<std::string>& builtin_scenario_names() {
  static const auto* const kNames = new std::vector<std::string>{
      "mixed-faults-10k", "outage", "rate-limit-storm", "flaky", "no-faults"};
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
