// An Anthropic deployment behind the gateway, on loopback (a stub upstream answering as the
// Messages API does): the client speaks OpenAI and gets OpenAI-shaped answers, streamed or
// not, including after falling back to it from a failing OpenAI-compatible deployment.
#include <gtest/gtest.h>

#include "gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

using mock::Outcome;

constexpr std::string_view kYaml = R"(
providers:
  a: {kind: openai, base_url: "${A}/v1"}
  c: {kind: anthropic, base_url: "${C}/v1", api_keys: ["sk-ant-test-0000000000"]}
policies:
  default:
    max_attempts: 1
    timeouts: {attempt: 5s, total: 10s}
models:
  gpt:
    deployments: [{provider: a, model: gpt-4o}]
    fallbacks: [claude]
  claude:
    deployments: [{provider: c, model: claude-x}]
)";

constexpr std::string_view kAnswer =
    R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x","stop_reason":"end_turn",)"
    R"("content":[{"type":"text","text":"Hello from Claude."}],"usage":{"input_tokens":9,"output_tokens":4}})";

TEST(GatewayAnthropicTest, AClientSpeakingOpenAIIsServedByClaude) {
  auto a = start_mock(1);
  StubUpstream c(200, std::string(kAnswer));
  GatewayHarness gw(kYaml, {{"A", a->url()}, {"C", c.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("claude"));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-deployment"), "c/claude-x");
  const json::value body = json::parse(reply.body());
  EXPECT_EQ(body.at("object"), "chat.completion");
  EXPECT_EQ(body.at("choices").as_array()[0].at("message").at("content"), "Hello from Claude.");
  EXPECT_EQ(body.at("usage").at("prompt_tokens"), 9);
  EXPECT_EQ(c.last_target(), "/v1/messages");
  EXPECT_EQ(c.last_api_key(), "sk-ant-test-0000000000");
  EXPECT_EQ(c.last_authorization(), "");
  const json::value sent = json::parse(c.last_body());
  EXPECT_EQ(sent.at("model"), "claude-x");
  EXPECT_EQ(sent.at("messages").as_array()[0].at("content").as_array()[0].at("text"), "Say hello.");
  EXPECT_EQ(upstream_calls(*a), 0u);
}

TEST(GatewayAnthropicTest, FallbackFromAFailingOpenAIDeploymentToClaude) {
  auto a = start_mock(1);
  a->planner().set_script(std::nullopt, {Outcome::kServerError});
  StubUpstream c(200, std::string(kAnswer));
  GatewayHarness gw(kYaml, {{"A", a->url()}, {"C", c.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("gpt"));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "2");
  EXPECT_EQ(header(reply.response, "x-sheepdog-deployment"), "c/claude-x");
  EXPECT_EQ(json::parse(reply.body()).at("choices").as_array()[0].at("message").at("content"),
            "Hello from Claude.");
  EXPECT_EQ(c.calls(), 1);
}

TEST(GatewayAnthropicTest, StreamsAreTranslatedToOpenAIChunks) {
  auto a = start_mock(1);
  StubUpstream c(
      200,
      "event: message_start\n"
      R"(data: {"type":"message_start","message":{"id":"msg_2","model":"claude-x","usage":{"input_tokens":9,"output_tokens":1}}})"
      "\n\n"
      "event: content_block_delta\n"
      R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})"
      "\n\n"
      "event: message_delta\n"
      R"(data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}})"
      "\n\n"
      "event: message_stop\n"
      R"(data: {"type":"message_stop"})"
      "\n\n",
      "text/event-stream");
  GatewayHarness gw(kYaml, {{"A", a->url()}, {"C", c.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("claude", /*stream=*/true));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  const std::vector<std::string> events = sse_data(reply.body());
  ASSERT_EQ(events.size(), 4u) << reply.body();
  EXPECT_EQ(json::parse(events[0]).at("object"), "chat.completion.chunk");
  EXPECT_EQ(json::parse(events[1]).at("choices").as_array()[0].at("delta").at("content"), "Hi");
  EXPECT_EQ(json::parse(events[2]).at("choices").as_array()[0].at("finish_reason"), "stop");
  EXPECT_EQ(events[3], "[DONE]");
  EXPECT_EQ(json::parse(c.last_body()).at("stream"), true);
}

TEST(GatewayAnthropicTest, WhatClaudeCannotDoIsAClear400AndNothingIsSent) {
  auto a = start_mock(1);
  StubUpstream c(200, std::string(kAnswer));
  GatewayHarness gw(kYaml, {{"A", a->url()}, {"C", c.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply =
      gw.post("/v1/chat/completions",
              R"({"model":"claude","n":2,"messages":[{"role":"user","content":"Say hello."}]})");
  EXPECT_EQ(reply.status(), 400) << reply.body();
  const json::value error = json::parse(reply.body()).at("error");
  EXPECT_EQ(error.at("param"), "n");
  EXPECT_EQ(c.calls(), 0);
}

}  // namespace
}  // namespace sheepdog::gateway::testing
