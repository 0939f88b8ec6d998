// A request's token usage is the sum of its attempts' (issue 11: the last attempt's overwrote
// the others, so the tokens of a repaired or resampled answer were lost from
// sheepdog_tokens_total and from the key's TPM correction); each attempt's log line keeps its
// own.
#include <gtest/gtest.h>

#include "support/raw_upstream.h"
#include "integration/gateway/gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

using sheepdog::testing::RawUpstream;

constexpr std::string_view kRequest =
    R"({"model":"m","messages":[{"role":"user","content":"Weather in Paris?"}],)"
    R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":)"
    R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"],)"
    R"("additionalProperties":false}}}],"tool_choice":"required"})";

std::string answer(std::string_view arguments, int prompt, int completion) {
  return R"({"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o",)"
         R"("choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant",)"
         R"("content":null,"tool_calls":[{"id":"call_1","type":"function","function":)"
         R"({"name":"get_weather","arguments":")" +
         std::string(arguments) + R"("}}]}}],"usage":{"prompt_tokens":)" +
         std::to_string(prompt) + R"(,"completion_tokens":)" + std::to_string(completion) +
         "}}";
}

std::string metric(GatewayHarness& gw, std::string_view series) {
  const std::string text = gw.get("/metrics").body();
  const size_t at = text.find(series);
  return at == std::string::npos ? "absent"
                                 : text.substr(at + series.size() + 1,
                                               text.find('\n', at) - at - series.size() - 1);
}

TEST(UsageAccountingTest, ARepairedRequestCountsTheTokensOfEveryAttempt) {
  RawUpstream a([](RawUpstream::Exchange& x) {
    x.write(RawUpstream::json_response(
        200, x.call == 1 ? answer(R"({\"town\":\"Paris\"})", 20, 9)
                         : answer(R"({\"city\":\"Paris\"})", 31, 7)));
  });
  GatewayHarness gw(R"(
providers:
  a: {kind: openai, base_url: "${A}/v1", api_keys: ["sk-test-aaaa-1111"]}
policies:
  default:
    max_attempts: 1
    timeouts: {attempt: 5s, total: 10s}
    tool_validation: {mode: repair, max_retries: 2}
models:
  m: {deployments: [{provider: a, model: gpt-4o}]}
)",
                    {{"A", a.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", std::string(kRequest));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-validation"), "repaired");
  EXPECT_EQ(a.calls(), 2);
  EXPECT_EQ(metric(gw, R"(sheepdog_tokens_total{model="m",direction="prompt"})"), "51");
  EXPECT_EQ(metric(gw, R"(sheepdog_tokens_total{model="m",direction="completion"})"), "16");

  std::vector<std::string> attempts;
  std::string request;
  ASSERT_TRUE(eventually([&] {
    attempts.clear();
    for (const std::string& line : gw.log_lines()) {
      if (line.find(R"("event":"attempt")") != std::string::npos) {
        attempts.push_back(line);
      } else if (line.find(R"("prompt_tokens":51)") != std::string::npos) {
        request = line;
      }
    }
    return attempts.size() == 2 && !request.empty();
  })) << attempts.size() << " attempt lines; request line: " << request;
  EXPECT_NE(attempts[0].find(R"("prompt_tokens":20,"completion_tokens":9)"), std::string::npos)
      << attempts[0];
  EXPECT_NE(attempts[1].find(R"("prompt_tokens":31,"completion_tokens":7)"), std::string::npos)
      << attempts[1];
  EXPECT_NE(request.find(R"("completion_tokens":16)"), std::string::npos) << request;
}

}  // namespace
}  // namespace sheepdog::gateway::testing
