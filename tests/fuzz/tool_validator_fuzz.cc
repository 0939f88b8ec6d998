// Fuzz target: tool-call and structured-output validation (llm/tool_validation.h): schema
// preparation and compilation of an arbitrary client schema (AnswerValidator::for_request), then
// arbitrary model output checked against it (validate).
//
// Input: SCHEMA, then fuzz::kPartSeparator, then OUTPUT.
//   SCHEMA: a JSON Schema, offered as the `parameters` of a tool "f" that tool_choice forces and
//           as a json_schema response_format; or, if it is an object with `tools` or
//           `response_format`, a whole chat request whose own tools and settings are used.
//   OUTPUT: the text checked as the arguments of a call to "f" and as the message content; if
//           it is an object with `choices`, it is also validated as a whole chat.completion.
// The report's summary is built too (it quotes the output in error messages).
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz/fuzz_support.h"
#include "llm/tool_validation.h"

namespace {

namespace json = boost::json;
using sheepdog::llm::AnswerValidator;

// KNOWN BUG, skipped until the fix is merged (validation engineer, issue 10: "multipleOf 0 /
// degenerate schemas"): an integer `multipleOf` of 0 makes valijson divide by zero (SIGFPE), a
// negative one lets INT64_MIN % -1 overflow, and valijson reads a string such as "0" as an
// integer too. Remove this function and its call once schema preparation refuses such schemas.
bool has_known_bad_multiple_of(const json::value& value) {
  if (value.is_array()) {
    for (const json::value& item : value.get_array()) {
      if (has_known_bad_multiple_of(item)) {
        return true;
      }
    }
    return false;
  }
  if (!value.is_object()) {
    return false;
  }
  for (const auto& [key, item] : value.get_object()) {
    if (key == "multipleOf" && ((item.is_int64() && item.get_int64() <= 0) || item.is_string())) {
      return true;
    }
    if (has_known_bad_multiple_of(item)) {
      return true;
    }
  }
  return false;
}

json::object request_for(const json::value& schema) {
  if (schema.is_object() && (schema.get_object().contains("tools") ||
                             schema.get_object().contains("response_format"))) {
    return schema.get_object();
  }
  json::object request;
  request["model"] = "gpt-fuzz";
  request["messages"] = json::array{json::object{{"role", "user"}, {"content", "hi"}}};
  request["tools"] = json::array{json::object{
      {"type", "function"},
      {"function", json::object{{"name", "f"}, {"parameters", schema}}}}};
  request["tool_choice"] =
      json::object{{"type", "function"}, {"function", json::object{{"name", "f"}}}};
  request["response_format"] = json::object{
      {"type", "json_schema"},
      {"json_schema", json::object{{"name", "out"}, {"schema", schema}, {"strict", true}}}};
  return request;
}

json::object completion_with(json::object message) {
  message["role"] = "assistant";
  return json::object{
      {"id", "chatcmpl-fuzz"},
      {"object", "chat.completion"},
      {"choices", json::array{json::object{
                      {"index", 0}, {"message", std::move(message)}, {"finish_reason", "stop"}}}}};
}

void check(const AnswerValidator& validator, const json::object& completion) {
  const sheepdog::llm::ValidationReport report = validator.validate(completion);
  if (report.ok != report.issues.empty()) {
    sheepdog::fuzz::invariant_failed("a validation report is ok iff it has no issues");
  }
  report.summary();
  report.first_failing_choice();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [schema_text, output] = sheepdog::fuzz::split_parts(sheepdog::fuzz::as_text(data, size));
  boost::system::error_code ec;
  const json::value schema = json::parse(schema_text, ec);
  if (ec || has_known_bad_multiple_of(schema)) {
    return 0;  // nothing to compile (the JSON parser has a target of its own upstream)
  }
  const std::optional<AnswerValidator> validator = AnswerValidator::for_request(request_for(schema));
  if (!validator) {
    return 0;
  }
  validator->tool_names();

  json::object call{{"id", "call_1"},
                    {"type", "function"},
                    {"function", json::object{{"name", "f"}, {"arguments", output}}}};
  check(*validator, completion_with(json::object{{"content", nullptr},
                                                 {"tool_calls", json::array{std::move(call)}}}));
  check(*validator, completion_with(json::object{{"content", output}}));

  const json::value answer = json::parse(output, ec);
  if (!ec && answer.is_object() && answer.get_object().contains("choices")) {
    check(*validator, answer.get_object());
  }
  return 0;
}
