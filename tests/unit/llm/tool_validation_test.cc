#include "llm/tool_validation.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

namespace sheepdog::llm {
namespace {

namespace json = boost::json;

json::object parse_object(std::string_view text) { return json::parse(text).as_object(); }

json::object call(std::string_view id, std::string_view name, std::string_view arguments) {
  return json::object{{"id", id},
                      {"type", "function"},
                      {"function", json::object{{"name", name}, {"arguments", arguments}}}};
}

// A chat.completion whose only choice has `message`.
json::object completion_of(json::object message) {
  return json::object{
      {"id", "chatcmpl-1"},
      {"object", "chat.completion"},
      {"model", "gpt-4o"},
      {"choices", json::array{json::object{
                      {"index", 0}, {"message", std::move(message)}, {"finish_reason", "stop"}}}}};
}

json::object with_calls(std::vector<json::object> calls) {
  json::array list;
  for (json::object& c : calls) {
    list.push_back(std::move(c));
  }
  return completion_of(
      json::object{{"role", "assistant"}, {"content", nullptr}, {"tool_calls", std::move(list)}});
}

json::object with_content(std::string_view content) {
  return completion_of(json::object{{"role", "assistant"}, {"content", content}});
}

constexpr std::string_view kWeatherRequest = R"({
  "model": "gpt-4o",
  "messages": [{"role": "user", "content": "Weather in Paris?"}],
  "tools": [
    {"type": "function", "function": {"name": "get_weather", "parameters": {
      "type": "object",
      "properties": {
        "location": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 14},
        "when": {"type": "string", "format": "date-time"},
        "tags": {"type": "array", "items": {
          "type": "object",
          "properties": {"k": {"type": "string", "pattern": "^[a-z]+$"}},
          "required": ["k"]}}
      },
      "required": ["location"],
      "additionalProperties": false}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {
      "type": "object", "properties": {"zone": {"type": "string"}}}}}
  ]
})";

class ToolValidationTest : public ::testing::Test {
 protected:
  ToolValidationTest() : validator_(*AnswerValidator::for_request(parse_object(kWeatherRequest))) {}

  // The report for one get_weather call with `arguments`.
  ValidationReport weather(std::string_view arguments) const {
    return validator_.validate(with_calls({call("call_1", "get_weather", arguments)}));
  }

  // The single issue of a report that must have exactly one.
  static ValidationIssue only_issue(const ValidationReport& report) {
    EXPECT_FALSE(report.ok);
    EXPECT_EQ(report.issues.size(), 1u) << report.summary();
    return report.issues.empty() ? ValidationIssue{} : report.issues.front();
  }

  AnswerValidator validator_;
};

TEST_F(ToolValidationTest, ValidCallPasses) {
  const ValidationReport report =
      weather(R"({"location":"Paris","unit":"celsius","days":3,"when":"2024-01-15T09:30:00+01:00",)"
              R"("tags":[{"k":"a"}]})");
  EXPECT_TRUE(report.ok) << report.summary();
  EXPECT_TRUE(report.issues.empty());
  EXPECT_EQ(report.summary(), "");
  EXPECT_EQ(report.first_failing_choice(), -1);
  EXPECT_TRUE(validator_.schema_problems().empty());
  EXPECT_EQ(validator_.tool_names(), (std::vector<std::string>{"get_weather", "get_time"}));
}

TEST_F(ToolValidationTest, TruncatedJson) {
  const ValidationIssue issue = only_issue(weather(R"({"location":"Par)"));
  EXPECT_EQ(issue.reason, ValidationReason::kTruncatedJson);
  EXPECT_EQ(issue.kind, ValidationKind::kToolCall);
  EXPECT_EQ(issue.choice, 0);
  EXPECT_EQ(issue.call_index, 0);
  EXPECT_EQ(issue.tool, "get_weather");
  EXPECT_EQ(issue.path, "");
  EXPECT_EQ(issue.message, "arguments end before the JSON value is complete (16 bytes)");
}

TEST_F(ToolValidationTest, TrailingTextAfterJson) {
  const ValidationIssue issue = only_issue(weather(R"({"location":"Paris"} trailing)"));
  EXPECT_EQ(issue.reason, ValidationReason::kTrailingText);
  EXPECT_EQ(issue.message, "arguments continue after the JSON value, at byte 21: 'trailing'");
  // A second JSON value is trailing text too.
  EXPECT_EQ(only_issue(weather(R"({"location":"Paris"}{"location":"Rome"})")).reason,
            ValidationReason::kTrailingText);
}

TEST_F(ToolValidationTest, InvalidJson) {
  ValidationIssue issue = only_issue(weather(R"({"location" "Paris"})"));
  EXPECT_EQ(issue.reason, ValidationReason::kInvalidJson);
  EXPECT_EQ(issue.message,
            R"(arguments are not valid JSON: syntax error at byte 12, near '"Paris"}')");
  issue = only_issue(weather("```json\n{\"location\":\"Paris\"}\n```"));
  EXPECT_EQ(issue.reason, ValidationReason::kInvalidJson);
  EXPECT_EQ(issue.message, "arguments are wrapped in a Markdown code fence; send the bare JSON");
  issue = only_issue(weather(" "));
  EXPECT_EQ(issue.reason, ValidationReason::kInvalidJson);
  EXPECT_EQ(issue.message, "arguments are empty, expected JSON");
}

TEST_F(ToolValidationTest, ArgumentsMustBeAnObject) {
  const ValidationIssue issue = only_issue(weather("[1,2]"));
  EXPECT_EQ(issue.reason, ValidationReason::kSchemaViolation);
  EXPECT_EQ(issue.path, "");
  EXPECT_EQ(issue.message, "(root): expected a JSON object, got array [1,2]");
}

TEST_F(ToolValidationTest, WrongType) {
  const ValidationIssue issue = only_issue(weather(R"({"location":"Paris","days":"3"})"));
  EXPECT_EQ(issue.reason, ValidationReason::kSchemaViolation);
  EXPECT_EQ(issue.path, "/days");
  EXPECT_EQ(issue.message, "/days: expected integer, got string '3'");
  EXPECT_EQ(only_issue(weather(R"({"location":"Paris","days":2.5})")).message,
            "/days: expected integer, got number 2.5");
}

TEST_F(ToolValidationTest, IntegralNumberIsAnInteger) {
  // JSON Schema counts 2.0 as an integer; models write it.
  EXPECT_TRUE(weather(R"({"location":"Paris","days":2.0})").ok);
}

TEST_F(ToolValidationTest, MissingRequired) {
  const ValidationIssue issue = only_issue(weather(R"({"unit":"celsius"})"));
  EXPECT_EQ(issue.reason, ValidationReason::kSchemaViolation);
  EXPECT_EQ(issue.path, "/location");
  EXPECT_EQ(issue.message, "/location: missing required property");
}

TEST_F(ToolValidationTest, UnknownTool) {
  const ValidationIssue issue = only_issue(
      validator_.validate(with_calls({call("call_1", "get_wether", R"({"location":"Paris"})")})));
  EXPECT_EQ(issue.reason, ValidationReason::kUnknownTool);
  EXPECT_EQ(issue.tool, "get_wether");
  EXPECT_EQ(issue.message,
            "there is no tool named 'get_wether'; the offered tools are: get_weather, get_time");
}

TEST_F(ToolValidationTest, ExtraPropertyWithAdditionalPropertiesFalse) {
  const ValidationIssue issue = only_issue(weather(R"({"location":"Paris","extra":1})"));
  EXPECT_EQ(issue.reason, ValidationReason::kSchemaViolation);
  EXPECT_EQ(issue.path, "/extra");
  EXPECT_EQ(issue.message, "/extra: property not allowed (additionalProperties is false)");
}

TEST_F(ToolValidationTest, EveryExtraPropertyIsNamed) {
  // valijson names only the first; the model should hear of each.
  const ValidationReport report = weather(R"({"extra":1,"location":"Paris","more":2})");
  ASSERT_EQ(report.issues.size(), 2u) << report.summary();
  EXPECT_EQ(report.issues[0].message,
            "/extra: property not allowed (additionalProperties is false)");
  EXPECT_EQ(report.issues[1].message,
            "/more: property not allowed (additionalProperties is false)");
}

TEST_F(ToolValidationTest, Enum) {
  const ValidationIssue issue = only_issue(weather(R"({"location":"Paris","unit":"kelvin"})"));
  EXPECT_EQ(issue.path, "/unit");
  EXPECT_EQ(issue.message, R"(/unit: 'kelvin' is not one of ["celsius","fahrenheit"])");
}

TEST_F(ToolValidationTest, NestedArrayItems) {
  const ValidationReport report =
      weather(R"({"location":"Paris","tags":[{"k":"a"},{"x":1},{"k":"AB"}]})");
  ASSERT_EQ(report.issues.size(), 2u) << report.summary();
  EXPECT_EQ(report.issues[0].path, "/tags/1/k");
  EXPECT_EQ(report.issues[0].message, "/tags/1/k: missing required property");
  EXPECT_EQ(report.issues[1].path, "/tags/2/k");
  EXPECT_EQ(report.issues[1].message, "/tags/2/k: 'AB' does not match the pattern '^[a-z]+$'");
}

TEST_F(ToolValidationTest, FormatDateTime) {
  const ValidationIssue issue =
      only_issue(weather(R"({"location":"Paris","when":"2024-01-15T09:30:00"})"));
  EXPECT_EQ(issue.path, "/when");
  EXPECT_EQ(issue.message,
            "/when: '2024-01-15T09:30:00' is not a valid date-time (RFC 3339 with an offset, "
            "e.g. 2024-01-15T09:30:00Z)");
}

TEST_F(ToolValidationTest, Maximum) {
  EXPECT_EQ(only_issue(weather(R"({"location":"Paris","days":15})")).message,
            "/days: 15 is greater than the maximum 14");
  EXPECT_EQ(only_issue(weather(R"({"location":"Paris","days":0})")).message,
            "/days: 0 is less than the minimum 1");
}

TEST_F(ToolValidationTest, SeveralIssuesInOneCallInSchemaOrder) {
  const ValidationReport report = weather(R"({"days":"3","unit":"kelvin","extra":true})");
  EXPECT_EQ(report.summary(),
            "tool call 0 (get_weather): /days: expected integer, got string '3'\n"
            "tool call 0 (get_weather): /unit: 'kelvin' is not one of "
            "[\"celsius\",\"fahrenheit\"]\n"
            "tool call 0 (get_weather): /extra: property not allowed (additionalProperties is "
            "false)\n"
            "tool call 0 (get_weather): /location: missing required property");
}

TEST_F(ToolValidationTest, MultipleCallsOneBad) {
  const ValidationReport report = validator_.validate(
      with_calls({call("call_1", "get_time", R"({"zone":"UTC"})"),
                  call("call_2", "get_weather", R"({"location":"Paris","unit":"kelvin"})"),
                  call("call_3", "get_time", "{}")}));
  const ValidationIssue issue = only_issue(report);
  EXPECT_EQ(issue.call_index, 1);
  EXPECT_EQ(issue.tool, "get_weather");
  EXPECT_EQ(report.kind, ValidationKind::kToolCall);
  EXPECT_EQ(error_type(report.kind), "invalid_tool_call");
  EXPECT_EQ(report.summary(),
            R"(tool call 1 (get_weather): /unit: 'kelvin' is not one of ["celsius","fahrenheit"])");
}

TEST_F(ToolValidationTest, RefusalIsNotAViolation) {
  EXPECT_TRUE(validator_
                  .validate(completion_of(json::object{
                      {"role", "assistant"}, {"content", nullptr}, {"refusal", "I can't."}}))
                  .ok);
}

TEST_F(ToolValidationTest, PlainAnswerWithToolChoiceAutoPasses) {
  EXPECT_TRUE(validator_.validate(with_content("It is sunny.")).ok);
}

TEST_F(ToolValidationTest, MalformedAnswer) {
  const ValidationIssue issue = only_issue(validator_.validate(parse_object(R"({"id":"x"})")));
  EXPECT_EQ(issue.reason, ValidationReason::kMalformedAnswer);
  EXPECT_EQ(issue.message, "the answer has no choices");
}

TEST_F(ToolValidationTest, LaterChoiceFails) {
  json::object completion = with_content("fine");
  completion["choices"].as_array().push_back(
      with_calls({call("c", "get_weather", "{}")})["choices"].as_array()[0]);
  const ValidationReport report = validator_.validate(completion);
  EXPECT_EQ(report.first_failing_choice(), 1);
  EXPECT_EQ(report.summary(),
            "choice 1: tool call 0 (get_weather): /location: missing required "
            "property");
  // Through a const view: json::object::operator[] may regrow the table (moving every member)
  // even for a key that exists, and the two arguments' evaluation order is unspecified.
  const json::object& view = completion;
  EXPECT_EQ(choice_message(completion, 1),
            &view.at("choices").as_array()[1].as_object().at("message").as_object());
  EXPECT_EQ(choice_message(completion, 2), nullptr);
}

TEST_F(ToolValidationTest, SummaryIsBounded) {
  std::vector<json::object> calls;
  for (int i = 0; i < 100; ++i) {
    calls.push_back(call("c", std::string(50, 'x'), "{}"));
  }
  const ValidationReport report = validator_.validate(with_calls(std::move(calls)));
  ASSERT_EQ(report.issues.size(), 100u);
  const std::string summary = report.summary();
  EXPECT_LE(summary.size(), 2048u);
  EXPECT_GT(summary.size(), 1500u);
  // Each line is about 190 bytes: ten fit, then the cut.
  EXPECT_TRUE(summary.ends_with("\n... and 90 more")) << summary;
}

TEST(ToolValidationFormatTest, EachCheckedFormat) {
  struct Case {
    std::string format;
    std::string good;
    std::string bad;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"date", "2024-02-29", "2023-02-29",
       "/v: '2023-02-29' is not a valid date (YYYY-MM-DD, e.g. 2024-01-15)"},
      {"time", "09:30:00.5Z", "9:30",
       "/v: '9:30' is not a valid time (HH:MM:SS with an offset, "
       "e.g. 09:30:00Z)"},
      {"date-time", "2024-01-15T09:30:00Z", "2024-01-15 09:30",
       "/v: '2024-01-15 09:30' is not a valid date-time (RFC 3339 with an offset, e.g. "
       "2024-01-15T09:30:00Z)"},
      {"email", "user@example.com", "user.example.com",
       "/v: 'user.example.com' is not a valid email"},
      {"uri", "https://example.com/a?b=1", "example.com/a",
       "/v: 'example.com/a' is not a valid uri (an absolute URI with a scheme, e.g. "
       "https://example.com/a)"},
      {"uuid", "123e4567-e89b-12d3-a456-426614174000", "123e4567e89b12d3a456426614174000",
       "/v: '123e4567e89b12d3a456426614174000' is not a valid uuid (e.g. "
       "123e4567-e89b-12d3-a456-426614174000)"},
      {"ipv4", "192.168.0.1", "192.168.0.256", "/v: '192.168.0.256' is not a valid ipv4"},
      {"ipv6", "::1", "::g", "/v: '::g' is not a valid ipv6"},
      {"hostname", "api.example.com", "-bad-.com", "/v: '-bad-.com' is not a valid hostname"},
  };
  for (const Case& c : cases) {
    json::object schema{
        {"type", "object"},
        {"properties",
         json::object{{"v", json::object{{"type", "string"}, {"format", c.format}}}}}};
    json::object request{
        {"response_format",
         json::object{{"type", "json_schema"},
                      {"json_schema", json::object{{"name", "x"}, {"schema", schema}}}}}};
    const AnswerValidator validator = *AnswerValidator::for_request(request);
    const std::string good = json::serialize(json::object{{"v", c.good}});
    const std::string bad = json::serialize(json::object{{"v", c.bad}});
    EXPECT_TRUE(validator.validate(with_content(good)).ok) << c.format;
    const ValidationReport report = validator.validate(with_content(bad));
    ASSERT_EQ(report.issues.size(), 1u) << c.format;
    EXPECT_EQ(report.issues[0].message, c.message);
  }
}

TEST(ToolValidationFormatTest, UnknownFormatsAndNonStringsPass) {
  const AnswerValidator validator = *AnswerValidator::for_request(parse_object(R"({
    "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {
      "type": "object", "properties": {"a": {"format": "color"}, "b": {"format": "email"}}}}}})"));
  EXPECT_TRUE(validator.validate(with_content(R"({"a":"not a color","b":5})")).ok);
}

TEST(ToolValidationSchemaTest, KeywordMessages) {
  const AnswerValidator validator = *AnswerValidator::for_request(parse_object(R"({
    "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {
      "type": "object",
      "$defs": {"code": {"type": "string", "maxLength": 3}},
      "properties": {
        "code": {"$ref": "#/$defs/code"},
        "list": {"type": "array", "minItems": 2},
        "fixed": {"const": "v1"},
        "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        "ratio": {"type": "number", "exclusiveMaximum": 1, "multipleOf": 0.5},
        "maybe": {"type": ["string", "null"]}
      }}}}})"));
  const ValidationReport report = validator.validate(with_content(
      R"({"code":"ABCD","list":[1],"fixed":"v2","either":true,"ratio":1.5,"maybe":3})"));
  EXPECT_EQ(report.kind, ValidationKind::kStructuredOutput);
  EXPECT_EQ(error_type(report.kind), "invalid_structured_output");
  EXPECT_EQ(report.summary(),
            "content at /code: 'ABCD' should be no more than 3 characters in length (it has 4)\n"
            "content at /either: expected string or integer, got boolean true\n"
            "content at /either: true matches none of the anyOf alternatives\n"
            "content at /fixed: 'v2' is not the required value \"v1\"\n"
            "content at /list: array should contain no fewer than 2 elements (it has 1)\n"
            "content at /maybe: expected string or null, got integer 3\n"
            "content at /ratio: 1.5 must be less than 1");
}

TEST(ToolValidationSchemaTest, LongStringsAreMatchedAgainstPatterns) {
  const AnswerValidator validator = *AnswerValidator::for_request(parse_object(R"({
    "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {
      "type": "object", "properties": {"s": {"type": "string", "pattern": "^(a|b)*$"}}}}}})"));
  // std::regex recursed per character, so strings over 1 KB used to pass unchecked.
  const std::string long_c(100000, 'c');
  EXPECT_FALSE(validator.validate(with_content(json::serialize(json::object{{"s", long_c}}))).ok);
  EXPECT_TRUE(
      validator.validate(with_content(json::serialize(json::object{{"s", std::string(900, 'a')}})))
          .ok);
  // Long enough to need JIT's larger stack (or, interpreted, undecided: it passes either way).
  EXPECT_TRUE(
      validator
          .validate(with_content(json::serialize(json::object{{"s", std::string(100000, 'a')}})))
          .ok);
}

TEST(ToolValidationSchemaTest, UnusableSchemasAcceptAnyObjectAndSayWhy) {
  const auto validator = AnswerValidator::for_request(parse_object(R"({"tools": [
    {"type": "function", "function": {"name": "typo", "parameters": {"type": "strin"}}},
    {"type": "function", "function": {"name": "self", "parameters": {"$ref": "#"}}},
    {"type": "function", "function": {"name": "loop", "parameters": {"allOf": [{"$ref": "#"}]}}},
    {"type": "function", "function": {"name": "prop", "parameters":
      {"properties": {"a": {"$ref": "#/properties/a"}}}}},
    {"type": "function", "function": {"name": "regex", "parameters":
      {"properties": {"a": {"type": "string", "pattern": "(["}}}}},
    {"type": "function", "function": {"name": "remote", "parameters": {"$ref": "http://x/y"}}},
    {"type": "function", "function": {"name": "text", "parameters": "hello"}},
    {"type": "function", "function": {"name": "required", "parameters": {"required": "x"}}},
    {"type": "function", "function": {"name": "dangling", "parameters":
      {"properties": {"a": {"$ref": "#/definitions/nope"}}}}},
    {"type": "function", "function": {"name": "recursive", "parameters":
      {"type": "object", "properties": {"n": {"$ref": "#"}}}}}
  ], "response_format": {"type": "json_schema", "json_schema": {"name": "x"}}})"));
  ASSERT_TRUE(validator.has_value());
  std::vector<std::string> problems;
  for (const SchemaProblem& problem : validator->schema_problems()) {
    problems.push_back(problem.tool + ": " + problem.reason);
  }
  EXPECT_EQ(problems,
            (std::vector<std::string>{
                "typo: parameters: /type: type must be one of null, boolean, object, array, "
                "number, integer or string, got \"strin\"",
                "self: parameters: $ref cycle through (root) never descends into the value",
                "loop: parameters: $ref cycle through (root) never descends into the value",
                "prop: parameters: $ref cycle through /properties/a never descends into the value",
                "regex: parameters: invalid pattern '([': missing terminating ] for character "
                "class at offset 2",
                "remote: parameters: $ref 'http://x/y' is not a local reference (#/...)",
                "text: parameters: not a JSON Schema object",
                "required: parameters: /required: required must be an array of distinct strings, "
                "got \"x\"",
                "dangling: parameters: $ref '#/definitions/nope' does not resolve",
                ": response_format: json_schema has no schema",
            }));
  // Unusable: any object passes, anything else does not. Recursive refs that descend are fine.
  const ValidationReport report =
      validator->validate(with_calls({call("1", "typo", R"({"a":1})"), call("2", "self", "[1]"),
                                      call("3", "recursive", R"({"n":{"n":{"n":5}}})")}));
  ASSERT_EQ(report.issues.size(), 2u) << report.summary();
  EXPECT_EQ(report.issues[0].call_index, 1);
  EXPECT_EQ(report.issues[0].message, "(root): expected a JSON object, got array [1]");
  EXPECT_EQ(report.issues[1].call_index, 2);
  EXPECT_EQ(report.issues[1].message, "/n/n/n: expected object, got integer 5");
}

TEST(ToolValidationSchemaTest, DeepArgumentsAreInvalidJsonNotACrash) {
  const auto validator = AnswerValidator::for_request(
      parse_object(R"({"tools":[{"type":"function","function":{"name":"f"}}]})"));
  const std::string deep = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  const ValidationReport report = validator->validate(with_calls({call("1", "f", deep)}));
  ASSERT_EQ(report.issues.size(), 1u);
  EXPECT_EQ(report.issues[0].reason, ValidationReason::kInvalidJson);
}

TEST(ToolValidationStructuredTest, JsonSchema) {
  const AnswerValidator validator = *AnswerValidator::for_request(parse_object(R"({
    "response_format": {"type": "json_schema", "json_schema": {"name": "person", "strict": true,
      "schema": {"type": "object", "properties": {"name": {"type": "string"},
                 "age": {"type": "integer", "minimum": 0}},
                 "required": ["name", "age"], "additionalProperties": false}}}})"));
  EXPECT_TRUE(validator.validate(with_content(R"({"name":"Ann","age":3})")).ok);
  ValidationReport report = validator.validate(with_content(R"({"name":5,"age":-1})"));
  EXPECT_EQ(report.kind, ValidationKind::kStructuredOutput);
  ASSERT_EQ(report.issues.size(), 2u);
  EXPECT_EQ(report.issues[0].call_index, -1);
  EXPECT_EQ(report.issues[0].tool, "");
  EXPECT_EQ(report.summary(),
            "content at /age: -1 is less than the minimum 0\n"
            "content at /name: expected string, got integer 5");
  report = validator.validate(with_content(R"({"name":"A","age":3)"));
  EXPECT_EQ(report.issues.at(0).reason, ValidationReason::kTruncatedJson);
  EXPECT_EQ(report.summary(), "content ends before the JSON value is complete (19 bytes)");
}

TEST(ToolValidationStructuredTest, JsonObject) {
  const AnswerValidator validator =
      *AnswerValidator::for_request(parse_object(R"({"response_format":{"type":"json_object"}})"));
  EXPECT_TRUE(validator.validate(with_content(R"({"anything":[1,2]})")).ok);
  EXPECT_EQ(validator.validate(with_content("[1]")).summary(),
            "content at (root): expected a JSON object, got array [1]");
  const ValidationReport prose = validator.validate(with_content(R"(Sure! {"a":1})"));
  EXPECT_EQ(prose.issues.at(0).reason, ValidationReason::kInvalidJson);
  EXPECT_EQ(prose.summary(),
            R"(content is not valid JSON: syntax error at byte 0, near 'Sure! {"a":1}')");
  const ValidationReport trailing = validator.validate(with_content("{\"a\":1}\nDone."));
  EXPECT_EQ(trailing.summary(), "content continues after the JSON value, at byte 8: 'Done.'");
  EXPECT_EQ(
      validator.validate(completion_of(json::object{{"role", "assistant"}, {"content", nullptr}}))
          .summary(),
      "content is missing, expected JSON");
  EXPECT_TRUE(validator
                  .validate(completion_of(json::object{
                      {"role", "assistant"}, {"content", nullptr}, {"refusal", "No."}}))
                  .ok);
}

TEST(ToolValidationStructuredTest, ToolCallsSkipTheContentCheck) {
  const AnswerValidator validator = *AnswerValidator::for_request(parse_object(R"({
    "tools": [{"type": "function", "function": {"name": "f"}}],
    "response_format": {"type": "json_object"}})"));
  json::object completion = with_calls({call("1", "f", "{}")});
  completion["choices"].as_array()[0].as_object()["message"].as_object()["content"] = "thinking";
  EXPECT_TRUE(validator.validate(completion).ok);
  EXPECT_FALSE(validator.validate(with_content("thinking")).ok);
}

TEST(ToolValidationRequestTest, NothingToValidate) {
  EXPECT_FALSE(AnswerValidator::for_request(parse_object(R"({"messages":[]})")).has_value());
  EXPECT_FALSE(AnswerValidator::for_request(parse_object(R"({"tools":[]})")).has_value());
  EXPECT_FALSE(AnswerValidator::for_request(parse_object(R"({"response_format":{"type":"text"}})"))
                   .has_value());
  EXPECT_FALSE(AnswerValidator::for_request(parse_object(R"({"tools":[{"type":"web_search"}]})"))
                   .has_value());
}

constexpr std::string_view kTwoTools = R"([
  {"type": "function", "function": {"name": "a", "parameters": {"type": "object"}}},
  {"type": "function", "function": {"name": "b"}}])";

AnswerValidator two_tools(std::string_view extra) {
  return *AnswerValidator::for_request(
      parse_object("{\"tools\":" + std::string(kTwoTools) + std::string(extra) + "}"));
}

TEST(ToolValidationChoiceTest, NoneForbidsCalls) {
  const AnswerValidator validator = two_tools(R"(,"tool_choice":"none")");
  const ValidationReport report = validator.validate(with_calls({call("1", "a", "{}")}));
  ASSERT_EQ(report.issues.size(), 1u);
  EXPECT_EQ(report.issues[0].reason, ValidationReason::kForbiddenToolCall);
  EXPECT_EQ(report.issues[0].message, R"(no tool may be called: tool_choice is "none")");
  EXPECT_TRUE(validator.validate(with_content("hi")).ok);
}

TEST(ToolValidationChoiceTest, RequiredNeedsACall) {
  const AnswerValidator validator = two_tools(R"(,"tool_choice":"required")");
  const ValidationReport report = validator.validate(with_content("hi"));
  ASSERT_EQ(report.issues.size(), 1u);
  EXPECT_EQ(report.issues[0].reason, ValidationReason::kMissingToolCall);
  EXPECT_EQ(report.issues[0].call_index, -1);
  EXPECT_EQ(report.issues[0].tool, "");
  EXPECT_EQ(report.kind, ValidationKind::kToolCall);
  EXPECT_EQ(report.summary(), "the answer calls no tool, but tool_choice requires a tool call");
  EXPECT_TRUE(validator.validate(with_calls({call("1", "b", "{}")})).ok);
  EXPECT_TRUE(validator
                  .validate(completion_of(json::object{
                      {"role", "assistant"}, {"content", nullptr}, {"refusal", "No."}}))
                  .ok);
}

TEST(ToolValidationChoiceTest, NamedToolOnly) {
  const AnswerValidator validator =
      two_tools(R"(,"tool_choice":{"type":"function","function":{"name":"b"}})");
  ValidationReport report =
      validator.validate(with_calls({call("1", "a", "{}"), call("2", "b", "{}")}));
  ASSERT_EQ(report.issues.size(), 1u);
  EXPECT_EQ(report.issues[0].reason, ValidationReason::kForbiddenToolCall);
  EXPECT_EQ(report.issues[0].call_index, 0);
  EXPECT_EQ(report.issues[0].message, "tool_choice requires calling 'b', not 'a'");
  report = validator.validate(with_content("hi"));
  ASSERT_EQ(report.issues.size(), 1u);
  EXPECT_EQ(report.issues[0].reason, ValidationReason::kMissingToolCall);
  EXPECT_EQ(report.issues[0].tool, "b");
  EXPECT_EQ(report.issues[0].message,
            "the answer calls no tool, but tool_choice requires calling 'b'");
  // An unoffered tool is unknown before it is forbidden.
  EXPECT_EQ(validator.validate(with_calls({call("1", "zz", "{}")})).issues.at(0).reason,
            ValidationReason::kUnknownTool);
}

TEST(ToolValidationChoiceTest, AllowedTools) {
  const AnswerValidator validator =
      two_tools(R"(,"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto",)"
                R"("tools":[{"type":"function","function":{"name":"b"}}]}})");
  EXPECT_EQ(validator.validate(with_calls({call("1", "a", "{}")})).summary(),
            "tool call 0 (a): 'a' is not among the allowed tools: b");
  EXPECT_TRUE(validator.validate(with_content("hi")).ok);
}

TEST(ToolValidationChoiceTest, ParallelToolCallsFalse) {
  const AnswerValidator validator = two_tools(R"(,"parallel_tool_calls":false)");
  const ValidationReport report =
      validator.validate(with_calls({call("1", "a", "{}"), call("2", "b", "{}")}));
  ASSERT_EQ(report.issues.size(), 1u);
  EXPECT_EQ(report.issues[0].reason, ValidationReason::kTooManyToolCalls);
  EXPECT_EQ(report.issues[0].call_index, 1);
  EXPECT_EQ(report.summary(),
            "tool call 1 (b): only one tool call is allowed per answer (parallel_tool_calls is "
            "false)");
}

// ---- ToolCallAssembler ----

json::object assemble(const std::vector<std::string_view>& chunks) {
  ToolCallAssembler assembler;
  for (std::string_view chunk : chunks) {
    assembler.add(parse_object(chunk));
  }
  return assembler.completion();
}

TEST(ToolCallAssemblerTest, ArgumentsSplitAcrossChunks) {
  // As OpenAI streams one tool call, with stream_options.include_usage.
  ToolCallAssembler assembler;
  for (std::string_view chunk : {
           R"({"id":"chatcmpl-9","object":"chat.completion.chunk","created":1700000000,
              "model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,
              "delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,
              "id":"call_abc","type":"function","function":{"name":"get_weather",
              "arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}],
              "usage":null})",
           R"({"id":"chatcmpl-9","object":"chat.completion.chunk","created":1700000000,
              "model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"tool_calls":[
              {"index":0,"function":{"arguments":"{\"lo"}}]},"finish_reason":null}]})",
           R"({"id":"chatcmpl-9","choices":[{"index":0,"delta":{"tool_calls":[
              {"index":0,"function":{"arguments":"cation\":\"Par"}}]},"finish_reason":null}]})",
           R"({"id":"chatcmpl-9","choices":[{"index":0,"delta":{"tool_calls":[
              {"index":0,"function":{"arguments":"is\"}"}}]},"finish_reason":null}]})",
       }) {
    assembler.add(parse_object(chunk));
  }
  EXPECT_FALSE(assembler.finished());
  assembler.add(parse_object(
      R"({"id":"chatcmpl-9","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})"));
  EXPECT_TRUE(assembler.finished());
  assembler.add(parse_object(R"({"id":"chatcmpl-9","choices":[],
      "usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}})"));
  EXPECT_EQ(assembler.completion(), parse_object(R"({
    "id":"chatcmpl-9","object":"chat.completion","created":1700000000,
    "model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1",
    "choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[
      {"id":"call_abc","type":"function","function":{"name":"get_weather",
       "arguments":"{\"location\":\"Paris\"}"}}]},
      "finish_reason":"tool_calls","logprobs":null}],
    "usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}})"));
  const AnswerValidator validator = *AnswerValidator::for_request(parse_object(kWeatherRequest));
  EXPECT_TRUE(validator.validate(assembler.completion()).ok);
}

TEST(ToolCallAssemblerTest, TwoParallelCallsInterleaved) {
  const json::object completion = assemble({
      R"({"id":"c","model":"m","created":1,"choices":[{"index":0,"delta":{"role":"assistant",
         "tool_calls":[{"index":0,"id":"call_1","type":"function",
         "function":{"name":"get_weather","arguments":"{\"location\":"}}]}}]})",
      R"({"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2",
         "type":"function","function":{"name":"get_time","arguments":"{\"zone\""}}]}}]})",
      R"({"id":"c","choices":[{"index":0,"delta":{"tool_calls":[
         {"index":0,"function":{"arguments":"\"Paris\"}"}},
         {"index":1,"function":{"arguments":":\"UTC\"}"}}]}}]})",
      R"({"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})",
  });
  const json::array& calls =
      completion.at("choices").at(0).at("message").at("tool_calls").as_array();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], parse_object(R"({"id":"call_1","type":"function","function":{
      "name":"get_weather","arguments":"{\"location\":\"Paris\"}"}})"));
  EXPECT_EQ(calls[1], parse_object(R"({"id":"call_2","type":"function","function":{
      "name":"get_time","arguments":"{\"zone\":\"UTC\"}"}})"));
  const AnswerValidator validator = *AnswerValidator::for_request(parse_object(kWeatherRequest));
  EXPECT_TRUE(validator.validate(completion).ok);
}

TEST(ToolCallAssemblerTest, ContentThenToolCallAndACutStream) {
  // Some servers repeat id and name in later deltas and omit the index: the first id and name
  // stand, a missing index counts by position.
  const json::object completion = assemble({
      R"({"id":"c","model":"m","created":1,"choices":[{"index":0,
         "delta":{"role":"assistant","content":"Let me "}}]})",
      R"({"id":"c","choices":[{"index":0,"delta":{"content":"check."}}]})",
      R"({"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"id":"call_1",
         "type":"function","function":{"name":"get_weather","arguments":"{\"locat"}}]}}]})",
      R"({"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"id":"call_1",
         "type":"function","function":{"name":"get_weather","arguments":"ion\":\"Pa"}}]}}]})",
  });
  EXPECT_EQ(completion, parse_object(R"({"id":"c","object":"chat.completion","created":1,
    "model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Let me check.",
      "tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather",
      "arguments":"{\"location\":\"Pa"}}]},"finish_reason":null,"logprobs":null}]})"));
  const AnswerValidator validator = *AnswerValidator::for_request(parse_object(kWeatherRequest));
  EXPECT_EQ(validator.validate(completion).summary(),
            "tool call 0 (get_weather): arguments end before the JSON value is complete (15 "
            "bytes)");
}

TEST(ToolCallAssemblerTest, RefusalAndBoundedIndexes) {
  const json::object completion = assemble({
      R"({"id":"c","model":"m","created":1,"choices":[{"index":0,"delta":{"refusal":"I can"}}]})",
      R"({"choices":[{"index":0,"delta":{"refusal":"'t."},"finish_reason":"stop"},
                     {"index":4096,"delta":{"content":"ignored"}}]})",
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":100000,"id":"x"}]}}]})",
      R"({"error":{"message":"ignored too"}})",
  });
  EXPECT_EQ(completion, parse_object(R"({"id":"c","object":"chat.completion","created":1,
    "model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,
    "refusal":"I can't."},"finish_reason":"stop","logprobs":null}]})"));
}

TEST(ToolValidationNamesTest, StableNames) {
  EXPECT_EQ(to_string(ValidationReason::kUnknownTool), "unknown_tool");
  EXPECT_EQ(to_string(ValidationReason::kInvalidJson), "invalid_json");
  EXPECT_EQ(to_string(ValidationReason::kTruncatedJson), "truncated_json");
  EXPECT_EQ(to_string(ValidationReason::kTrailingText), "trailing_text");
  EXPECT_EQ(to_string(ValidationReason::kSchemaViolation), "schema_violation");
  EXPECT_EQ(to_string(ValidationReason::kMissingToolCall), "missing_tool_call");
  EXPECT_EQ(to_string(ValidationReason::kForbiddenToolCall), "forbidden_tool_call");
  EXPECT_EQ(to_string(ValidationReason::kTooManyToolCalls), "too_many_tool_calls");
  EXPECT_EQ(to_string(ValidationReason::kMalformedAnswer), "malformed_answer");
  EXPECT_EQ(to_string(ValidationKind::kToolCall), "tool_call");
  EXPECT_EQ(to_string(ValidationKind::kStructuredOutput), "structured_output");
}

}  // namespace
}  // namespace sheepdog::llm
