// Streaming through the gateway: events relayed as they arrive and ending in [DONE]; retries
// and failover only before the first byte (including a first-token timeout); a mid-stream
// upstream failure ending in an error event without [DONE]; a client that leaves cancelling the
// upstream call.
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
    max_attempts: 3
    timeouts: {attempt: 5s, total: 10s, first_token: 200ms}
    backoff: {kind: constant, base_delay: 1ms, max_delay: 1ms, jitter: none}
models:
  m:
    deployments: [{provider: a, model: gpt-4o-mini}, {provider: b, model: gpt-4o-mini}]
  solo:
    deployments: [{provider: a, model: gpt-4o-mini}]
)";

RuntimeOptions ordered() {
  RuntimeOptions options;
  options.ordered_aliases = {"m"};
  return options;
}

// Streams `body` and returns the client after reading the whole response.
LoopbackClient stream(GatewayHarness& gw, std::string body) {
  LoopbackClient c = gw.client();
  EXPECT_FALSE(c.write(c.make_request(http::verb::post, "/v1/chat/completions", std::move(body))));
  EXPECT_FALSE(c.begin_stream());
  EXPECT_FALSE(c.read_to_end());
  return c;
}

TEST(GatewayStreamTest, RelaysEventsAndDone) {
  auto a = start_mock(1, [](mock::MockConfig& c) { c.completion_tokens = 6; });
  GatewayHarness gw(kYaml, {{"A", a->url()}, {"B", a->url()}}, ordered());
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = stream(gw, chat("m", true));
  const auto& head = c.stream_parser().get();
  EXPECT_EQ(head.result_int(), 200u);
  EXPECT_EQ(head[http::field::content_type], "text/event-stream");
  EXPECT_EQ(head["x-sheepdog-attempts"], "1");
  const std::vector<std::string> events = sse_data(c.streamed_body());
  // Role chunk, 6 content chunks, finish chunk, [DONE]; no usage chunk (not asked for).
  ASSERT_EQ(events.size(), 9u) << c.streamed_body();
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const json::object chunk = json::parse(events[i]).as_object();
    EXPECT_EQ(chunk.at("object").as_string(), "chat.completion.chunk");
    EXPECT_EQ(chunk.at("model").as_string(), "gpt-4o-mini");
    EXPECT_FALSE(chunk.contains("usage"));
    const json::object& delta = chunk.at("choices").at(0).at("delta").as_object();
    if (const json::value* content = delta.if_contains("content")) {
      text += content->as_string();
    }
  }
  EXPECT_EQ(text.size(), 24u);  // 6 tokens of 4 characters
  // The tokens are counted all the same: the upstream is always asked for its usage chunk.
  const std::string metrics = gw.get("/metrics").body();
  EXPECT_NE(metrics.find(R"(sheepdog_tokens_total{model="m",direction="completion"} 6)"),
            std::string::npos)
      << metrics;
}

TEST(GatewayStreamTest, UsageIsRelayedAndCountedWhenTheClientAsksForIt) {
  auto a = start_mock(1, [](mock::MockConfig& c) { c.completion_tokens = 3; });
  GatewayHarness gw(kYaml, {{"A", a->url()}, {"B", a->url()}}, ordered());
  ASSERT_TRUE(gw.ok());
  std::string body = chat("m", true);
  body.insert(body.size() - 1, R"(,"stream_options":{"include_usage":true})");
  LoopbackClient c = stream(gw, body);
  const std::vector<std::string> events = sse_data(c.streamed_body());
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back(), "[DONE]");
  const json::object usage =
      json::parse(events[events.size() - 2]).as_object().at("usage").as_object();
  EXPECT_EQ(usage.at("completion_tokens").as_int64(), 3);
  const std::string metrics = gw.get("/metrics").body();
  EXPECT_NE(metrics.find(R"(sheepdog_tokens_total{model="m",direction="completion"} 3)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("sheepdog_time_to_first_token_seconds_count{model=\"m\"} 1"),
            std::string::npos);
}

TEST(GatewayStreamTest, ErrorBeforeTheFirstByteFailsOver) {
  auto a = start_mock(1);
  auto b = start_mock(2);
  a->planner().set_script(std::nullopt, {Outcome::kServiceUnavailable});
  GatewayHarness gw(kYaml, {{"A", a->url()}, {"B", b->url()}}, ordered());
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = stream(gw, chat("m", true));
  EXPECT_EQ(c.stream_parser().get()["x-sheepdog-attempts"], "2");
  EXPECT_EQ(c.stream_parser().get()["x-sheepdog-deployment"], "b/gpt-4o-mini");
  EXPECT_EQ(sse_data(c.streamed_body()).back(), "[DONE]");
}

TEST(GatewayStreamTest, FirstTokenTimeoutFailsOver) {
  auto a = start_mock(1, [](mock::MockConfig& c) {
    c.defaults.latency.median = c.defaults.latency.p99 = seconds(3);
  });
  auto b = start_mock(2);
  GatewayHarness gw(kYaml, {{"A", a->url()}, {"B", b->url()}}, ordered());
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = stream(gw, chat("m", true));
  EXPECT_EQ(c.stream_parser().get()["x-sheepdog-deployment"], "b/gpt-4o-mini");
  EXPECT_EQ(sse_data(c.streamed_body()).back(), "[DONE]");
  EXPECT_EQ(upstream_calls(*a), 1u);
  // a's attempt ended at the 200 ms first-token limit (a timeout), not at a's 3 s answer.
  const std::vector<json::object> attempts = attempt_lines(gw, 2);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].at("deployment").as_string(), "a/gpt-4o-mini");
  EXPECT_EQ(attempts[0].at("outcome").as_string(), "timeout");
  EXPECT_LT(attempts[0].at("latency_ms").to_number<double>(), 3000);
}

TEST(GatewayStreamTest, MidStreamFailureEndsWithAnErrorEventAndNoDone) {
  auto a = start_mock(1, [](mock::MockConfig& c) { c.completion_tokens = 8; });
  a->planner().set_script(std::nullopt, {Outcome::kTruncatedStream});
  GatewayHarness gw(kYaml, {{"A", a->url()}, {"B", a->url()}}, {});
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = stream(gw, chat("solo", true));
  EXPECT_EQ(c.stream_parser().get().result_int(), 200u);
  const std::vector<std::string> events = sse_data(c.streamed_body());
  ASSERT_GE(events.size(), 2u) << c.streamed_body();
  for (const std::string& e : events) {
    EXPECT_NE(e, "[DONE]");
  }
  const json::object error = error_of(events.back());
  EXPECT_EQ(error.at("code").as_string(), "upstream_stream_interrupted");
  EXPECT_EQ(error.at("type").as_string(), "server_error");
  EXPECT_EQ(upstream_calls(*a), 1u);  // never retried once the client had bytes
  ASSERT_TRUE(eventually([&] { return gw.stats("a/gpt-4o-mini").errors == 1; }));
}

TEST(GatewayStreamTest, ClientDisconnectCancelsTheUpstreamCall) {
  auto a = start_mock(1, [](mock::MockConfig& c) {
    c.completion_tokens = 200;
    c.defaults.tokens_per_second = 20;  // a 10 s stream
  });
  GatewayHarness gw(kYaml, {{"A", a->url()}, {"B", a->url()}}, {});
  ASSERT_TRUE(gw.ok());
  {
    LoopbackClient c = gw.client();
    ASSERT_FALSE(
        c.write(c.make_request(http::verb::post, "/v1/chat/completions", chat("solo", true))));
    ASSERT_FALSE(c.begin_stream());
    ASSERT_TRUE(c.read_until("\"content\""));
    EXPECT_EQ(gw.stats("a/gpt-4o-mini").in_flight, 1);
    c.close();
  }
  // The gateway notices at once and drops the upstream connection: the attempt ends as
  // cancelled, counting neither as an error nor as a success for the deployment.
  ASSERT_TRUE(
      eventually([&] { return gw.stats("a/gpt-4o-mini").in_flight == 0; }, milliseconds(3000)));
  const DeploymentSnapshot stats = gw.stats("a/gpt-4o-mini");
  EXPECT_EQ(stats.errors, 0u);
  EXPECT_EQ(stats.successes, 0u);
  const std::string metrics = gw.get("/metrics").body();
  EXPECT_NE(metrics.find(R"(sheepdog_requests_total{model="solo",deployment="a/gpt-4o-mini",)"
                         R"(outcome="cancelled"} 1)"),
            std::string::npos)
      << metrics;
}

}  // namespace
}  // namespace sheepdog::gateway::testing
