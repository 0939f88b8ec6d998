// A deployment with weight 0 takes no first attempts but serves retries (issue 11: routing took
// only weight > 0, so such a deployment was never called, though docs/configuration.md keeps it
// "for retries and fallbacks").
#include <gtest/gtest.h>

#include "support/raw_upstream.h"
#include "integration/gateway/gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

using sheepdog::testing::RawUpstream;

constexpr std::string_view kCompletion =
    R"({"id":"c1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,)"
    R"("message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]})";

constexpr std::string_view kConfig = R"(
providers:
  a: {kind: openai, base_url: "${A}/v1"}
  b: {kind: openai, base_url: "${B}/v1"}
policies:
  default:
    max_attempts: 2
    timeouts: {attempt: 5s, total: 10s}
    backoff: {kind: constant, base_delay: 1ms, max_delay: 1ms, jitter: none}
    circuit_breaker: {enabled: false}
models:
  m:
    deployments:
      - {provider: a, model: gpt-4o, weight: 1}
      - {provider: b, model: gpt-4o, weight: 0}
)";

TEST(WeightZeroTest, TakesNoFirstAttemptsButServesTheRetry) {
  std::atomic<bool> a_fails{false};
  RawUpstream a([&](RawUpstream::Exchange& x) {
    x.write(a_fails ? RawUpstream::json_response(
                          500, R"({"error":{"message":"boom","type":"server_error"}})")
                    : RawUpstream::json_response(200, kCompletion));
  });
  RawUpstream b([](RawUpstream::Exchange& x) {
    x.write(RawUpstream::json_response(200, kCompletion));
  });
  GatewayHarness gw(kConfig, {{"A", a.url()}, {"B", b.url()}});
  ASSERT_TRUE(gw.ok());
  for (int i = 0; i < 20; ++i) {
    const auto reply = gw.post("/v1/chat/completions", chat("m"));
    ASSERT_EQ(reply.status(), 200) << reply.body();
    EXPECT_EQ(header(reply.response, "x-sheepdog-deployment"), "a/gpt-4o");
  }
  EXPECT_EQ(b.calls(), 0);  // never first

  a_fails = true;
  const auto retried = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(retried.status(), 200) << retried.body();
  EXPECT_EQ(header(retried.response, "x-sheepdog-deployment"), "b/gpt-4o");
  EXPECT_EQ(header(retried.response, "x-sheepdog-attempts"), "2");
  EXPECT_EQ(b.calls(), 1);
}

}  // namespace
}  // namespace sheepdog::gateway::testing
