// Circuit breakers in the live loop: a dead deployment's breaker opens and the deployment stops
// being called, half-opens after open_duration, and recovers with a successful probe; when
// every breaker is open the gateway answers 503 with a retry-after. Breaker time is real time
// here, so open_duration is short (200 ms) and the test waits for it.
#include <gtest/gtest.h>

#include "gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

using mock::Outcome;

constexpr std::string_view kYaml = R"(
providers:
  a: {kind: openai, base_url: "${A}/v1"}
  b: {kind: openai, base_url: "${B}/v1"}
policies:
  default:
    max_attempts: 2
    timeouts: {attempt: 2s, total: 5s}
    backoff: {kind: constant, base_delay: 1ms, max_delay: 1ms, jitter: none}
    circuit_breaker: {consecutive_failures: 2, open_duration: 200ms}
models:
  m:
    deployments: [{provider: a, model: gpt-4o-mini}, {provider: b, model: gpt-4o-mini}]
)";

void always_fail(mock::MockConfig& config) {
  config.defaults.rates[static_cast<size_t>(Outcome::kServerError)] = 1.0;
}

double metric(const std::string& text, const std::string& series) {
  const size_t at = text.find(series + " ");
  if (at == std::string::npos) {
    return -1;
  }
  return std::stod(text.substr(at + series.size() + 1));
}

TEST(GatewayBreakerTest, DeadDeploymentIsSkippedThenProbedAndRecovers) {
  auto a = start_mock(1, always_fail);
  auto b = start_mock(2);
  RuntimeOptions options;
  options.ordered_aliases = {"m"};
  GatewayHarness gw(kYaml, {{"A", a->url()}, {"B", b->url()}}, options);
  ASSERT_TRUE(gw.ok());

  // Two requests: each tries a first, fails, and is answered by b. a's breaker opens.
  for (int i = 0; i < 2; ++i) {
    const auto reply = gw.post("/v1/chat/completions", chat("m"));
    EXPECT_EQ(reply.status(), 200) << reply.body();
    EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "2");
    EXPECT_EQ(header(reply.response, "x-sheepdog-deployment"), "b/gpt-4o-mini");
  }
  EXPECT_EQ(upstream_calls(*a), 2u);
  EXPECT_EQ(gw.breaker("a/gpt-4o-mini"), BreakerState::kOpen);
  const auto health = json::parse(gw.get("/health/deployments").body()).as_object();
  EXPECT_EQ(health.at("deployments").at(0).at("name").as_string(), "a/gpt-4o-mini");
  EXPECT_EQ(health.at("deployments").at(0).at("breaker").as_string(), "open");
  EXPECT_EQ(health.at("deployments").at(0).at("errors").to_number<int64_t>(), 2);

  // While open, a is not called at all: b answers on the first attempt.
  for (int i = 0; i < 3; ++i) {
    const auto reply = gw.post("/v1/chat/completions", chat("m"));
    EXPECT_EQ(reply.status(), 200);
    EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "1");
  }
  EXPECT_EQ(upstream_calls(*a), 2u);
  EXPECT_EQ(upstream_calls(*b), 5u);

  // a recovers; once open_duration has passed the breaker half-opens and the next request
  // probes a, whose success closes it.
  a->planner().set_config(mock::MockConfig{});
  ASSERT_TRUE(eventually([&] { return gw.breaker("a/gpt-4o-mini") == BreakerState::kHalfOpen; }));
  const auto probe = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(probe.status(), 200);
  EXPECT_EQ(header(probe.response, "x-sheepdog-deployment"), "a/gpt-4o-mini");
  EXPECT_EQ(upstream_calls(*a), 3u);
  EXPECT_EQ(gw.breaker("a/gpt-4o-mini"), BreakerState::kClosed);

  const std::string metrics = gw.get("/metrics").body();
  const std::string series = R"(sheepdog_breaker_transitions_total{deployment="a/gpt-4o-mini",)";
  EXPECT_EQ(metric(metrics, series + R"(from="closed",to="open"})"), 1);
  EXPECT_EQ(metric(metrics, series + R"(from="open",to="half_open"})"), 1);
  EXPECT_EQ(metric(metrics, series + R"(from="half_open",to="closed"})"), 1);
  EXPECT_EQ(metric(metrics, R"(sheepdog_breaker_state{deployment="a/gpt-4o-mini"})"), 0);
}

TEST(GatewayBreakerTest, EveryBreakerOpenIs503WithRetryAfter) {
  auto a = start_mock(1, always_fail);
  constexpr std::string_view kOne = R"(
providers:
  a: {kind: openai, base_url: "${A}/v1"}
policies:
  default:
    max_attempts: 1
    circuit_breaker: {consecutive_failures: 1, open_duration: 10s, max_open_duration: 10s}
models:
  m:
    deployments: [{provider: a, model: gpt-4o-mini}]
)";
  GatewayHarness gw(kOne, {{"A", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto first = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(first.status(), 502);
  EXPECT_EQ(error_of(first.body()).at("code").as_string(), "upstream_error");
  const auto second = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(second.status(), 503);
  EXPECT_EQ(error_of(second.body()).at("code").as_string(), "circuit_open");
  EXPECT_EQ(header(second.response, "retry-after"), "10");
  EXPECT_EQ(header(second.response, "x-sheepdog-attempts"), "0");
  EXPECT_EQ(upstream_calls(*a), 1u);
}

}  // namespace
}  // namespace sheepdog::gateway::testing
