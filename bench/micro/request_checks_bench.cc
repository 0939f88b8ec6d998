// What the up-front request checks cost per request (server/gateway_validation.h): parsing and
// validating a plain chat request, the same with an agent's two tools (schema lint, and the
// preparer's pass for the one with a pattern), and the tools check alone.
#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>
#include <string>

#include "llm/request_tools_check.h"
#include "server/gateway_validation.h"

namespace {

namespace json = boost::json;

constexpr std::string_view kPlain =
    R"({"model":"gpt-4o-mini","temperature":0.7,"max_tokens":256,"messages":[)"
    R"({"role":"system","content":"You are a helpful assistant."},)"
    R"({"role":"user","content":"Book a table for four at 7pm at Chez Nous."}]})";

// The two tools of bench/micro/validation_bench.cc: one flat, one nested with a pattern.
constexpr std::string_view kTools = R"(,"tools":[
  {"type":"function","function":{"name":"get_weather","parameters":{
    "type":"object","required":["city"],"additionalProperties":false,
    "properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}}}}},
  {"type":"function","function":{"name":"book_table","parameters":{
    "type":"object","required":["restaurant","guests","time","contact"],"additionalProperties":false,
    "properties":{"restaurant":{"type":"string","minLength":1},
      "guests":{"type":"integer","minimum":1,"maximum":20},
      "time":{"type":"string","pattern":"^[0-2][0-9]:[0-5][0-9]$"},
      "date":{"type":"string","format":"date"},
      "contact":{"type":"object","required":["name"],"additionalProperties":false,
        "properties":{"name":{"type":"string"},"email":{"type":"string","format":"email"}}},
      "notes":{"type":"array","items":{"type":"string"},"maxItems":5}}}}}],
  "tool_choice":"auto"})";

std::string with_tools(bool pattern) {
  std::string body(kPlain.substr(0, kPlain.size() - 1));
  std::string tools(kTools);
  if (!pattern) {
    const std::string_view key = R"("pattern":"^[0-2][0-9]:[0-5][0-9]$")";
    tools.replace(tools.find(key), key.size(), R"("minLength":5)");
  }
  return body + tools;
}

// Fails the benchmark if `body` is refused (the figures would be an error path's).
bool accepted(benchmark::State& state, std::string_view body) {
  if (!std::holds_alternative<sheepdog::gateway::GatewayRequest>(
          sheepdog::server::validate_chat_request(body))) {
    state.SkipWithError("the request was refused");
    return false;
  }
  return true;
}

void BM_ValidatePlainChat(benchmark::State& state) {
  if (!accepted(state, kPlain)) {
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(sheepdog::server::validate_chat_request(kPlain));
  }
}
BENCHMARK(BM_ValidatePlainChat);

void BM_ValidateChatWithTools(benchmark::State& state) {
  const std::string body = with_tools(state.range(0) != 0);
  if (!accepted(state, body)) {
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(sheepdog::server::validate_chat_request(body));
  }
}
BENCHMARK(BM_ValidateChatWithTools)->Arg(0)->Arg(1)->ArgNames({"pattern"});

void BM_ToolsCheckOnly(benchmark::State& state) {
  const json::object request = json::parse(with_tools(state.range(0) != 0)).as_object();
  for (auto _ : state) {
    benchmark::DoNotOptimize(sheepdog::llm::check_request_tools(request));
  }
}
BENCHMARK(BM_ToolsCheckOnly)->Arg(0)->Arg(1)->ArgNames({"pattern"});

}  // namespace
