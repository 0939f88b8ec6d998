// Validation of a model's answer against what the request asked for: tool calls against the
// offered tools (name, JSON arguments, each tool's `parameters` JSON Schema, tool_choice,
// parallel_tool_calls) and structured output against `response_format` (json_schema or
// json_object). Pure: no I/O, no clock. What to do with an invalid answer is
// resilience/tool_call_policy.h; the repair message is llm/repair_prompt.h.
//
// Both providers answer in OpenAI's chat.completion shape (the Anthropic provider translates),
// so one validator serves every deployment; streams are assembled into the same shape by
// ToolCallAssembler (llm/tool_call_assembler.h) first.
//
// Schemas are JSON Schema draft 7, checked by valijson: type, enum, const, required,
// properties, additionalProperties, patternProperties, items, additionalItems, contains,
// min/maxItems, uniqueItems, min/maxProperties, propertyNames, dependencies, minimum/maximum
// (and the exclusive forms), multipleOf, min/maxLength, pattern, allOf/anyOf/oneOf/not,
// if/then/else, and local $ref ("#", "#/definitions/...", "#/$defs/...").
// Formats checked: date, time, date-time (RFC 3339), email, hostname, ipv4, ipv6, uri,
// uri-reference (RFC 3986), uuid. Other formats are annotations and pass.
// `pattern` is an ECMAScript regex searched in the string (unanchored, as the spec says), run
// by PCRE2 (llm/schema_regex.h) under a match limit: a string too costly to decide passes.
// patternProperties keys are checked by PCRE2 when compiling but matched by valijson itself,
// with std::regex compiled per validation; a key std::regex refuses makes the value pass.
//
// A schema that cannot be used (not an object, unknown type name, bad regex, a $ref that is
// not local or does not resolve, a $ref cycle that never descends into the value, nesting
// deeper than 64, a keyword llm/schema_lint.h refuses) does not fail here: that tool accepts any
// JSON object (the response_format any JSON value) and the reason is in schema_problems(). The
// gateway never gets that far with one: llm/request_tools_check.h refuses the request up front.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/tool_call_assembler.h"

namespace sheepdog::llm {

// A client's JSON Schema compiled by valijson; defined in llm/compiled_schema.h, which keeps
// valijson's heavy headers out of includers.
struct CompiledSchema;

enum class ValidationReason : unsigned char {
  kUnknownTool,        // a tool call names a tool that was not offered
  kInvalidJson,        // arguments / content are not JSON (syntax error, empty, null content)
  kTruncatedJson,      // JSON that stops before the value is complete (max_tokens, cut stream)
  kTrailingText,       // a complete JSON value followed by more text
  kSchemaViolation,    // parses, but breaks the schema (or is not an object for arguments)
  kMissingToolCall,    // tool_choice "required" or a named tool, and the answer calls none
  kForbiddenToolCall,  // tool_choice "none", or a tool other than the one tool_choice names
  kTooManyToolCalls,   // parallel_tool_calls false and more than one call (the extra ones)
  kMalformedAnswer,    // the completion has no choices[].message object
};
// Stable snake_case names for metric labels and logs: "unknown_tool", "invalid_json",
// "truncated_json", "trailing_text", "schema_violation", "missing_tool_call",
// "forbidden_tool_call", "too_many_tool_calls", "malformed_answer".
std::string_view to_string(ValidationReason reason);

enum class ValidationKind : unsigned char { kToolCall, kStructuredOutput };
std::string_view to_string(ValidationKind kind);  // "tool_call", "structured_output"
// The client-facing error type: "invalid_tool_call", "invalid_structured_output".
std::string_view error_type(ValidationKind kind);

struct ValidationIssue {
  ValidationReason reason = ValidationReason::kSchemaViolation;
  ValidationKind kind = ValidationKind::kToolCall;
  int choice = 0;       // choices[choice]
  int call_index = -1;  // message.tool_calls[call_index]; -1: the message or its content
  std::string tool;     // the tool name as the model sent it; empty when not about one call
  // JSON Pointer into the arguments (tool call) or the content (structured output) where the
  // problem is, "" for the whole value. For a missing or disallowed property it points at that
  // property ("/location").
  std::string path;
  // One line, no newline. Schema problems start with the path ("(root)" for ""), e.g.
  //   /unit: 'kelvin' is not one of ["celsius","fahrenheit"]
  //   /location: missing required property
  //   /days: expected integer, got string '3'
  // JSON problems describe the text, e.g. "arguments end before the JSON value is complete
  // (17 bytes)". Values from the answer are quoted, shortened to about 60 bytes.
  std::string message;
};

struct ValidationReport {
  bool ok = true;
  // Meaningful iff !ok: kToolCall when any issue is about tool calls, else kStructuredOutput.
  ValidationKind kind = ValidationKind::kToolCall;
  // In order of choice, then call index, then position in the value.
  std::vector<ValidationIssue> issues;

  // One line per issue, "tool call 1 (get_weather): /unit: ...", "content: ...", "message:
  // ...", prefixed "choice N, " for choices after the first; at most about 2 KB, ending with
  // "... and N more" when cut. Empty iff ok. Holds the model's own output, never credentials.
  std::string summary() const;
  // The choice of the first issue; -1 iff ok. That is the message to repair.
  int first_failing_choice() const;
};

// A problem with a schema the client sent; `tool` is empty for response_format.
struct SchemaProblem {
  std::string tool;
  std::string reason;
};

// What one request asked of the answer, with its schemas compiled once. Immutable after
// for_request; validate() is const and may run concurrently. Move-only.
class AnswerValidator {
 public:
  // nullopt iff there is nothing to check: no function or custom tools offered and no
  // response_format of type json_schema / json_object. Never fails: unusable schemas are
  // recorded in schema_problems().
  static std::optional<AnswerValidator> for_request(const boost::json::object& request);

  // Checks every choices[i].message of a chat.completion. A message with a non-empty
  // `refusal` is never a violation. Tool calls: each names an offered tool, its arguments are
  // a JSON object satisfying the tool's schema, and tool_choice / parallel_tool_calls hold.
  // Without tool calls: tool_choice "required" or a named tool is a violation, and the content
  // must satisfy response_format. Issues per tool call are capped at kMaxIssuesPerValue.
  ValidationReport validate(const boost::json::object& completion) const;

  const std::vector<SchemaProblem>& schema_problems() const { return problems_; }
  // True when the message content is checked (a json_schema / json_object response_format).
  bool checks_content() const { return output_ != Output::kText; }
  // Names of the offered tools, in request order.
  std::vector<std::string> tool_names() const;

  static constexpr size_t kMaxIssuesPerValue = 10;

  AnswerValidator(AnswerValidator&&) noexcept;
  AnswerValidator& operator=(AnswerValidator&&) noexcept;
  ~AnswerValidator();

 private:
  struct Tool {
    std::string name;
    bool is_function = true;                 // false: a custom tool (free-form input)
    std::unique_ptr<CompiledSchema> schema;  // null: any JSON object is accepted
  };
  enum class Choice : unsigned char { kAuto, kNone, kRequired };
  enum class Output : unsigned char { kText, kJsonObject, kJsonSchema };

  AnswerValidator();
  const Tool* find_tool(std::string_view name) const;
  void validate_message(int choice, const boost::json::object& message,
                        ValidationReport& report) const;
  void validate_call(int choice, int index, const boost::json::value& call,
                     ValidationReport& report) const;
  void validate_content(int choice, const boost::json::object& message,
                        ValidationReport& report) const;

  std::vector<Tool> tools_;
  Choice choice_ = Choice::kAuto;
  // Non-empty: only these tools may be called (a named tool_choice, or allowed_tools).
  std::vector<std::string> allowed_;
  bool named_ = false;  // allowed_ is the one tool a named tool_choice forces
  bool parallel_ = true;
  Output output_ = Output::kText;
  std::unique_ptr<CompiledSchema> output_schema_;  // null: any JSON value
  std::vector<SchemaProblem> problems_;
};

// The message of choices[choice], or null when the completion has none.
const boost::json::object* choice_message(const boost::json::object& completion, int choice);

}  // namespace sheepdog::llm
