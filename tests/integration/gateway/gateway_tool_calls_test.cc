// Answer validation through the whole gateway on loopback: tool calls and structured output
// are checked before they reach the client; an invalid answer is repaired (the errors sent
// back to the model), resampled, passed through flagged, or, once the allowance is spent,
// answered with a 502 naming the errors. Anthropic deployments go through the same checks.
#include <gtest/gtest.h>

#include "gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

using mock::Outcome;

std::string yaml(std::string_view mode, int max_retries = 2, bool enabled = true) {
  return std::string(R"(
providers:
  a: {kind: openai, base_url: "${A}/v1", api_keys: ["sk-test-aaaa-1111"]}
  c: {kind: anthropic, base_url: "${C}/v1", api_keys: ["sk-ant-test-0000000000"]}
policies:
  default:
    max_attempts: 1
    timeouts: {attempt: 5s, total: 10s}
    tool_validation: {enabled: )") +
         (enabled ? "true" : "false") + ", mode: " + std::string(mode) +
         ", max_retries: " + std::to_string(max_retries) + R"(}
models:
  m:
    deployments: [{provider: a, model: gpt-4o-mini}]
  claude:
    deployments: [{provider: c, model: claude-x}]
)";
}

constexpr std::string_view kWeatherRequest =
    R"({"model":"m","messages":[{"role":"user","content":"Weather in Paris?"}],)"
    R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":)"
    R"({"type":"object","properties":{"city":{"type":"string"},)"
    R"("unit":{"type":"string","enum":["celsius","fahrenheit"]}},)"
    R"("required":["city","unit"],"additionalProperties":false}}}],)"
    R"("tool_choice":"required"})";

std::string request_for(std::string_view model) {
  std::string body(kWeatherRequest);
  body.replace(body.find(R"("model":"m")"), 11, R"("model":")" + std::string(model) + "\"");
  return body;
}

// A chat.completion whose tool call breaks the schema (unit is not in the enum).
constexpr std::string_view kBadCall =
    R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini",)"
    R"("choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant",)"
    R"("content":null,"tool_calls":[{"id":"call_1","type":"function","function":)"
    R"({"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"kelvin\"}"}}]}}],)"
    R"("usage":{"prompt_tokens":20,"completion_tokens":9,"total_tokens":29}})";

std::string metrics_line(GatewayHarness& gw, std::string_view prefix) {
  const std::string text = gw.get("/metrics").body();
  const size_t at = text.find(prefix);
  return at == std::string::npos ? "" : text.substr(at, text.find('\n', at) - at);
}

TEST(GatewayToolCallsTest, AValidToolCallIsMarkedValid) {
  auto a = start_mock();
  GatewayHarness gw(yaml("repair"), {{"A", a->url()}, {"C", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", std::string(kWeatherRequest));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "valid");
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "1");
}

TEST(GatewayToolCallsTest, ARepairSucceedsOnTheSecondAnswer) {
  auto a = start_mock();
  a->planner().set_script(std::nullopt, {Outcome::kInvalidToolArgs});
  GatewayHarness gw(yaml("repair"), {{"A", a->url()}, {"C", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", std::string(kWeatherRequest));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "repaired");
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "2");
  EXPECT_EQ(upstream_calls(*a), 2u);
  const json::object call = json::parse(reply.body())
                                .at("choices")
                                .as_array()[0]
                                .at("message")
                                .at("tool_calls")
                                .as_array()[0]
                                .as_object();
  const json::object args = json::parse(call.at("function").at("arguments").as_string()).as_object();
  EXPECT_TRUE(args.contains("city"));
  EXPECT_EQ(metrics_line(gw, R"(sheepdog_validation_retries_total{model="m",mode="repair"})"),
            R"(sheepdog_validation_retries_total{model="m",mode="repair"} 1)");
  EXPECT_EQ(metrics_line(gw, R"(sheepdog_validation_results_total{model="m",result="repaired"})"),
            R"(sheepdog_validation_results_total{model="m",result="repaired"} 1)");
  EXPECT_NE(metrics_line(gw, R"(sheepdog_validation_failures_total{model="m",kind="tool_call")"),
            "");
}

TEST(GatewayToolCallsTest, ResampleSendsTheSameRequestAgain) {
  auto a = start_mock();
  a->planner().set_script(std::nullopt, {Outcome::kMalformedToolCall, Outcome::kOk});
  GatewayHarness gw(yaml("resample"), {{"A", a->url()}, {"C", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", std::string(kWeatherRequest));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "repaired");
  EXPECT_EQ(upstream_calls(*a), 2u);
  EXPECT_EQ(metrics_line(gw, R"(sheepdog_validation_retries_total{model="m",mode="resample"})"),
            R"(sheepdog_validation_retries_total{model="m",mode="resample"} 1)");
}

TEST(GatewayToolCallsTest, ARepairThatNeverSucceedsIs502ListingTheErrors) {
  StubUpstream a(200, std::string(kBadCall));
  GatewayHarness gw(yaml("repair", 2), {{"A", a.url()}, {"C", a.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", std::string(kWeatherRequest));
  EXPECT_EQ(reply.status(), 502) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "failed");
  EXPECT_EQ(a.calls(), 3);  // the answer, then max_retries 2 repairs
  const json::object error = json::parse(reply.body()).at("error").as_object();
  EXPECT_EQ(error.at("type").as_string(), "invalid_tool_call");
  EXPECT_EQ(error.at("code").as_string(), "invalid_tool_call");
  EXPECT_NE(error.at("message").as_string().find("kelvin"), std::string_view::npos)
      << error.at("message").as_string();
  // The last request carried the faulty call back with its errors.
  const json::array messages = json::parse(a.last_body()).at("messages").as_array();
  ASSERT_EQ(messages.size(), 3u) << a.last_body();
  EXPECT_EQ(messages[1].at("role"), "assistant");
  EXPECT_EQ(messages[2].at("role"), "tool");
  EXPECT_EQ(messages[2].at("tool_call_id"), "call_1");
  EXPECT_NE(messages[2].at("content").as_string().find("kelvin"), std::string_view::npos);
  // Logs hold the reasons, never the model's output. The request's line is written just after
  // the answer went out.
  EXPECT_TRUE(eventually([&] {
    for (const std::string& line : gw.log_lines()) {
      if (line.find(R"("event":"request")") != std::string::npos) {
        return true;
      }
    }
    return false;
  }));
  int invalid_attempts = 0;
  bool request_line = false;
  for (const std::string& line : gw.log_lines()) {
    EXPECT_EQ(line.find("kelvin"), std::string::npos) << line;
    if (line.find(R"("outcome":"invalid_tool_call")") != std::string::npos &&
        line.find("answer failed validation: schema_violation") != std::string::npos) {
      ++invalid_attempts;
    }
    if (line.find(R"("event":"request")") != std::string::npos) {
      request_line = line.find(R"("validation":"failed")") != std::string::npos;
    }
  }
  EXPECT_EQ(invalid_attempts, 3);
  EXPECT_TRUE(request_line);
}

TEST(GatewayToolCallsTest, PassReturnsTheInvalidAnswerFlagged) {
  StubUpstream a(200, std::string(kBadCall));
  GatewayHarness gw(yaml("pass"), {{"A", a.url()}, {"C", a.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", std::string(kWeatherRequest));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "failed");
  EXPECT_EQ(a.calls(), 1);
  EXPECT_NE(reply.body().find("kelvin"), std::string::npos);
  EXPECT_EQ(
      metrics_line(gw, R"(sheepdog_validation_results_total{model="m",result="passed_invalid"})"),
      R"(sheepdog_validation_results_total{model="m",result="passed_invalid"} 1)");
}

TEST(GatewayToolCallsTest, DisabledValidationRelaysAsIs) {
  StubUpstream a(200, std::string(kBadCall));
  GatewayHarness gw(yaml("repair", 2, /*enabled=*/false), {{"A", a.url()}, {"C", a.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", std::string(kWeatherRequest));
  ASSERT_EQ(reply.status(), 200);
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "");
  EXPECT_EQ(a.calls(), 1);
}

TEST(GatewayToolCallsTest, StructuredOutputIsValidatedToo) {
  constexpr std::string_view kNotJson =
      R"({"id":"chatcmpl-2","object":"chat.completion","created":1,"model":"gpt-4o-mini",)"
      R"("choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant",)"
      R"("content":"Sure! {\"a\": 1"}}]})";
  StubUpstream a(200, std::string(kNotJson));
  GatewayHarness gw(yaml("repair", 1), {{"A", a.url()}, {"C", a.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply =
      gw.post("/v1/chat/completions",
              R"({"model":"m","messages":[{"role":"user","content":"JSON please"}],)"
              R"("response_format":{"type":"json_object"}})");
  EXPECT_EQ(reply.status(), 502) << reply.body();
  EXPECT_EQ(json::parse(reply.body()).at("error").at("type"), "invalid_structured_output");
  EXPECT_EQ(a.calls(), 2);
  const json::array messages = json::parse(a.last_body()).at("messages").as_array();
  EXPECT_EQ(messages.back().at("role"), "user");  // the errors, asking for valid JSON
}

TEST(GatewayToolCallsTest, AnthropicAnswersGoThroughTheSameValidation) {
  constexpr std::string_view kClaudeBadCall =
      R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x",)"
      R"("stop_reason":"tool_use","content":[{"type":"tool_use","id":"toolu_1",)"
      R"("name":"get_weather","input":{"city":"Paris"}}],)"
      R"("usage":{"input_tokens":9,"output_tokens":4}})";
  StubUpstream c(200, std::string(kClaudeBadCall));
  GatewayHarness gw(yaml("repair", 1), {{"A", c.url()}, {"C", c.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", request_for("claude"));
  EXPECT_EQ(reply.status(), 502) << reply.body();
  EXPECT_EQ(c.calls(), 2);
  EXPECT_NE(json::parse(reply.body()).at("error").at("message").as_string().find("unit"),
            std::string_view::npos);
  // The repair went to Claude in its own format: the faulty tool_use and a tool_result.
  const std::string sent = c.last_body();
  EXPECT_NE(sent.find(R"("type":"tool_result")"), std::string::npos) << sent;
}

}  // namespace
}  // namespace sheepdog::gateway::testing
