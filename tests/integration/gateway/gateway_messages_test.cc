// POST /v1/messages end to end on loopback: an Anthropic-SDK-shaped client is served through the
// same engine by an OpenAI-compatible deployment (the mock) and by an Anthropic one (a stub
// answering as the Messages API), streamed or not, with tools, Anthropic-shaped errors,
// fallback, key rotation and idempotency applying as on /v1/chat/completions.
#include <gtest/gtest.h>

#include "gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

using mock::Outcome;

constexpr std::string_view kYaml = R"(
server:
  api_keys: ["sk-gateway-client-0001"]
providers:
  a: {kind: openai, base_url: "${A}/v1", api_keys: ["sk-test-aaaa-1111", "sk-test-bbbb-2222"]}
  c: {kind: anthropic, base_url: "${C}/v1", api_keys: ["sk-ant-test-0000000000"]}
policies:
  default:
    max_attempts: 1
    timeouts: {attempt: 5s, total: 10s}
    pushback: {max: 60s}
models:
  gpt:
    deployments: [{provider: a, model: gpt-4o}]
  gpt-then-claude:
    deployments: [{provider: a, model: gpt-4o}]
    fallbacks: [claude]
  claude:
    deployments: [{provider: c, model: claude-x}]
)";

constexpr std::string_view kClaudeAnswer =
    R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x","stop_reason":"end_turn",)"
    R"("stop_sequence":null,"content":[{"type":"text","text":"Hello from Claude."}],)"
    R"("usage":{"input_tokens":9,"output_tokens":4,"cache_read_input_tokens":0,)"
    R"("cache_creation_input_tokens":0}})";

std::string message_request(std::string_view model, bool stream = false,
                            std::string_view extra = "") {
  return std::string(R"({"model":")") + std::string(model) +
         R"(","max_tokens":64,"messages":[{"role":"user","content":"Say hello."}])" +
         (stream ? R"(,"stream":true)" : "") + std::string(extra) + "}";
}

LoopbackClient::Reply post_messages(GatewayHarness& gw, std::string body,
                                    std::string_view key = "sk-gateway-client-0001",
                                    std::string_view idempotency_key = "") {
  LoopbackClient c = gw.client();
  LoopbackClient::Request request =
      c.make_request(http::verb::post, "/v1/messages", std::move(body));
  if (!key.empty()) {
    request.set("x-api-key", key);
  }
  request.set("anthropic-version", "2023-06-01");
  if (!idempotency_key.empty()) {
    request.set("Idempotency-Key", idempotency_key);
  }
  return c.request(std::move(request));
}

// The `event:` names of an SSE body, in order.
std::vector<std::string> event_names(std::string_view body) {
  std::vector<std::string> names;
  size_t at = 0;
  while ((at = body.find("event: ", at)) != std::string_view::npos) {
    const size_t end = body.find('\n', at);
    names.emplace_back(body.substr(at + 7, end - at - 7));
    at = end;
  }
  return names;
}

class GatewayMessagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = start_mock(1);
    c_ = std::make_unique<StubUpstream>(200, std::string(kClaudeAnswer));
    gw_ = std::make_unique<GatewayHarness>(
        kYaml, std::map<std::string, std::string>{{"A", a_->url()}, {"C", c_->url()}});
    ASSERT_TRUE(gw_->ok());
  }

  std::unique_ptr<mock::MockServer> a_;
  std::unique_ptr<StubUpstream> c_;
  std::unique_ptr<GatewayHarness> gw_;
};

TEST_F(GatewayMessagesTest, AnOpenAIDeploymentAnswersAsTheMessagesApi) {
  const auto reply = post_messages(*gw_, message_request("gpt"));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_FALSE(header(reply.response, "request-id").empty());
  EXPECT_EQ(header(reply.response, "request-id"), header(reply.response, "x-request-id"));
  const json::object body = json::parse(reply.body()).as_object();
  EXPECT_EQ(body.at("type"), "message");
  EXPECT_EQ(body.at("role"), "assistant");
  EXPECT_EQ(body.at("model"), "gpt");
  EXPECT_TRUE(body.at("id").as_string().starts_with("msg_"));
  EXPECT_EQ(body.at("stop_reason"), "end_turn");
  const json::array& content = body.at("content").as_array();
  ASSERT_EQ(content.size(), 1u);
  EXPECT_EQ(content[0].at("type"), "text");
  EXPECT_FALSE(content[0].at("text").as_string().empty());
  EXPECT_GT(body.at("usage").at("input_tokens").to_number<int>(), 0);
  EXPECT_GT(body.at("usage").at("output_tokens").to_number<int>(), 0);
  EXPECT_EQ(upstream_calls(*a_), 1u);
}

TEST_F(GatewayMessagesTest, AStreamComesBackAsAnthropicEvents) {
  const auto reply = post_messages(*gw_, message_request("gpt", /*stream=*/true));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "content-type"), "text/event-stream");
  const std::vector<std::string> names = event_names(reply.body());
  ASSERT_GE(names.size(), 6u) << reply.body();
  EXPECT_EQ(names.front(), "message_start");
  EXPECT_EQ(names[1], "content_block_start");
  EXPECT_EQ(names[2], "content_block_delta");
  EXPECT_EQ(names[names.size() - 3], "content_block_stop");
  EXPECT_EQ(names[names.size() - 2], "message_delta");
  EXPECT_EQ(names.back(), "message_stop");
  EXPECT_EQ(reply.body().find("[DONE]"), std::string::npos);
  EXPECT_NE(reply.body().find(R"("stop_reason":"end_turn")"), std::string::npos);
}

TEST_F(GatewayMessagesTest, ToolsComeBackAsToolUseBlocks) {
  const auto reply = post_messages(
      *gw_, message_request("gpt", false,
                            R"(,"tools":[{"name":"get_weather","input_schema":{"type":"object",)"
                            R"("properties":{"city":{"type":"string"}},"required":["city"]}}],)"
                            R"("tool_choice":{"type":"any"})"));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  const json::object body = json::parse(reply.body()).as_object();
  EXPECT_EQ(body.at("stop_reason"), "tool_use");
  const json::array& content = body.at("content").as_array();
  ASSERT_EQ(content.size(), 1u) << reply.body();
  EXPECT_EQ(content[0].at("type"), "tool_use");
  EXPECT_EQ(content[0].at("name"), "get_weather");
  EXPECT_TRUE(content[0].at("input").as_object().contains("city"));
}

TEST_F(GatewayMessagesTest, AnAnthropicDeploymentRoundTrips) {
  const auto reply = post_messages(*gw_, message_request("claude"));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  const json::object body = json::parse(reply.body()).as_object();
  EXPECT_EQ(body.at("content").as_array()[0].at("text"), "Hello from Claude.");
  EXPECT_EQ(body.at("usage").at("input_tokens"), 9);
  EXPECT_EQ(body.at("usage").at("output_tokens"), 4);
  EXPECT_EQ(body.at("model"), "claude");
  EXPECT_EQ(c_->last_api_key(), "sk-ant-test-0000000000");
  EXPECT_EQ(json::parse(c_->last_body()).at("max_tokens"), 64);
}

TEST_F(GatewayMessagesTest, FallbackFromOpenAIToClaudeIsOneAnthropicAnswer) {
  a_->planner().set_script(std::nullopt, {Outcome::kServerError});
  const auto reply = post_messages(*gw_, message_request("gpt-then-claude"));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-deployment"), "c/claude-x");
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "2");
  EXPECT_EQ(json::parse(reply.body()).at("content").as_array()[0].at("text"), "Hello from Claude.");
}

TEST_F(GatewayMessagesTest, ErrorsAreAnthropicShaped) {
  const auto no_max =
      post_messages(*gw_, R"({"model":"gpt","messages":[{"role":"user","content":"Hi"}]})");
  EXPECT_EQ(no_max.status(), 400);
  json::object error = json::parse(no_max.body()).as_object();
  EXPECT_EQ(error.at("type"), "error");
  EXPECT_EQ(error.at("error").at("type"), "invalid_request_error");
  EXPECT_NE(error.at("error").at("message").as_string().find("max_tokens"), std::string_view::npos);
  EXPECT_FALSE(header(no_max.response, "request-id").empty());

  const auto unknown = post_messages(*gw_, message_request("no-such-model"));
  EXPECT_EQ(unknown.status(), 404);
  EXPECT_EQ(json::parse(unknown.body()).at("error").at("type"), "not_found_error");

  const auto unauthenticated = post_messages(*gw_, message_request("gpt"), "");
  EXPECT_EQ(unauthenticated.status(), 401);
  EXPECT_EQ(json::parse(unauthenticated.body()).at("error").at("type"), "authentication_error");
  const auto wrong_key = post_messages(*gw_, message_request("gpt"), "sk-wrong");
  EXPECT_EQ(wrong_key.status(), 401);

  a_->planner().set_script(std::nullopt, {Outcome::kRateLimited});
  const auto limited = post_messages(*gw_, message_request("gpt"));
  EXPECT_EQ(limited.status(), 429) << limited.body();
  EXPECT_EQ(json::parse(limited.body()).at("error").at("type"), "rate_limit_error");
  EXPECT_FALSE(header(limited.response, "retry-after").empty());
  // max_attempts 1: no second key is tried; nothing was sent for the refused requests.
  EXPECT_EQ(upstream_calls(*a_), 1u);
}

TEST_F(GatewayMessagesTest, IdempotencyKeysWorkOnMessagesToo) {
  const auto first = post_messages(*gw_, message_request("gpt"), "sk-gateway-client-0001", "m-1");
  ASSERT_EQ(first.status(), 200) << first.body();
  const auto again = post_messages(*gw_, message_request("gpt"), "sk-gateway-client-0001", "m-1");
  ASSERT_EQ(again.status(), 200);
  EXPECT_EQ(again.body(), first.body());
  EXPECT_EQ(header(again.response, "x-sheepdog-idempotent-replay"), "true");
  EXPECT_EQ(upstream_calls(*a_), 1u);

  // The same key on the OpenAI API is another request, even if it translates to the same one.
  LoopbackClient c = gw_->client();
  LoopbackClient::Request openai = c.make_request(
      http::verb::post, "/v1/chat/completions",
      R"({"model":"gpt","max_tokens":64,"messages":[{"role":"user","content":"Say hello."}]})");
  openai.set(http::field::authorization, "Bearer sk-gateway-client-0001");
  openai.set("Idempotency-Key", "m-1");
  const auto crossed = c.request(std::move(openai));
  EXPECT_EQ(crossed.status(), 422) << crossed.body();
  EXPECT_EQ(upstream_calls(*a_), 1u);
}

}  // namespace
}  // namespace sheepdog::gateway::testing
