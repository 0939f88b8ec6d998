// The attempt loop end to end on loopback: retries after pushback, no retries for the client's
// own mistakes, failover between deployments, the total deadline. Upstream calls are counted
// by the mocks' stats.
#include <gtest/gtest.h>

#include "gateway/quick_config.h"
#include "gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

using mock::Outcome;

// Retries wait 10 ms unless the upstream asks for more; breakers stay out of the way.
constexpr std::string_view kOneDeployment = R"(
providers:
  a: {kind: openai, base_url: "${A}/v1", api_keys: ["sk-test-aaaa-1111"]}
policies:
  default:
    max_attempts: 3
    timeouts: {attempt: 5s, total: 10s}
    backoff: {kind: constant, base_delay: 10ms, max_delay: 10ms, jitter: none}
    pushback: {max: 5s}
models:
  m:
    deployments: [{provider: a, model: gpt-4o-mini}]
)";

constexpr std::string_view kTwoDeployments = R"(
providers:
  a: {kind: openai, base_url: "${A}/v1", api_keys: ["sk-test-aaaa-1111"]}
  b: {kind: openai, base_url: "${B}/v1", api_keys: ["sk-test-bbbb-2222"]}
policies:
  default:
    max_attempts: 3
    timeouts: {attempt: 5s, total: 10s}
    backoff: {kind: constant, base_delay: 10ms, max_delay: 10ms, jitter: none}
models:
  m:
    deployments: [{provider: a, model: gpt-4o-mini}, {provider: b, model: gpt-4o-mini}]
)";

RuntimeOptions ordered(std::string alias) {
  RuntimeOptions options;
  options.ordered_aliases = {std::move(alias)};
  return options;
}

TEST(GatewayRetryTest, RateLimitedIsRetriedAfterRetryAfter) {
  auto a = start_mock(1, [](mock::MockConfig& c) { c.defaults.retry_after = milliseconds(300); });
  a->planner().set_script(std::nullopt, {Outcome::kRateLimited, Outcome::kOk});
  GatewayHarness gw(kOneDeployment, {{"A", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("m"));
  ASSERT_TRUE(reply.ok()) << reply.ec.message();
  EXPECT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "2");
  EXPECT_EQ(header(reply.response, "x-sheepdog-deployment"), "a/gpt-4o-mini");
  EXPECT_EQ(upstream_calls(*a), 2u);
  EXPECT_EQ(a->stats().snapshot().by_outcome["rate_limited"], 1u);
  // The wait honoured the upstream's 300 ms rather than the 10 ms backoff.
  const std::vector<json::object> attempts = attempt_lines(gw, 2);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[1].at("backoff_ms").to_number<double>(), 300);
  const json::object body = json::parse(reply.body()).as_object();
  EXPECT_EQ(body.at("object").as_string(), "chat.completion");
}

TEST(GatewayRetryTest, RateLimitBeyondTheAttemptsIs429WithRetryAfter) {
  auto a = start_mock(1, [](mock::MockConfig& c) { c.defaults.retry_after = milliseconds(20); });
  a->planner().set_script(std::nullopt,
                          {Outcome::kRateLimited, Outcome::kRateLimited, Outcome::kRateLimited});
  GatewayHarness gw(kOneDeployment, {{"A", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(reply.status(), 429);
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "3");
  EXPECT_EQ(header(reply.response, "retry-after"), "1");
  EXPECT_EQ(header(reply.response, "retry-after-ms"), "20");
  EXPECT_EQ(error_of(reply.body()).at("code").as_string(), "rate_limit_exceeded");
  EXPECT_EQ(upstream_calls(*a), 3u);
}

TEST(GatewayRetryTest, BadRequestIsRelayedAndNotRetried) {
  const std::string body =
      R"({"error":{"message":"Invalid value for 'temperature'.","type":"invalid_request_error",)"
      R"("param":"temperature","code":"invalid_value"}})";
  StubUpstream stub(400, body);
  GatewayHarness gw(kOneDeployment, {{"A", stub.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(reply.status(), 400);
  EXPECT_EQ(reply.body(), body);
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "1");
  EXPECT_EQ(stub.calls(), 1);
  EXPECT_EQ(stub.last_authorization(), "Bearer sk-test-aaaa-1111");
}

TEST(GatewayRetryTest, UpstreamAuthFailureIsNotRetriedAndBlamesTheGateway) {
  StubUpstream stub(401, R"({"error":{"message":"Incorrect API key provided.",)"
                         R"("type":"invalid_request_error","code":"invalid_api_key"}})");
  GatewayHarness gw(kOneDeployment, {{"A", stub.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(reply.status(), 502);
  EXPECT_EQ(error_of(reply.body()).at("code").as_string(), "upstream_auth_failed");
  EXPECT_EQ(stub.calls(), 1);
}

TEST(GatewayRetryTest, QuickStartForwardsTheClientsKeyAndRelaysItsRejection) {
  StubUpstream stub(401, R"({"error":{"message":"Incorrect API key provided.",)"
                         R"("type":"invalid_request_error","code":"invalid_api_key"}})");
  QuickStartOptions quick;
  quick.upstreams = {stub.url()};
  auto made = quick_start_config(quick);
  ASSERT_TRUE(std::holds_alternative<QuickStart>(made));
  auto& qs = std::get<QuickStart>(made);
  GatewayHarness gw(qs.config, qs.runtime);
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = gw.client();
  auto request = c.make_request(http::verb::post, "/v1/chat/completions", chat("any-model"));
  request.set(http::field::authorization, "Bearer sk-client-own-key");
  const auto reply = c.request(std::move(request));
  EXPECT_EQ(reply.status(), 401);
  EXPECT_EQ(error_of(reply.body()).at("code").as_string(), "invalid_api_key");
  EXPECT_EQ(stub.calls(), 1);
  EXPECT_EQ(stub.last_authorization(), "Bearer sk-client-own-key");
  EXPECT_EQ(header(reply.response, "x-sheepdog-deployment"), "upstream1/*");
}

TEST(GatewayRetryTest, QuickStartPassesModelNamesThroughAndFailsOverInOrder) {
  auto a = start_mock(1);
  auto b = start_mock(2);
  a->planner().set_script(std::nullopt, {Outcome::kServiceUnavailable});
  QuickStartOptions quick;
  quick.upstreams = {a->url() + "/v1", b->url()};  // the second gets /v1 appended
  quick.api_key = "sk-quick";
  auto made = quick_start_config(quick);
  ASSERT_TRUE(std::holds_alternative<QuickStart>(made));
  auto& qs = std::get<QuickStart>(made);
  GatewayHarness gw(qs.config, qs.runtime);
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("whatever-model-7"));
  EXPECT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-deployment"), "upstream2/*");
  EXPECT_EQ(a->stats().snapshot().by_model["whatever-model-7"], 1u);
  EXPECT_EQ(b->stats().snapshot().by_model["whatever-model-7"], 1u);
}

TEST(GatewayRetryTest, FailsOverToTheSecondDeployment) {
  auto a = start_mock(1);
  auto b = start_mock(2);
  a->planner().set_script(std::nullopt, {Outcome::kServerError});
  GatewayHarness gw(kTwoDeployments, {{"A", a->url()}, {"B", b->url()}}, ordered("m"));
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "2");
  EXPECT_EQ(header(reply.response, "x-sheepdog-deployment"), "b/gpt-4o-mini");
  EXPECT_EQ(upstream_calls(*a), 1u);
  EXPECT_EQ(upstream_calls(*b), 1u);
  // Each deployment was called with its own key.
  EXPECT_EQ(a->stats().snapshot().by_key.count("sk-t...1111"), 1u);
  EXPECT_EQ(b->stats().snapshot().by_key.count("sk-t...2222"), 1u);
}

TEST(GatewayRetryTest, ConnectionResetAndMalformedAnswersAreRetried) {
  auto a = start_mock(1);
  a->planner().set_script(std::nullopt, {Outcome::kConnectionReset, Outcome::kBadGateway});
  GatewayHarness gw(kOneDeployment, {{"A", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "3");
  EXPECT_EQ(upstream_calls(*a), 3u);
}

TEST(GatewayRetryTest, TheTotalDeadlineIsRespected) {
  auto a = start_mock(1);
  a->planner().set_script(std::nullopt, {Outcome::kHang, Outcome::kHang, Outcome::kHang});
  constexpr std::string_view kYaml = R"(
providers:
  a: {kind: openai, base_url: "${A}/v1"}
policies:
  default:
    max_attempts: 3
    timeouts: {attempt: 300ms, total: 500ms}
    backoff: {kind: constant, base_delay: 10ms, max_delay: 10ms, jitter: none}
models:
  m:
    deployments: [{provider: a, model: gpt-4o-mini}]
)";
  GatewayHarness gw(kYaml, {{"A", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(reply.status(), 504);
  EXPECT_EQ(error_of(reply.body()).at("code").as_string(), "deadline_exceeded");
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "2");
  EXPECT_EQ(upstream_calls(*a), 2u);
  // Both attempts timed out: the first after its 300 ms, the second with what was left of the
  // 500 ms, after the 10 ms backoff.
  const std::vector<json::object> attempts = attempt_lines(gw, 2);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].at("outcome").as_string(), "timeout");
  EXPECT_EQ(attempts[1].at("outcome").as_string(), "timeout");
  EXPECT_EQ(attempts[1].at("backoff_ms").to_number<double>(), 10);
}

TEST(GatewayRetryTest, RequestIdsAreEchoedOrGenerated) {
  auto a = start_mock(1);
  GatewayHarness gw(kOneDeployment, {{"A", a->url()}});
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = gw.client();
  auto request = c.make_request(http::verb::post, "/v1/chat/completions", chat("m"));
  request.set("x-request-id", "trace-abc-123");
  const auto mine = c.request(std::move(request));
  EXPECT_EQ(header(mine.response, "x-request-id"), "trace-abc-123");
  const auto generated = gw.post("/v1/chat/completions", chat("m"));
  const std::string id = header(generated.response, "x-request-id");
  EXPECT_TRUE(id.starts_with("req_")) << id;
  EXPECT_EQ(id.size(), 28u);
}

}  // namespace
}  // namespace sheepdog::gateway::testing
