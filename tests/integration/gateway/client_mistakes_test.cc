// Client mistakes are 400s before anything goes upstream (issue 10), through the real gateway on
// loopback in front of an in-process mock: the tool schema with `multipleOf: 0` that used to
// kill the process with SIGFPE once an answer was validated against it, other degenerate or
// unsatisfiable schemas, a tool_choice naming no offered tool, sampling parameters out of range,
// and a body that is not UTF-8, on /v1/chat/completions and /v1/messages, streamed or not, with
// tool validation on and off. "Nothing sent" is proved by the mock's request counter.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

#include "integration/gateway/gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

constexpr std::string_view kYaml = R"(
providers:
  up: {kind: openai, base_url: "${UP}/v1"}
policies:
  default:
    max_attempts: 3
    timeouts: {attempt: 5s, total: 10s}
  unchecked:
    max_attempts: 3
    tool_validation: {enabled: false}
models:
  checked:
    deployments: [{provider: up, model: gpt-4o}]
  unchecked:
    policy: unchecked
    deployments: [{provider: up, model: gpt-4o}]
)";

// The issue's repro: a forced tool whose schema divides by zero.
constexpr std::string_view kDegenerateTool =
    R"({"type":"function","function":{"name":"f","parameters":{"type":"object",)"
    R"("properties":{"a":{"type":"number","multipleOf":0}},"required":["a"]}}})";

std::string chat(std::string_view model, bool stream, std::string_view extra) {
  return R"({"model":")" + std::string(model) +
         R"(","messages":[{"role":"user","content":"x"}],"stream":)" + (stream ? "true" : "false") +
         std::string(extra) + "}";
}

std::string messages(std::string_view model, bool stream, std::string_view extra) {
  return R"({"model":")" + std::string(model) +
         R"(","max_tokens":16,"messages":[{"role":"user","content":"x"}],"stream":)" +
         (stream ? "true" : "false") + std::string(extra) + "}";
}

class ClientMistakesTest : public ::testing::Test {
 protected:
  ClientMistakesTest() : mock_(start_mock(7)), gateway_(kYaml, {{"UP", mock_->url()}}) {}

  // POSTs `body` and checks it is a 400 that reached no upstream; returns the parsed error.
  json::object refused(std::string_view target, std::string body) {
    LoopbackClient c = gateway_.client();
    LoopbackClient::Request request = c.make_request(http::verb::post, target, std::move(body));
    request.set("anthropic-version", "2023-06-01");
    LoopbackClient::Reply reply = c.request(std::move(request));
    EXPECT_TRUE(reply.ok()) << reply.ec.message();
    EXPECT_EQ(reply.status(), 400) << reply.body();
    EXPECT_EQ(upstream_calls(*mock_), 0u) << "the mistake reached the upstream";
    return json::parse(reply.body()).as_object();
  }

  std::unique_ptr<mock::MockServer> mock_;
  GatewayHarness gateway_;
};

TEST_F(ClientMistakesTest, MultipleOfZeroIsA400OnBothApisStreamedOrNot) {
  const std::string forced_openai =
      ",\"tools\":[" + std::string(kDegenerateTool) +
      R"(],"tool_choice":{"type":"function","function":{"name":"f"}})";
  const std::string forced_anthropic =
      R"(,"tools":[{"name":"f","input_schema":{"type":"object","properties":{"a":)"
      R"({"type":"number","multipleOf":0}},"required":["a"]}}],"tool_choice":{"type":"tool",)"
      R"("name":"f"})";
  for (std::string_view model : {"checked", "unchecked"}) {
    for (bool stream : {false, true}) {
      const json::object openai =
          refused("/v1/chat/completions", chat(model, stream, forced_openai));
      const json::object& error = openai.at("error").as_object();
      EXPECT_EQ(error.at("param"), "tools[0].function.parameters");
      EXPECT_EQ(error.at("code"), "invalid_function_parameters");
      EXPECT_NE(std::string(error.at("message").as_string()).find("'f'"), std::string::npos);
      EXPECT_NE(std::string(error.at("message").as_string()).find("multipleOf"), std::string::npos);

      const json::object anthropic =
          refused("/v1/messages", messages(model, stream, forced_anthropic));
      EXPECT_EQ(anthropic.at("type"), "error");
      EXPECT_EQ(anthropic.at("error").at("type"), "invalid_request_error");
      EXPECT_EQ(anthropic.at("error").at("message"),
                "tools.0.input_schema: invalid schema for tool 'f': /properties/a/multipleOf: "
                "multipleOf must be a number greater than 0, got 0");
    }
  }
  // The gateway is still there, and serves a sound tool request.
  LoopbackClient::Reply ok =
      gateway_.post("/v1/chat/completions",
                    chat("checked", false,
                         R"(,"tools":[{"type":"function","function":{"name":"f","parameters":)"
                         R"({"type":"object","properties":{"a":{"type":"string"}}}}}])"));
  EXPECT_EQ(ok.status(), 200) << ok.body();
}

TEST_F(ClientMistakesTest, OtherSchemaAndToolMistakesAre400s) {
  const auto with_parameters = [](std::string_view parameters) {
    return R"(,"tools":[{"type":"function","function":{"name":"f","parameters":)" +
           std::string(parameters) + "}}]";
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {with_parameters("[1,2]"), "tools[0].function.parameters"},
      {with_parameters("\"object\""), "tools[0].function.parameters"},
      {with_parameters("true"), "tools[0].function.parameters"},
      {with_parameters(R"({"type":"object","properties":{"u":{"enum":[]}}})"),
       "tools[0].function.parameters"},
      {with_parameters(R"({"type":"object","properties":{"n":{"minimum":5,"maximum":1}}})"),
       "tools[0].function.parameters"},
      {with_parameters(R"({"type":"object","properties":{"n":{"multipleOf":-3}}})"),
       "tools[0].function.parameters"},
      {with_parameters(R"({"type":"object","properties":{"s":{"minLength":-1}}})"),
       "tools[0].function.parameters"},
      {with_parameters(R"({"type":"object","properties":{"l":{"maxItems":1e30}}})"),
       "tools[0].function.parameters"},
      {with_parameters(R"({"type":"object","$ref":"#"})"), "tools[0].function.parameters"},
      {with_parameters("{}") + R"(,"tool_choice":{"type":"function","function":{"name":"g"}})",
       "tool_choice"},
  };
  for (const auto& [extra, param] : cases) {
    for (bool stream : {false, true}) {
      const json::object error = refused("/v1/chat/completions", chat("checked", stream, extra));
      EXPECT_EQ(error.at("error").at("param"), json::value(param)) << extra;
    }
  }
}

TEST_F(ClientMistakesTest, SamplingParametersAndEncodingAre400s) {
  for (std::string extra : {R"(,"temperature":"hot")", R"(,"temperature":5)", R"(,"max_tokens":-5)",
                            R"(,"n":1000)", R"(,"max_tokens":1e9)"}) {
    const json::object error = refused("/v1/chat/completions", chat("checked", false, extra));
    EXPECT_EQ(error.at("error").at("type"), "invalid_request_error") << extra;
  }
  const json::object anthropic =
      refused("/v1/messages", messages("checked", false, R"(,"temperature":1.5)"));
  EXPECT_EQ(anthropic.at("error").at("message"),
            "temperature: Input should be less than or equal to 1");
  const std::string bad_utf8 =
      "{\"model\":\"checked\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}";
  const json::object utf8 = refused("/v1/chat/completions", bad_utf8);
  EXPECT_NE(std::string(utf8.at("error").at("message").as_string())
                .find("invalid UTF-8 (byte 0xff) at byte " + std::to_string(bad_utf8.find('\xff'))),
            std::string::npos)
      << utf8;
  const json::object surrogate =
      refused("/v1/messages", R"({"model":"checked","max_tokens":8,"messages":[{"role":"user",)"
                              R"("content":"\ud800"}]})");
  EXPECT_NE(std::string(surrogate.at("error").at("message").as_string())
                .find("lone surrogate \\ud800 at byte"),
            std::string::npos)
      << surrogate;
}

}  // namespace
}  // namespace sheepdog::gateway::testing
