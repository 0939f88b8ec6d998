// The answer and error halves of the inbound Messages API (anthropic_inbound.h); the request
// half is anthropic_inbound_request.cc.
#include "providers/anthropic_inbound.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdint>

#include "core/json_fields.h"

namespace sheepdog::providers {

namespace json = boost::json;

namespace {

json::object text_block(std::string_view text) {
  return json::object{{"type", "text"}, {"text", text}};
}

}  // namespace

std::string_view to_anthropic_stop_reason(std::string_view finish_reason) {
  if (finish_reason == "length") {
    return "max_tokens";
  }
  if (finish_reason == "tool_calls" || finish_reason == "function_call") {
    return "tool_use";
  }
  if (finish_reason == "content_filter") {
    return "refusal";
  }
  return "end_turn";
}

std::string anthropic_message_id(std::string_view completion_id) {
  constexpr std::string_view kChat = "chatcmpl-";
  constexpr std::string_view kMsg = "msg_";
  std::string_view tail = completion_id;
  if (tail.starts_with(kChat)) {
    tail.remove_prefix(kChat.size());
  }
  if (tail.empty()) {
    return "msg_unknown";
  }
  return tail.starts_with(kMsg) ? std::string(tail) : std::string(kMsg) + std::string(tail);
}

json::object to_anthropic_usage(const json::object& openai_usage) {
  const json::object* details = object_field(openai_usage, "prompt_tokens_details");
  const int64_t cached = details != nullptr ? integer_field(*details, "cached_tokens", 0) : 0;
  json::object out;
  out["input_tokens"] =
      std::max<int64_t>(0, integer_field(openai_usage, "prompt_tokens", 0) - cached);
  out["cache_creation_input_tokens"] = 0;
  out["cache_read_input_tokens"] = cached;
  out["output_tokens"] = integer_field(openai_usage, "completion_tokens", 0);
  return out;
}

namespace {

json::value tool_input(std::string_view arguments) {
  if (arguments.empty()) {
    return json::object();
  }
  boost::system::error_code ec;
  json::value parsed = json::parse(arguments, ec);
  if (!ec && parsed.is_object()) {
    return parsed;
  }
  return json::object{{"_raw_arguments", arguments}};
}

}  // namespace

std::optional<json::object> to_anthropic_message(const json::object& openai_completion,
                                                 std::string_view model) {
  const json::value* choices = openai_completion.if_contains("choices");
  if (choices == nullptr || !choices->is_array() || choices->get_array().empty() ||
      !choices->get_array()[0].is_object()) {
    return std::nullopt;
  }
  const json::object& choice = choices->get_array()[0].get_object();
  const json::object* message = object_field(choice, "message");
  if (message == nullptr) {
    return std::nullopt;
  }
  json::array content;
  std::string_view text = string_field(*message, "content");
  if (text.empty()) {
    text = string_field(*message, "refusal");
  }
  if (!text.empty()) {
    content.push_back(text_block(text));
  }
  const std::string id = anthropic_message_id(string_field(openai_completion, "id"));
  if (const json::value* calls = message->if_contains("tool_calls");
      calls != nullptr && calls->is_array()) {
    for (const json::value& call : calls->get_array()) {
      const json::object* function =
          call.is_object() ? object_field(call.get_object(), "function") : nullptr;
      if (function == nullptr) {
        continue;
      }
      std::string call_id(string_field(call.get_object(), "id"));
      if (call_id.empty()) {
        call_id = "toolu_" + id.substr(4) + "_" + std::to_string(content.size());
      }
      json::object block;
      block["type"] = "tool_use";
      block["id"] = call_id;
      block["name"] = string_field(*function, "name");
      block["input"] = tool_input(string_field(*function, "arguments"));
      content.push_back(std::move(block));
    }
  }
  json::object out;
  out["id"] = id;
  out["type"] = "message";
  out["role"] = "assistant";
  out["model"] = model;
  out["content"] = std::move(content);
  out["stop_reason"] = to_anthropic_stop_reason(string_field(choice, "finish_reason"));
  out["stop_sequence"] = nullptr;
  const json::object* usage = object_field(openai_completion, "usage");
  out["usage"] = to_anthropic_usage(usage != nullptr ? *usage : json::object());
  return out;
}

std::string_view anthropic_error_type(int http_status, std::string_view openai_type,
                                      std::string_view openai_code) {
  constexpr std::array<std::string_view, 11> kAnthropicTypes = {
      "invalid_request_error", "authentication_error", "billing_error",    "permission_error",
      "not_found_error",       "request_too_large",    "rate_limit_error", "api_error",
      "timeout_error",         "overloaded_error",     "conflict_error"};
  if (const auto it = std::find(kAnthropicTypes.begin(), kAnthropicTypes.end(), openai_code);
      it != kAnthropicTypes.end()) {
    return *it;
  }
  if (openai_code == "model_not_found") {
    return "not_found_error";
  }
  if (openai_code == "rate_limit_exceeded" || openai_type == "rate_limit_error") {
    return "rate_limit_error";
  }
  if (openai_code == "invalid_api_key" || openai_type == "authentication_error") {
    return "authentication_error";
  }
  if (openai_type == "permission_error") {
    return "permission_error";
  }
  if (openai_code == "circuit_open" || openai_code == "upstream_overloaded" ||
      openai_code == "upstream_quota_exhausted") {
    return "overloaded_error";
  }
  if (openai_code == "deadline_exceeded" || openai_code == "upstream_timeout") {
    return "timeout_error";
  }
  switch (http_status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    case 504:
      return "timeout_error";
    default:
      break;
  }
  if ((http_status >= 400 && http_status < 500) || openai_type == "invalid_request_error") {
    return "invalid_request_error";
  }
  return "api_error";
}

std::string anthropic_error_body(std::string_view type, std::string_view message) {
  json::object body;
  body["type"] = "error";
  body["error"] = json::object{{"type", type}, {"message", message}};
  return json::serialize(body);
}

std::string to_anthropic_error_body(int http_status, std::string_view openai_error_body) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(openai_error_body, ec);
  const json::object* error =
      !ec && parsed.is_object() ? object_field(parsed.get_object(), "error") : nullptr;
  std::string_view type;
  std::string_view message;
  if (error != nullptr) {
    message = string_field(*error, "message");
    // An Anthropic-shaped body ({"type": "error", "error": {type, message}}) keeps its type.
    type = string_field(parsed.get_object(), "type") == "error"
               ? anthropic_error_type(http_status, "", string_field(*error, "type"))
               : anthropic_error_type(http_status, string_field(*error, "type"),
                                      string_field(*error, "code"));
  } else {
    type = anthropic_error_type(http_status, "", "");
  }
  if (message.empty()) {
    return anthropic_error_body(type, "The gateway could not complete the request (HTTP " +
                                          std::to_string(http_status) + ").");
  }
  return anthropic_error_body(type, message);
}

}  // namespace sheepdog::providers
