// Answer validation and repair against an Anthropic deployment, on loopback: the mock speaks
// the Messages API on /v1/messages and injects tool faults into its tool_use blocks; the
// gateway translates each answer to OpenAI's shape, validates it and sends the repair request
// back to Claude translated again (the faulty tool_use and a tool_result stating the errors).
// The mock's decoder checks requests as Anthropic does (tool_use input must be an object), so
// an answer from it proves the repair request was accepted.
//
// What the mock does for Anthropic: a whole message's tool_use input is always an object, so
// tool_truncated_json (and tool_trailing_text, malformed_tool_call) become invalid_tool_args
// there: an object breaking the schema. Broken JSON text reaches an Anthropic deployment only
// in a repair request made from another deployment's answer (the last test).
#include <gtest/gtest.h>

#include "gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

using mock::Outcome;

constexpr std::string_view kYaml = R"(
providers:
  a: {kind: openai, base_url: "${A}/v1", api_keys: ["sk-test-aaaa-1111"]}
  c: {kind: anthropic, base_url: "${C}/v1", api_keys: ["sk-ant-test-0000000000"]}
policies:
  default:
    max_attempts: 1
    timeouts: {attempt: 5s, total: 10s}
    tool_validation: {enabled: true, mode: repair, max_retries: 2}
models:
  gpt:
    deployments: [{provider: a, model: gpt-4o-mini}]
    fallbacks: [claude]
  claude:
    deployments: [{provider: c, model: claude-x}]
)";

// get_weather with a closed schema; tool_choice "required" becomes Anthropic's "any".
std::string weather_request(std::string_view model) {
  return R"({"model":")" + std::string(model) +
         R"(","messages":[{"role":"user","content":"Weather in Paris?"}],)"
         R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":)"
         R"({"type":"object","properties":{"city":{"type":"string"},)"
         R"("unit":{"type":"string","enum":["celsius","fahrenheit"]}},)"
         R"("required":["city","unit"],"additionalProperties":false}}}],)"
         R"("tool_choice":"required"})";
}

// How many of the mock's requests got `outcome` (the outcome drawn or scripted, before any
// fallback of mock_tool_faults.h), and how many reached `endpoint`.
uint64_t outcome_count(mock::MockServer& mock, std::string_view outcome) {
  const mock::MockStats::Snapshot s = mock.stats().snapshot();
  const auto it = s.by_outcome.find(std::string(outcome));
  return it == s.by_outcome.end() ? 0 : it->second;
}
uint64_t endpoint_count(mock::MockServer& mock, std::string_view endpoint) {
  const mock::MockStats::Snapshot s = mock.stats().snapshot();
  const auto it = s.by_endpoint.find(std::string(endpoint));
  return it == s.by_endpoint.end() ? 0 : it->second;
}

// The value of the metric line that starts with `series`, or "" if there is none.
std::string metric(GatewayHarness& gw, std::string_view series) {
  const std::string text = gw.get("/metrics").body();
  const size_t at = text.find(std::string(series) + " ");
  if (at == std::string::npos) {
    return "";
  }
  const size_t value = at + series.size() + 1;
  return text.substr(value, text.find('\n', value) - value);
}

json::object first_tool_call(const std::string& body) {
  return json::parse(body)
      .at("choices")
      .as_array()[0]
      .at("message")
      .at("tool_calls")
      .as_array()[0]
      .as_object();
}

// The arguments of a valid get_weather call.
void expect_valid_weather_call(const std::string& body) {
  const json::object call = first_tool_call(body);
  EXPECT_EQ(call.at("function").at("name"), "get_weather") << body;
  const json::object args =
      json::parse(call.at("function").at("arguments").as_string()).as_object();
  EXPECT_EQ(args.size(), 2u) << body;
  EXPECT_TRUE(args.at("city").is_string()) << body;
  const json::string& unit = args.at("unit").as_string();
  EXPECT_TRUE(unit == "celsius" || unit == "fahrenheit") << body;
}

int64_t prompt_tokens(const std::string& body) {
  return json::parse(body).at("usage").at("prompt_tokens").as_int64();
}

TEST(GatewayToolCallsAnthropicTest, AWrongTypeIsRepairedByClaude) {
  auto c = start_mock();
  c->planner().set_script("claude-x", {Outcome::kToolWrongType});
  GatewayHarness gw(kYaml, {{"A", c->url()}, {"C", c->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", weather_request("claude"));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "repaired");
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "2");
  EXPECT_EQ(header(reply.response, "x-sheepdog-deployment"), "c/claude-x");
  expect_valid_weather_call(reply.body());
  EXPECT_EQ(upstream_calls(*c), 2u);
  EXPECT_EQ(endpoint_count(*c, "messages"), 2u);
  EXPECT_EQ(outcome_count(*c, "tool_wrong_type"), 1u);
  EXPECT_EQ(outcome_count(*c, "ok"), 1u);
  EXPECT_EQ(metric(gw, R"(sheepdog_validation_failures_total{model="claude",kind="tool_call",)"
                       R"(reason="schema_violation"})"),
            "1");
  EXPECT_EQ(metric(gw, R"(sheepdog_validation_retries_total{model="claude",mode="repair"})"), "1");
  EXPECT_EQ(metric(gw, R"(sheepdog_validation_results_total{model="claude",result="repaired"})"),
            "1");

  // The second request was the repair, not the same request again: it carried the faulty
  // tool_use and the tool_result with the errors, so Claude read more than a first answer's
  // prompt holds.
  const auto plain = gw.post("/v1/chat/completions", weather_request("claude"));
  ASSERT_EQ(plain.status(), 200) << plain.body();
  EXPECT_EQ(header(plain.response, "x-sheepdog-validation"), "valid");
  EXPECT_EQ(upstream_calls(*c), 3u);
  EXPECT_GT(prompt_tokens(reply.body()), prompt_tokens(plain.body()));
}

TEST(GatewayToolCallsAnthropicTest, TruncatedJsonOnEveryAnswerIs502AfterMaxRetriesPlusOne) {
  auto c = start_mock();
  c->planner().set_script("claude-x", {Outcome::kToolTruncatedJson, Outcome::kToolTruncatedJson,
                                       Outcome::kToolTruncatedJson, Outcome::kToolTruncatedJson});
  GatewayHarness gw(kYaml, {{"A", c->url()}, {"C", c->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", weather_request("claude"));
  EXPECT_EQ(reply.status(), 502) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "failed");
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "3");
  const json::object error = error_of(reply.body());
  EXPECT_EQ(error.at("type"), "invalid_tool_call");
  EXPECT_EQ(error.at("code"), "invalid_tool_call");
  EXPECT_NE(error.at("message").as_string().find("on all 3 answers (deployment 'c/claude-x')"),
            std::string_view::npos)
      << error.at("message").as_string();
  // The answer, then max_retries 2 repairs; the fourth scripted outcome is never used.
  EXPECT_EQ(upstream_calls(*c), 3u);
  EXPECT_EQ(outcome_count(*c, "tool_truncated_json"), 3u);
  EXPECT_EQ(c->planner().script_length("claude-x"), 1u);
  // A whole Anthropic message cannot hold cut JSON: the mock sent an object breaking the
  // schema instead, so the gateway saw schema violations, never truncated JSON.
  EXPECT_EQ(metric(gw, R"(sheepdog_validation_failures_total{model="claude",kind="tool_call",)"
                       R"(reason="schema_violation"})"),
            "3");
  EXPECT_EQ(metric(gw, R"(sheepdog_validation_failures_total{model="claude",kind="tool_call",)"
                       R"(reason="truncated_json"})"),
            "");
  EXPECT_EQ(metric(gw, R"(sheepdog_validation_results_total{model="claude",result="failed"})"),
            "1");
}

TEST(GatewayToolCallsAnthropicTest, AnUnknownToolIsRepaired) {
  auto c = start_mock();
  c->planner().set_script("claude-x", {Outcome::kToolUnknownTool});
  GatewayHarness gw(kYaml, {{"A", c->url()}, {"C", c->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", weather_request("claude"));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "repaired");
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "2");
  expect_valid_weather_call(reply.body());
  EXPECT_EQ(upstream_calls(*c), 2u);
  EXPECT_EQ(outcome_count(*c, "tool_unknown_tool"), 1u);
  EXPECT_EQ(outcome_count(*c, "ok"), 1u);
  EXPECT_EQ(metric(gw, R"(sheepdog_validation_failures_total{model="claude",kind="tool_call",)"
                       R"(reason="unknown_tool"})"),
            "1");
}

// An OpenAI deployment answers with arguments cut mid-JSON, then fails the repair with a 500;
// the repair request falls back to Claude carrying the cut arguments verbatim. They go as
// tool_use input {} (Anthropic requires an object; the tool_result says what was wrong), and
// Claude's answer is valid.
TEST(GatewayToolCallsAnthropicTest, ARepairCarryingBrokenJsonFallsBackToClaude) {
  auto a = start_mock();
  a->planner().set_script("gpt-4o-mini", {Outcome::kToolTruncatedJson, Outcome::kServerError});
  auto c = start_mock(2);
  GatewayHarness gw(kYaml, {{"A", a->url()}, {"C", c->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", weather_request("gpt"));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "repaired");
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "3");
  EXPECT_EQ(header(reply.response, "x-sheepdog-deployment"), "c/claude-x");
  expect_valid_weather_call(reply.body());
  EXPECT_EQ(outcome_count(*a, "tool_truncated_json"), 1u);
  EXPECT_EQ(outcome_count(*a, "server_error"), 1u);
  EXPECT_EQ(upstream_calls(*a), 2u);
  EXPECT_EQ(endpoint_count(*c, "messages"), 1u);
  EXPECT_EQ(outcome_count(*c, "ok"), 1u);
  EXPECT_EQ(metric(gw, R"(sheepdog_validation_failures_total{model="gpt",kind="tool_call",)"
                       R"(reason="truncated_json"})"),
            "1");
}

}  // namespace
}  // namespace sheepdog::gateway::testing
