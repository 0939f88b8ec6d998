// Answer validation of streams through the whole gateway on loopback (policy
// tool_validation.streams): a tool-call-only answer is held back until valid, so an invalid one
// is repaired unseen and the client gets one clean stream; text that went out before an invalid
// tool call is followed by an invalid_tool_call error event instead of the call.
#include <gtest/gtest.h>

#include "gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

using mock::Outcome;

std::string yaml(std::string_view mode, int max_retries = 2, bool streams = true) {
  return std::string(R"(
providers:
  a: {kind: openai, base_url: "${A}/v1", api_keys: ["sk-test-aaaa-1111"]}
policies:
  default:
    max_attempts: 2
    timeouts: {attempt: 5s, total: 10s}
    tool_validation: {mode: )") +
         std::string(mode) + ", max_retries: " + std::to_string(max_retries) +
         ", streams: " + (streams ? "true" : "false") + R"(}
models:
  m:
    deployments: [{provider: a, model: gpt-4o-mini}]
)";
}

constexpr std::string_view kStreamedWeatherRequest =
    R"({"model":"m","stream":true,"messages":[{"role":"user","content":"Weather in Paris?"}],)"
    R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":)"
    R"({"type":"object","properties":{"city":{"type":"string"},)"
    R"("unit":{"type":"string","enum":["celsius","fahrenheit"]}},)"
    R"("required":["city","unit"],"additionalProperties":false}}}]})";

std::string event(std::string_view data) { return "data: " + std::string(data) + "\n\n"; }

// A streamed answer whose tool call breaks the schema, after `text` (none if empty).
std::string bad_call_stream(std::string_view text) {
  std::string s = event(
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",)"
      R"("choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})");
  if (!text.empty()) {
    s += event(R"({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,)"
               R"("delta":{"content":")" +
               std::string(text) + R"("},"finish_reason":null}]})");
  }
  s += event(
      R"({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":)"
      R"([{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather",)"
      R"("arguments":"{\"city\":\"Paris\",\"unit\":\"kelvin\"}"}}]},"finish_reason":null}]})");
  s += event(R"({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},)"
             R"("finish_reason":"tool_calls"}]})");
  return s + "data: [DONE]\n\n";
}

// The tool calls the client assembled from a stream's events.
json::object assembled_call(const std::vector<std::string>& events) {
  std::string arguments;
  std::string name;
  for (const std::string& data : events) {
    if (data == "[DONE]") {
      continue;
    }
    const json::object chunk = json::parse(data).as_object();
    for (const json::value& choice : chunk.at("choices").as_array()) {
      const json::object& delta = choice.at("delta").as_object();
      if (const json::value* calls = delta.if_contains("tool_calls")) {
        const json::object& function = calls->as_array()[0].at("function").as_object();
        if (const json::value* n = function.if_contains("name")) {
          name = std::string(n->as_string());
        }
        arguments += std::string(function.at("arguments").as_string());
      }
    }
  }
  return json::object{{"name", name}, {"arguments", arguments}};
}

TEST(GatewayToolCallStreamsTest, AnInvalidStreamedCallIsRepairedUnseen) {
  auto a = start_mock();
  a->planner().set_script(std::nullopt, {Outcome::kToolWrongType});
  GatewayHarness gw(yaml("repair"), {{"A", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", std::string(kStreamedWeatherRequest));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "content-type"), "text/event-stream");
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "repaired");
  EXPECT_EQ(upstream_calls(*a), 2u);
  const std::vector<std::string> events = sse_data(reply.body());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), "[DONE]");
  // Only the repaired answer's call reached the client, and it satisfies the schema.
  const json::object call = assembled_call(events);
  EXPECT_EQ(call.at("name"), "get_weather");
  const json::object args = json::parse(call.at("arguments").as_string()).as_object();
  ASSERT_TRUE(args.contains("city")) << call;
  EXPECT_TRUE(args.at("city").is_string()) << call;
  EXPECT_TRUE(args.at("unit") == "celsius" || args.at("unit") == "fahrenheit") << call;
}

TEST(GatewayToolCallStreamsTest, AValidStreamIsSentWholeAndMarkedValid) {
  auto a = start_mock();
  GatewayHarness gw(yaml("repair"), {{"A", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", std::string(kStreamedWeatherRequest));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "valid");
  EXPECT_EQ(upstream_calls(*a), 1u);
  EXPECT_EQ(sse_data(reply.body()).back(), "[DONE]");
}

TEST(GatewayToolCallStreamsTest, AStreamThatNeverValidatesIsA502BeforeAnyByte) {
  StubUpstream a(200, bad_call_stream(""), "text/event-stream");
  GatewayHarness gw(yaml("resample", 1), {{"A", a.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", std::string(kStreamedWeatherRequest));
  EXPECT_EQ(reply.status(), 502) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "failed");
  EXPECT_EQ(a.calls(), 2);
  const json::object error = error_of(reply.body());
  EXPECT_EQ(error.at("type"), "invalid_tool_call");
  EXPECT_NE(error.at("message").as_string().find("kelvin"), std::string_view::npos);
}

TEST(GatewayToolCallStreamsTest, TextAlreadySentIsFollowedByAnErrorEventNotTheCall) {
  StubUpstream a(200, bad_call_stream("Let me check."), "text/event-stream");
  GatewayHarness gw(yaml("repair"), {{"A", a.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", std::string(kStreamedWeatherRequest));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "");  // unknown when it went out
  EXPECT_EQ(a.calls(), 1);  // no retry: the client already has part of this answer
  const std::vector<std::string> events = sse_data(reply.body());
  ASSERT_GE(events.size(), 3u) << reply.body();
  EXPECT_NE(events[1].find("Let me check."), std::string::npos);
  const json::object error = error_of(events.back());
  EXPECT_EQ(error.at("type"), "invalid_tool_call");
  EXPECT_EQ(reply.body().find("kelvin\\\"}\""), std::string::npos);  // the call never went out
  EXPECT_EQ(reply.body().find("[DONE]"), std::string::npos);
}

TEST(GatewayToolCallStreamsTest, PassSendsTheInvalidStreamFlagged) {
  StubUpstream a(200, bad_call_stream(""), "text/event-stream");
  GatewayHarness gw(yaml("pass"), {{"A", a.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", std::string(kStreamedWeatherRequest));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "failed");
  EXPECT_EQ(a.calls(), 1);
  EXPECT_EQ(reply.body(), bad_call_stream(""));
}

TEST(GatewayToolCallStreamsTest, PassAfterTextAddsACommentToTheStream) {
  StubUpstream a(200, bad_call_stream("Let me check."), "text/event-stream");
  GatewayHarness gw(yaml("pass"), {{"A", a.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", std::string(kStreamedWeatherRequest));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_NE(reply.body().find(": x-sheepdog-validation: failed\n\n"), std::string::npos);
  EXPECT_EQ(sse_data(reply.body()).back(), "[DONE]");
}

TEST(GatewayToolCallStreamsTest, StreamsOffRelaysUnvalidated) {
  StubUpstream a(200, bad_call_stream(""), "text/event-stream");
  GatewayHarness gw(yaml("repair", 2, /*streams=*/false), {{"A", a.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", std::string(kStreamedWeatherRequest));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "");
  EXPECT_EQ(a.calls(), 1);
  EXPECT_EQ(reply.body(), bad_call_stream(""));
}

TEST(GatewayToolCallStreamsTest, AHeldStreamThatBreaksIsRetriedLikeAnyFailedAttempt) {
  auto a = start_mock();
  a->planner().set_script(std::nullopt, {Outcome::kTruncatedStream});
  GatewayHarness gw(yaml("repair"), {{"A", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", std::string(kStreamedWeatherRequest));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "2");
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "valid");
  EXPECT_EQ(sse_data(reply.body()).back(), "[DONE]");
  EXPECT_EQ(reply.body().find("error"), std::string::npos);
}

TEST(GatewayToolCallStreamsTest, StreamedStructuredOutputIsHeldAndRepaired) {
  auto a = start_mock();
  a->planner().set_script(std::nullopt, {Outcome::kToolTrailingText});
  GatewayHarness gw(yaml("repair"), {{"A", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post(
      "/v1/chat/completions",
      R"({"model":"m","stream":true,"messages":[{"role":"user","content":"A person, as JSON."}],)"
      R"("response_format":{"type":"json_schema","json_schema":{"name":"person","schema":)"
      R"({"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},)"
      R"("required":["name","age"],"additionalProperties":false}}}})");
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "repaired");
  EXPECT_EQ(upstream_calls(*a), 2u);
  std::string content;
  for (const std::string& data : sse_data(reply.body())) {
    if (data == "[DONE]") {
      continue;
    }
    const json::value chunk = json::parse(data);
    for (const json::value& choice : chunk.at("choices").as_array()) {
      if (const json::value* c = choice.at("delta").as_object().if_contains("content");
          c != nullptr && c->is_string()) {
        content += std::string(c->as_string());
      }
    }
  }
  const json::object person = json::parse(content).as_object();
  EXPECT_TRUE(person.at("name").is_string()) << content;
  EXPECT_TRUE(person.at("age").is_int64()) << content;
}

}  // namespace
}  // namespace sheepdog::gateway::testing
