// What answer validation costs the gateway per request (policy tool_validation): compiling the
// request's tool schemas (once per request), validating a typical tool-call answer, and running a
// streamed answer through the StreamGate that holds the tool-call part back.
#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "gateway/stream_gate.h"
#include "llm/tool_validation.h"
#include "llm/validator_cache.h"

namespace {

namespace json = boost::json;

// A request with two tools, one of them with a nested, strict schema (the shape of a typical
// agent's tool list), and the answer calling it.
const json::object& request() {
  static const json::object r = json::parse(R"({
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Book a table for four at 7pm at Chez Nous."}],
    "tools": [
      {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "required": ["city"], "additionalProperties": false,
        "properties": {"city": {"type": "string"},
                       "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}}},
      {"type": "function", "function": {"name": "book_table", "parameters": {
        "type": "object", "required": ["restaurant", "guests", "time", "contact"],
        "additionalProperties": false,
        "properties": {
          "restaurant": {"type": "string", "minLength": 1},
          "guests": {"type": "integer", "minimum": 1, "maximum": 20},
          "time": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
          "date": {"type": "string", "format": "date"},
          "contact": {"type": "object", "required": ["name"], "additionalProperties": false,
                      "properties": {"name": {"type": "string"},
                                     "email": {"type": "string", "format": "email"}}},
          "notes": {"type": "array", "items": {"type": "string"}, "maxItems": 5}}}}}
    ]})")
                                    .as_object();
  return r;
}

const json::object& answer() {
  static const json::object a = json::parse(R"({
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
      "role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
        "function": {"name": "book_table", "arguments": "{\"restaurant\":\"Chez Nous\",\"guests\":4,\"time\":\"19:00\",\"date\":\"2026-11-27\",\"contact\":{\"name\":\"Ada\",\"email\":\"ada@example.com\"},\"notes\":[\"window seat\"]}"}}]}}],
    "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160}})")
                                    .as_object();
  return a;
}

void BM_CompileRequestSchemas(benchmark::State& state) {
  for (auto _ : state) {
    auto validator = sheepdog::llm::AnswerValidator::for_request(request());
    benchmark::DoNotOptimize(validator);
  }
}
BENCHMARK(BM_CompileRequestSchemas);

void BM_ValidateToolCallAnswer(benchmark::State& state) {
  const auto validator = sheepdog::llm::AnswerValidator::for_request(request());
  for (auto _ : state) {
    const sheepdog::llm::ValidationReport report = validator->validate(answer());
    benchmark::DoNotOptimize(report.ok);
  }
}
BENCHMARK(BM_ValidateToolCallAnswer);

// The whole per-request cost for a non-streamed answer: parse the body, compile, validate.
void BM_ParseCompileValidate(benchmark::State& state) {
  const std::string body = json::serialize(answer());
  for (auto _ : state) {
    const json::value parsed = json::parse(body);
    const auto validator = sheepdog::llm::AnswerValidator::for_request(request());
    const sheepdog::llm::ValidationReport report = validator->validate(parsed.get_object());
    benchmark::DoNotOptimize(report.ok);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ParseCompileValidate);

// A streamed tool call of 60 argument deltas through the gate, then the assembled answer.
void BM_StreamGateToolCall(benchmark::State& state) {
  std::string stream =
      "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
      "\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":"
      "\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"book_table\",\"arguments\":"
      "\"\"}}]},\"finish_reason\":null}]}\n\n";
  for (int i = 0; i < 60; ++i) {
    stream +=
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"abc\"}}]},"
        "\"finish_reason\":null}]}\n\n";
  }
  stream += "data: [DONE]\n\n";
  std::string forward;
  for (auto _ : state) {
    sheepdog::gateway::StreamGate gate(sheepdog::gateway::StreamGate::Hold::kToolCalls);
    forward.clear();
    for (size_t at = 0; at < stream.size(); at += 1460) {
      gate.feed(std::string_view(stream).substr(at, 1460), forward);
    }
    benchmark::DoNotOptimize(gate.completion());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_StreamGateToolCall);

}  // namespace

namespace {

// What the gateway pays per request once the tool set has been seen: the cache lookup (the key
// is the tool list as JSON text) and the validation.
void BM_CachedLookupAndValidate(benchmark::State& state) {
  sheepdog::llm::ValidatorCache cache;
  for (auto _ : state) {
    const auto validator = cache.get(request());
    const sheepdog::llm::ValidationReport report = validator->validate(answer());
    benchmark::DoNotOptimize(report.ok);
  }
}
BENCHMARK(BM_CachedLookupAndValidate);

}  // namespace
