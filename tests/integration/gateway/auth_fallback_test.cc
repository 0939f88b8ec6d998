// An upstream 401/403 moves on to the next deployment instead of failing the request (issue 11:
// `serve --upstream A --upstream B` with A refusing the key answered 502 and never tried B);
// a refused pool key rests (visible in /health/deployments) and the provider's other key is
// used; with nothing left the client still gets the 502 naming the deployment.
#include <gtest/gtest.h>

#include "support/raw_upstream.h"
#include "integration/gateway/gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

using sheepdog::testing::RawUpstream;

constexpr std::string_view kCompletion =
    R"({"id":"c1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,)"
    R"("message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]})";
constexpr std::string_view kRefusal =
    R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error",)"
    R"("code":"invalid_api_key"}})";

RawUpstream::Handler refuses() {
  return [](RawUpstream::Exchange& x) { x.write(RawUpstream::json_response(401, kRefusal)); };
}
RawUpstream::Handler answers() {
  return [](RawUpstream::Exchange& x) { x.write(RawUpstream::json_response(200, kCompletion)); };
}

constexpr std::string_view kPolicy = R"(
policies:
  default:
    max_attempts: 3
    timeouts: {attempt: 5s, total: 10s}
    backoff: {kind: constant, base_delay: 1ms, max_delay: 1ms, jitter: none}
)";

TEST(AuthFallbackTest, TheQuickStartsSecondUpstreamAnswersWhenTheFirstRefusesTheKey) {
  RawUpstream a(refuses());
  RawUpstream b(answers());
  RuntimeOptions options;
  options.ordered_aliases = {"m"};
  options.forward_client_key_providers = {"a"};
  GatewayHarness gw(std::string(R"(
providers:
  a: {kind: openai, base_url: "${A}/v1"}
  b: {kind: openai, base_url: "${B}/v1"}
models:
  m: {deployments: [{provider: a, model: gpt-4o}, {provider: b, model: gpt-4o}]}
)") + std::string(kPolicy),
                    {{"A", a.url()}, {"B", b.url()}}, options);
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = gw.client();
  LoopbackClient::Request request = c.make_request(http::verb::post, "/v1/chat/completions",
                                                   chat("m"));
  request.set(http::field::authorization, "Bearer sk-client-key-123456");
  const auto reply = c.request(std::move(request));
  EXPECT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-deployment"), "b/gpt-4o");
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "2");
  EXPECT_EQ(a.calls(), 1);  // not retried where it was refused
  EXPECT_EQ(b.calls(), 1);
}

TEST(AuthFallbackTest, ARefusedPoolKeyRestsAndTheOtherKeyIsUsed) {
  constexpr std::string_view kRevoked = "sk-revoked-key-0000001";
  RawUpstream a([&](RawUpstream::Exchange& x) {
    const bool revoked = x.request.find(kRevoked) != std::string::npos;
    x.write(revoked ? RawUpstream::json_response(401, kRefusal)
                    : RawUpstream::json_response(200, kCompletion));
  });
  GatewayHarness gw(std::string(R"(
providers:
  a: {kind: openai, base_url: "${A}/v1", api_keys: [")") +
                        std::string(kRevoked) + R"(", "sk-working-key-0000002"]}
models:
  m: {deployments: [{provider: a, model: gpt-4o}]}
)" + std::string(kPolicy),
                    {{"A", a.url()}});
  ASSERT_TRUE(gw.ok());
  for (int i = 0; i < 6; ++i) {
    const auto reply = gw.post("/v1/chat/completions", chat("m"));
    EXPECT_EQ(reply.status(), 200) << reply.body();
  }
  // The pool spreads requests over both keys, so the revoked one is tried, once: it rests, and
  // the request it failed, like every later one, is answered with the other key.
  int revoked_calls = 0;
  for (const std::string& r : a.requests()) {
    revoked_calls += r.find(kRevoked) != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(revoked_calls, 1);
  EXPECT_EQ(a.calls(), 7);
  const std::string health = gw.get("/health/deployments").body();
  EXPECT_NE(health.find(R"("key":"sk-r...0001","provider":"a","cooling":true)"),
            std::string::npos)
      << health;
}

TEST(AuthFallbackTest, WithNothingLeftTheClientGets502NamingTheDeployment) {
  RawUpstream a(refuses());
  GatewayHarness gw(std::string(R"(
providers:
  a: {kind: openai, base_url: "${A}/v1", api_keys: ["sk-only-key-00000001"]}
models:
  m: {deployments: [{provider: a, model: gpt-4o}]}
)") + std::string(kPolicy),
                    {{"A", a.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(reply.status(), 502) << reply.body();
  EXPECT_EQ(error_of(reply.body()).at("code").as_string(), "upstream_auth_failed");
  EXPECT_EQ(a.calls(), 1);
}

}  // namespace
}  // namespace sheepdog::gateway::testing
