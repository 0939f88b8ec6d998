#include "llm/tool_validation.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "core/json_fields.h"
#include "llm/compiled_schema.h"
#include "llm/json_text.h"

namespace sheepdog::llm {

namespace json = boost::json;

using detail::check_schema;
using detail::compile_schema;
using detail::kMaxListBytes;
using detail::normalize_numbers;
using detail::one_line;
using detail::parse_text;
using detail::quote;
using detail::SchemaViolation;
using detail::shorten;
using detail::TextProblem;

// ---- report -------------------------------------------------------------------------------

std::string_view to_string(ValidationReason reason) {
  switch (reason) {
    case ValidationReason::kUnknownTool:
      return "unknown_tool";
    case ValidationReason::kInvalidJson:
      return "invalid_json";
    case ValidationReason::kTruncatedJson:
      return "truncated_json";
    case ValidationReason::kTrailingText:
      return "trailing_text";
    case ValidationReason::kSchemaViolation:
      return "schema_violation";
    case ValidationReason::kMissingToolCall:
      return "missing_tool_call";
    case ValidationReason::kForbiddenToolCall:
      return "forbidden_tool_call";
    case ValidationReason::kTooManyToolCalls:
      return "too_many_tool_calls";
    case ValidationReason::kMalformedAnswer:
      return "malformed_answer";
  }
  return "unknown";
}

std::string_view to_string(ValidationKind kind) {
  return kind == ValidationKind::kToolCall ? "tool_call" : "structured_output";
}

std::string_view error_type(ValidationKind kind) {
  return kind == ValidationKind::kToolCall ? "invalid_tool_call" : "invalid_structured_output";
}

std::string ValidationReport::summary() const {
  constexpr size_t kMaxBytes = 2048;
  std::string out;
  for (size_t i = 0; i < issues.size(); ++i) {
    const ValidationIssue& issue = issues[i];
    std::string line = issue.choice > 0 ? fmt::format("choice {}: ", issue.choice) : "";
    if (issue.call_index >= 0) {
      line += fmt::format("tool call {} ({}): ", issue.call_index, one_line(issue.tool, 64));
    } else if (issue.kind == ValidationKind::kStructuredOutput &&
               (issue.message.starts_with('/') || issue.message.starts_with('('))) {
      line += "content at ";
    }
    line += issue.message;
    const std::string more = fmt::format("... and {} more", issues.size() - i);
    if (out.size() + line.size() + 1 + more.size() > kMaxBytes && i + 1 < issues.size()) {
      out += more;
      return out;
    }
    out += shorten(line, kMaxBytes - more.size() - 1);
    out += i + 1 < issues.size() ? "\n" : "";
  }
  return out;
}

int ValidationReport::first_failing_choice() const {
  return issues.empty() ? -1 : issues.front().choice;
}

const json::object* choice_message(const json::object& completion, int choice) {
  const json::value* choices = completion.if_contains("choices");
  if (choice < 0 || choices == nullptr || !choices->is_array() ||
      static_cast<size_t>(choice) >= choices->get_array().size()) {
    return nullptr;
  }
  const json::value& entry = choices->get_array()[static_cast<size_t>(choice)];
  return entry.is_object() ? object_field(entry.get_object(), "message") : nullptr;
}

// ---- the validator ------------------------------------------------------------------------

AnswerValidator::AnswerValidator() = default;
AnswerValidator::AnswerValidator(AnswerValidator&&) noexcept = default;
AnswerValidator& AnswerValidator::operator=(AnswerValidator&&) noexcept = default;
AnswerValidator::~AnswerValidator() = default;

namespace {

// The name a tool_choice / allowed_tools entry designates: {"type":"function","function":
// {"name"}} or {"type":"custom","custom":{"name"}}.
std::string_view named_tool(const json::object& entry) {
  for (std::string_view key : {"function", "custom"}) {
    if (const json::object* inner = object_field(entry, key)) {
      return string_field(*inner, "name");
    }
  }
  return string_field(entry, "name");
}

std::string name_list(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (out.size() > kMaxListBytes) {
      return out + ", ...";
    }
    out += (out.empty() ? "" : ", ") + one_line(name, 64);
  }
  return out;
}

}  // namespace

std::optional<AnswerValidator> AnswerValidator::for_request(const json::object& request) {
  AnswerValidator validator;
  if (const json::value* tools = field(request, "tools"); tools != nullptr && tools->is_array()) {
    for (const json::value& entry : tools->get_array()) {
      if (!entry.is_object()) {
        continue;
      }
      const json::object& tool = entry.get_object();
      const std::string_view type = string_field(tool, "type");
      const bool is_function = type == "function" || (type.empty() && tool.contains("function"));
      const json::object* spec = object_field(tool, is_function ? "function" : "custom");
      if ((!is_function && type != "custom") || spec == nullptr ||
          string_field(*spec, "name").empty()) {
        continue;
      }
      Tool compiled{std::string(string_field(*spec, "name")), is_function, nullptr};
      if (const json::value* parameters = field(*spec, "parameters"); is_function && parameters) {
        std::string problem;
        compiled.schema = compile_schema(*parameters, problem);
        if (!problem.empty()) {
          validator.problems_.push_back({compiled.name, "parameters: " + problem});
        }
      }
      validator.tools_.push_back(std::move(compiled));
    }
  }
  if (const json::object* format = object_field(request, "response_format")) {
    const std::string_view type = string_field(*format, "type");
    if (type == "json_object") {
      validator.output_ = Output::kJsonObject;
    } else if (type == "json_schema") {
      validator.output_ = Output::kJsonSchema;
      const json::object* spec = object_field(*format, "json_schema");
      const json::value* schema = spec != nullptr ? field(*spec, "schema") : nullptr;
      std::string problem = "json_schema has no schema";
      if (schema != nullptr) {
        validator.output_schema_ = compile_schema(*schema, problem);
      }
      if (!problem.empty()) {
        validator.problems_.push_back({"", "response_format: " + problem});
      }
    }
  }
  if (validator.tools_.empty() && validator.output_ == Output::kText) {
    return std::nullopt;
  }
  if (const json::value* choice = field(request, "tool_choice")) {
    if (choice->is_string()) {
      const std::string_view mode = choice->get_string();
      validator.choice_ = mode == "none"       ? Choice::kNone
                          : mode == "required" ? Choice::kRequired
                                               : Choice::kAuto;
    } else if (choice->is_object()) {
      const json::object& object = choice->get_object();
      if (const json::object* allowed = object_field(object, "allowed_tools")) {
        validator.choice_ =
            string_field(*allowed, "mode") == "required" ? Choice::kRequired : Choice::kAuto;
        if (const json::value* list = field(*allowed, "tools"); list && list->is_array()) {
          for (const json::value& entry : list->get_array()) {
            if (entry.is_object() && !named_tool(entry.get_object()).empty()) {
              validator.allowed_.emplace_back(named_tool(entry.get_object()));
            }
          }
        }
      } else if (!named_tool(object).empty()) {
        validator.choice_ = Choice::kRequired;
        validator.named_ = true;
        validator.allowed_.emplace_back(named_tool(object));
      }
    }
  }
  if (const json::value* parallel = field(request, "parallel_tool_calls");
      parallel != nullptr && parallel->is_bool()) {
    validator.parallel_ = parallel->get_bool();
  }
  return validator;
}

std::vector<std::string> AnswerValidator::tool_names() const {
  std::vector<std::string> names;
  for (const Tool& tool : tools_) {
    names.push_back(tool.name);
  }
  return names;
}

const AnswerValidator::Tool* AnswerValidator::find_tool(std::string_view name) const {
  for (const Tool& tool : tools_) {
    if (tool.name == name) {
      return &tool;
    }
  }
  return nullptr;
}

ValidationReport AnswerValidator::validate(const json::object& completion) const {
  ValidationReport report;
  const ValidationKind kind =
      tools_.empty() ? ValidationKind::kStructuredOutput : ValidationKind::kToolCall;
  const json::value* choices = completion.if_contains("choices");
  if (choices == nullptr || !choices->is_array() || choices->get_array().empty()) {
    report.issues.push_back(
        {ValidationReason::kMalformedAnswer, kind, 0, -1, "", "", "the answer has no choices"});
  } else {
    for (size_t i = 0; i < choices->get_array().size(); ++i) {
      const json::object* message = choice_message(completion, static_cast<int>(i));
      if (message == nullptr) {
        report.issues.push_back({ValidationReason::kMalformedAnswer, kind, static_cast<int>(i), -1,
                                 "", "", "the answer's choice has no message"});
        continue;
      }
      validate_message(static_cast<int>(i), *message, report);
    }
  }
  report.ok = report.issues.empty();
  report.kind = report.ok || std::any_of(report.issues.begin(), report.issues.end(),
                                         [](const ValidationIssue& issue) {
                                           return issue.kind == ValidationKind::kToolCall;
                                         })
                    ? ValidationKind::kToolCall
                    : ValidationKind::kStructuredOutput;
  return report;
}

void AnswerValidator::validate_message(int choice, const json::object& message,
                                       ValidationReport& report) const {
  if (!string_field(message, "refusal").empty()) {
    return;
  }
  const json::value* calls = field(message, "tool_calls");
  const size_t count = calls != nullptr && calls->is_array() ? calls->get_array().size() : 0;
  for (size_t i = 0; i < count; ++i) {
    validate_call(choice, static_cast<int>(i), calls->get_array()[i], report);
  }
  if (count > 0) {
    return;
  }
  if (choice_ == Choice::kRequired) {
    report.issues.push_back(
        {ValidationReason::kMissingToolCall, ValidationKind::kToolCall, choice, -1,
         named_ ? allowed_.front() : "", "",
         named_ ? fmt::format("the answer calls no tool, but tool_choice requires calling '{}'",
                              one_line(allowed_.front(), 64))
                : std::string("the answer calls no tool, but tool_choice requires a tool call")});
  }
  validate_content(choice, message, report);
}

void AnswerValidator::validate_call(int choice, int index, const json::value& entry,
                                    ValidationReport& report) const {
  const json::object empty;
  const json::object& call = entry.is_object() ? entry.get_object() : empty;
  const bool custom = string_field(call, "type") == "custom";
  const json::object* function = object_field(call, custom ? "custom" : "function");
  const std::string name(function != nullptr ? string_field(*function, "name") : "");
  auto add = [&](ValidationReason reason, std::string path, std::string message) {
    report.issues.push_back({reason, ValidationKind::kToolCall, choice, index, name,
                             std::move(path), std::move(message)});
  };
  const Tool* tool = find_tool(name);
  if (tool == nullptr) {
    add(ValidationReason::kUnknownTool, "",
        name.empty() ? std::string("the tool call names no tool")
        : tools_.empty()
            ? fmt::format("there is no tool named '{}'; no tools are offered", one_line(name, 64))
            : fmt::format("there is no tool named '{}'; the offered tools are: {}",
                          one_line(name, 64), name_list(tool_names())));
    return;
  }
  if (choice_ == Choice::kNone) {
    add(ValidationReason::kForbiddenToolCall, "", "no tool may be called: tool_choice is \"none\"");
    return;
  }
  if (!allowed_.empty() && std::find(allowed_.begin(), allowed_.end(), name) == allowed_.end()) {
    add(ValidationReason::kForbiddenToolCall, "",
        named_ ? fmt::format("tool_choice requires calling '{}', not '{}'",
                             one_line(allowed_.front(), 64), one_line(name, 64))
               : fmt::format("'{}' is not among the allowed tools: {}", one_line(name, 64),
                             name_list(allowed_)));
    return;
  }
  if (!parallel_ && index > 0) {
    add(ValidationReason::kTooManyToolCalls, "",
        "only one tool call is allowed per answer (parallel_tool_calls is false)");
    return;
  }
  if (!tool->is_function || custom) {
    return;  // custom tools take free-form text
  }
  const json::value* arguments = field(*function, "arguments");
  json::value parsed;
  if (arguments != nullptr && !arguments->is_string()) {
    parsed = *arguments;  // already JSON (some servers send an object); check it as such
    normalize_numbers(parsed);
  } else if (std::optional<TextProblem> problem =
                 parse_text(arguments != nullptr ? std::string_view(arguments->get_string())
                                                 : std::string_view(),
                            true, "arguments", parsed)) {
    add(problem->reason, "", std::move(problem->message));
    return;
  }
  if (!parsed.is_object()) {
    add(ValidationReason::kSchemaViolation, "",
        fmt::format("(root): expected a JSON object, got {} {}", json_type_name(parsed),
                    quote(parsed)));
    return;
  }
  if (tool->schema != nullptr) {
    for (SchemaViolation& found : check_schema(*tool->schema, parsed, kMaxIssuesPerValue)) {
      add(ValidationReason::kSchemaViolation, std::move(found.path), std::move(found.message));
    }
  }
}

void AnswerValidator::validate_content(int choice, const json::object& message,
                                       ValidationReport& report) const {
  if (output_ == Output::kText) {
    return;
  }
  auto add = [&](ValidationReason reason, std::string path, std::string text) {
    report.issues.push_back({reason, ValidationKind::kStructuredOutput, choice, -1, "",
                             std::move(path), std::move(text)});
  };
  const json::value* content = field(message, "content");
  std::string text;
  if (content != nullptr && content->is_string()) {
    text = content->get_string();
  } else if (content != nullptr && content->is_array()) {
    for (const json::value& part : content->get_array()) {  // [{"type":"text","text":...}]
      if (part.is_object()) {
        text += string_field(part.get_object(), "text");
      }
    }
  } else {
    add(ValidationReason::kInvalidJson, "", "content is missing, expected JSON");
    return;
  }
  json::value parsed;
  if (std::optional<TextProblem> problem = parse_text(text, false, "content", parsed)) {
    add(problem->reason, "", std::move(problem->message));
    return;
  }
  if (output_ == Output::kJsonObject && !parsed.is_object()) {
    add(ValidationReason::kSchemaViolation, "",
        fmt::format("(root): expected a JSON object, got {} {}", json_type_name(parsed),
                    quote(parsed)));
    return;
  }
  if (output_schema_ != nullptr) {
    for (SchemaViolation& found : check_schema(*output_schema_, parsed, kMaxIssuesPerValue)) {
      add(ValidationReason::kSchemaViolation, std::move(found.path), std::move(found.message));
    }
  }
}

}  // namespace sheepdog::llm
