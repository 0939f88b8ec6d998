#include "llm/repair_prompt.h"

#include <boost/json/array.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sheepdog::llm {

namespace json = boost::json;

namespace {

std::string_view string_field(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string_view(value->get_string())
                                                : std::string_view();
}

const json::object* object_field(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_object() ? &value->get_object() : nullptr;
}

// "- <message>" lines, at most kMaxRepairLines.
std::string issue_lines(const std::vector<const ValidationIssue*>& issues) {
  std::string out;
  for (size_t i = 0; i < issues.size() && i < kMaxRepairLines; ++i) {
    out += "- " + issues[i]->message + "\n";
  }
  if (issues.size() > kMaxRepairLines) {
    out += "- ... and " + std::to_string(issues.size() - kMaxRepairLines) + " more\n";
  }
  return out;
}

// What to do about a forbidden call, from the request's tool_choice.
std::string forbidden_advice(const json::object& request) {
  const json::value* choice = request.if_contains("tool_choice");
  if (choice != nullptr && choice->is_string() && choice->get_string() == "none") {
    return "Do not call any tool; answer directly.";
  }
  if (choice != nullptr && choice->is_object()) {
    if (object_field(choice->get_object(), "allowed_tools") != nullptr) {
      return "Call one of the allowed tools instead.";
    }
    for (std::string_view key : {"function", "custom"}) {
      if (const json::object* named = object_field(choice->get_object(), key)) {
        return "Call " + std::string(string_field(*named, "name")) + " instead.";
      }
    }
  }
  return "Call one of the offered tools instead.";
}

std::string call_advice(const json::object& request, const ValidationIssue& first) {
  switch (first.reason) {
    case ValidationReason::kUnknownTool:
      return "Call one of the offered tools instead.";
    case ValidationReason::kForbiddenToolCall:
      return forbidden_advice(request);
    case ValidationReason::kTooManyToolCalls:
      return "Make only one tool call per answer.";
    default:
      return "Call " + first.tool + " again with arguments that satisfy its schema.";
  }
}

// The assistant message as sent, reduced to the fields a request message may carry.
json::object assistant_message(const json::object& faulty, std::vector<std::string>& call_ids) {
  json::object message;
  message["role"] = "assistant";
  const json::value* content = faulty.if_contains("content");
  message["content"] = content != nullptr ? *content : json::value(nullptr);
  if (const json::value* refusal = faulty.if_contains("refusal");
      refusal != nullptr && refusal->is_string()) {
    message["refusal"] = *refusal;
  }
  const json::value* calls = faulty.if_contains("tool_calls");
  if (calls == nullptr || !calls->is_array() || calls->get_array().empty()) {
    return message;
  }
  json::array copied;
  for (size_t i = 0; i < calls->get_array().size(); ++i) {
    const json::value& entry = calls->get_array()[i];
    const json::object empty;
    const json::object& call = entry.is_object() ? entry.get_object() : empty;
    std::string id(string_field(call, "id"));
    if (id.empty()) {
      id = "call_" + std::to_string(i);
    }
    const std::string_view type = string_field(call, "type");
    json::object out{{"id", id}, {"type", type.empty() ? "function" : type}};
    const std::string_view inner = type == "custom" ? "custom" : "function";
    if (const json::value* body = call.if_contains(inner)) {
      out[inner] = *body;
    }
    copied.push_back(std::move(out));
    call_ids.push_back(std::move(id));
  }
  message["tool_calls"] = std::move(copied);
  return message;
}

}  // namespace

json::object repair_request(const json::object& request, const json::object& faulty_message,
                            const ValidationReport& report) {
  const int choice = report.first_failing_choice();
  std::vector<const ValidationIssue*> message_issues;  // tool_choice, malformed
  std::vector<const ValidationIssue*> content_issues;  // structured output
  for (const ValidationIssue& issue : report.issues) {
    if (issue.choice == choice && issue.call_index < 0) {
      (issue.kind == ValidationKind::kToolCall ? message_issues : content_issues).push_back(&issue);
    }
  }

  json::object out = request;
  json::value& messages_value = out["messages"];
  if (!messages_value.is_array()) {
    messages_value = json::array();
  }
  json::array& messages = messages_value.get_array();
  std::vector<std::string> call_ids;
  messages.push_back(assistant_message(faulty_message, call_ids));

  for (size_t i = 0; i < call_ids.size(); ++i) {
    std::vector<const ValidationIssue*> issues;
    for (const ValidationIssue& issue : report.issues) {
      if (issue.choice == choice && issue.call_index == static_cast<int>(i)) {
        issues.push_back(&issue);
      }
    }
    std::string text =
        issues.empty()
            ? "This tool call was not executed because another tool call in the same answer "
              "was invalid. Call it again, together with the corrected call, if it is still "
              "needed."
            : "Error: this tool call was not executed because it is invalid.\n" +
                  issue_lines(issues) + call_advice(request, *issues.front());
    messages.push_back(
        json::object{{"role", "tool"}, {"tool_call_id", call_ids[i]}, {"content", text}});
  }

  std::string user;
  if (!message_issues.empty()) {
    const ValidationIssue& first = *message_issues.front();
    const bool missing_call = first.reason == ValidationReason::kMissingToolCall;
    user += "Your previous answer is invalid:\n" + issue_lines(message_issues) +
            (!missing_call        ? std::string("Answer again.")
             : first.tool.empty() ? std::string("Answer again and call one of the offered tools.")
                                  : "Answer again and call " + first.tool + ".");
  }
  if (!content_issues.empty()) {
    const json::object* format = object_field(request, "response_format");
    const bool object_only = format != nullptr && string_field(*format, "type") == "json_object";
    user += std::string(user.empty() ? "" : "\n\n") +
            "Your previous answer is not valid JSON output:\n" + issue_lines(content_issues) +
            "Answer again with only " +
            (object_only ? "a JSON object" : "a JSON value that matches the required schema") +
            ": no other text, no Markdown code fence.";
  }
  if (!user.empty()) {
    messages.push_back(json::object{{"role", "user"}, {"content", user}});
  }
  return out;
}

}  // namespace sheepdog::llm
