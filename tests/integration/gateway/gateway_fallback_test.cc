// Walking past an alias: its `fallbacks` once its deployments are exhausted, and its
// `context_window_fallback` when the prompt is too long for it.
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
models:
  big:
    deployments: [{provider: a, model: gpt-4o}]
    fallbacks: [small]
  small:
    deployments: [{provider: b, model: gpt-4o-mini}]
    context_window_fallback: large
  large:
    deployments: [{provider: b, model: gpt-4.1}]
  lonely:
    deployments: [{provider: a, model: gpt-4o-mini}]
)";

TEST(GatewayFallbackTest, ExhaustedAliasFallsBackToTheNextAlias) {
  auto a = start_mock(1, [](mock::MockConfig& c) {
    c.defaults.rates[static_cast<size_t>(Outcome::kServiceUnavailable)] = 1.0;
    c.defaults.retry_after = milliseconds(1);
  });
  auto b = start_mock(2);
  GatewayHarness gw(kYaml, {{"A", a->url()}, {"B", b->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("big"));
  EXPECT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "3");
  EXPECT_EQ(header(reply.response, "x-sheepdog-deployment"), "b/gpt-4o-mini");
  EXPECT_EQ(a->stats().snapshot().by_model["gpt-4o"], 2u);  // big's max_attempts
  EXPECT_EQ(b->stats().snapshot().by_model["gpt-4o-mini"], 1u);
  const std::string metrics = gw.get("/metrics").body();
  EXPECT_NE(metrics.find(R"(sheepdog_retries_total{model="big",reason="overloaded"} 2)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(sheepdog_successes_after_retry_total{model="big"} 1)"),
            std::string::npos);
}

TEST(GatewayFallbackTest, PromptTooLongGoesToTheContextWindowFallback) {
  auto a = start_mock(1);
  auto b = start_mock(2);
  b->planner().set_script("gpt-4o-mini", {Outcome::kContextLengthExceeded});
  GatewayHarness gw(kYaml, {{"A", a->url()}, {"B", b->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("small"));
  EXPECT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-deployment"), "b/gpt-4.1");
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "2");
  const auto stats = b->stats().snapshot();
  EXPECT_EQ(stats.by_model.at("gpt-4o-mini"), 1u);
  EXPECT_EQ(stats.by_model.at("gpt-4.1"), 1u);
  EXPECT_EQ(upstream_calls(*a), 0u);
}

TEST(GatewayFallbackTest, PromptTooLongWithoutFallbackRelaysTheUpstreamError) {
  auto a = start_mock(1);
  a->planner().set_script(std::nullopt, {Outcome::kContextLengthExceeded});
  GatewayHarness gw(kYaml, {{"A", a->url()}, {"B", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("lonely"));
  EXPECT_EQ(reply.status(), 400);
  EXPECT_EQ(error_of(reply.body()).at("code").as_string(), "context_length_exceeded");
  EXPECT_EQ(upstream_calls(*a), 1u);
}

}  // namespace
}  // namespace sheepdog::gateway::testing
