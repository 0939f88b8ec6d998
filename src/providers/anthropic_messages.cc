#include "providers/anthropic_messages.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/json_fields.h"

namespace sheepdog::providers {
namespace {

namespace json = boost::json;

std::string index_param(std::string_view base, size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

// The text of a system/developer message: a string, or the text parts of a list.
std::string system_text(const json::value& content) {
  if (content.is_string()) {
    return std::string(content.get_string());
  }
  std::string text;
  if (content.is_array()) {
    for (const json::value& part : content.get_array()) {
      if (part.is_object()) {
        if (!text.empty()) {
          text += "\n";
        }
        text += string_field(part.get_object(), "text");
      }
    }
  }
  return text;
}

// An image_url part as an Anthropic image block: a base64 data URL or a plain URL.
std::optional<json::object> image_block(const json::object& part) {
  const json::value* image = part.if_contains("image_url");
  std::string_view url;
  if (image != nullptr && image->is_string()) {
    url = image->get_string();
  } else if (image != nullptr && image->is_object()) {
    url = string_field(image->get_object(), "url");
  }
  if (url.empty()) {
    return std::nullopt;
  }
  json::object source;
  constexpr std::string_view kData = "data:";
  constexpr std::string_view kBase64 = ";base64,";
  if (url.starts_with(kData)) {
    const size_t marker = url.find(kBase64);
    if (marker == std::string_view::npos) {
      return std::nullopt;
    }
    source["type"] = "base64";
    source["media_type"] = url.substr(kData.size(), marker - kData.size());
    source["data"] = url.substr(marker + kBase64.size());
  } else {
    source["type"] = "url";
    source["url"] = url;
  }
  json::object block;
  block["type"] = "image";
  block["source"] = std::move(source);
  return block;
}

// A user or assistant message's content as Anthropic blocks.
std::variant<json::array, TranslationError> content_blocks(const json::value& content,
                                                           const std::string& param) {
  json::array blocks;
  if (content.is_null()) {
    return blocks;
  }
  if (content.is_string()) {
    if (!content.get_string().empty()) {
      blocks.push_back(json::object{{"type", "text"}, {"text", content.get_string()}});
    }
    return blocks;
  }
  if (!content.is_array()) {
    return TranslationError{"content must be a string or a list of parts", param};
  }
  const json::array& parts = content.get_array();
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string part_param = index_param(param, i);
    if (!parts[i].is_object()) {
      return TranslationError{"each content part must be an object", part_param};
    }
    const json::object& part = parts[i].get_object();
    const std::string_view type = string_field(part, "type");
    if (type == "text") {
      blocks.push_back(json::object{{"type", "text"}, {"text", string_field(part, "text")}});
    } else if (type == "image_url") {
      std::optional<json::object> image = image_block(part);
      if (!image) {
        return TranslationError{"image_url needs a URL or a base64 data URL", part_param};
      }
      blocks.push_back(std::move(*image));
    } else {
      return TranslationError{"content parts of type '" + std::string(type) +
                                  "' cannot be sent to an Anthropic deployment",
                              part_param};
    }
  }
  return blocks;
}

// A tool call's `arguments` as a tool_use `input`, which Anthropic requires to be an object.
// Arguments that are not one (empty, truncated JSON, trailing text, an array or a string) send
// {}: a repair request (llm/repair_prompt.h) carries the model's own broken call verbatim, and
// the tool message after it states what was wrong, so refusing it would fail the repair.
json::value tool_input(std::string_view arguments) {
  boost::system::error_code ec;
  json::value parsed = json::parse(arguments, ec);
  return !ec && parsed.is_object() ? parsed : json::value(json::object());
}

// An assistant message's tool_calls as tool_use blocks appended to `blocks`.
std::optional<TranslationError> append_tool_uses(const json::value& calls, const std::string& param,
                                                 json::array& blocks) {
  if (!calls.is_array()) {
    return TranslationError{"tool_calls must be a list", param};
  }
  const json::array& list = calls.get_array();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string call_param = index_param(param, i);
    const json::value* function =
        list[i].is_object() ? list[i].get_object().if_contains("function") : nullptr;
    if (function == nullptr || !function->is_object()) {
      return TranslationError{"a tool call needs a function", call_param};
    }
    json::object block;
    block["type"] = "tool_use";
    block["id"] = string_field(list[i].get_object(), "id");
    block["name"] = string_field(function->get_object(), "name");
    block["input"] = tool_input(string_field(function->get_object(), "arguments"));
    blocks.push_back(std::move(block));
  }
  return std::nullopt;
}

// Appends a turn, merging it into the previous one when the role repeats.
void append_turn(json::array& messages, std::string_view role, json::array blocks) {
  if (!messages.empty()) {
    json::object& last = messages.back().as_object();
    if (last["role"].as_string() == role) {
      json::array& content = last["content"].as_array();
      for (json::value& block : blocks) {
        content.push_back(std::move(block));
      }
      return;
    }
  }
  messages.push_back(json::object{{"role", role}, {"content", std::move(blocks)}});
}

std::optional<TranslationError> translate_messages(const json::array& input, json::object& out) {
  std::string system;
  json::array messages;
  for (size_t i = 0; i < input.size(); ++i) {
    const std::string param = index_param("messages", i);
    if (!input[i].is_object()) {
      return TranslationError{"each message must be an object", param};
    }
    const json::object& message = input[i].get_object();
    const std::string_view role = string_field(message, "role");
    const json::value* content = message.if_contains("content");
    const json::value null_content;
    const json::value& body = content != nullptr ? *content : null_content;
    if (role == "system" || role == "developer") {
      if (!system.empty()) {
        system += "\n\n";
      }
      system += system_text(body);
      continue;
    }
    if (role == "tool") {
      json::object result;
      result["type"] = "tool_result";
      result["tool_use_id"] = string_field(message, "tool_call_id");
      result["content"] =
          body.is_string() ? json::value(body.get_string()) : json::value(system_text(body));
      append_turn(messages, "user", json::array{std::move(result)});
      continue;
    }
    if (role != "user" && role != "assistant") {
      return TranslationError{"role '" + std::string(role) + "' cannot be sent to Anthropic",
                              param + ".role"};
    }
    auto blocks = content_blocks(body, param + ".content");
    if (auto* error = std::get_if<TranslationError>(&blocks)) {
      return *error;
    }
    json::array& list = std::get<json::array>(blocks);
    if (const json::value* calls = message.if_contains("tool_calls");
        role == "assistant" && calls != nullptr && !calls->is_null()) {
      if (auto error = append_tool_uses(*calls, param + ".tool_calls", list)) {
        return error;
      }
    }
    if (list.empty()) {
      continue;  // Anthropic rejects empty turns; an empty message says nothing anyway
    }
    append_turn(messages, role, std::move(list));
  }
  if (!system.empty()) {
    out["system"] = system;
  }
  out["messages"] = std::move(messages);
  return std::nullopt;
}

std::optional<TranslationError> translate_tools(const json::object& openai, json::object& out) {
  const json::value* tools = openai.if_contains("tools");
  if (tools != nullptr && tools->is_array() && !tools->get_array().empty()) {
    json::array list;
    const json::array& input = tools->get_array();
    for (size_t i = 0; i < input.size(); ++i) {
      const json::value* function =
          input[i].is_object() ? input[i].get_object().if_contains("function") : nullptr;
      if (function == nullptr || !function->is_object()) {
        return TranslationError{"only function tools can be sent to Anthropic",
                                index_param("tools", i)};
      }
      const json::object& f = function->get_object();
      json::object tool;
      tool["name"] = string_field(f, "name");
      if (const std::string_view d = string_field(f, "description"); !d.empty()) {
        tool["description"] = d;
      }
      const json::value* parameters = f.if_contains("parameters");
      tool["input_schema"] = parameters != nullptr && parameters->is_object()
                                 ? *parameters
                                 : json::value(json::object{{"type", "object"}});
      list.push_back(std::move(tool));
    }
    out["tools"] = std::move(list);
  }
  const json::value* choice = openai.if_contains("tool_choice");
  json::object tool_choice;
  if (choice != nullptr && choice->is_string()) {
    const std::string_view c = choice->get_string();
    tool_choice["type"] = c == "required" ? "any" : (c == "none" ? "none" : "auto");
  } else if (choice != nullptr && choice->is_object()) {
    const json::value* function = choice->get_object().if_contains("function");
    tool_choice["type"] = "tool";
    tool_choice["name"] = function != nullptr && function->is_object()
                              ? string_field(function->get_object(), "name")
                              : std::string_view();
  }
  const json::value* parallel = openai.if_contains("parallel_tool_calls");
  if (parallel != nullptr && parallel->is_bool() && !parallel->get_bool() &&
      out.contains("tools")) {
    if (tool_choice.empty()) {
      tool_choice["type"] = "auto";
    }
    tool_choice["disable_parallel_tool_use"] = true;
  }
  if (!tool_choice.empty()) {
    out["tool_choice"] = std::move(tool_choice);
  }
  return std::nullopt;
}

}  // namespace

std::variant<json::object, TranslationError> to_anthropic_request(const json::object& openai,
                                                                  std::string_view model) {
  if (const json::value* n = openai.if_contains("n");
      n != nullptr && !(n->is_null() || (n->is_int64() && n->get_int64() == 1) ||
                        (n->is_uint64() && n->get_uint64() == 1))) {
    return TranslationError{"Anthropic deployments answer one choice; n must be 1", "n"};
  }
  if (const json::value* format = openai.if_contains("response_format");
      format != nullptr && format->is_object() &&
      string_field(format->get_object(), "type") == "json_schema") {
    return TranslationError{
        "response_format json_schema cannot be sent to an Anthropic deployment; use a tool with "
        "that schema instead",
        "response_format"};
  }
  json::object out;
  out["model"] = model;
  const json::value* messages = openai.if_contains("messages");
  if (messages == nullptr || !messages->is_array()) {
    return TranslationError{"messages must be a list", "messages"};
  }
  if (auto error = translate_messages(messages->get_array(), out)) {
    return *error;
  }
  int64_t max_tokens = kDefaultMaxTokens;
  for (std::string_view key : {"max_completion_tokens", "max_tokens"}) {
    const json::value* v = openai.if_contains(key);
    if (v != nullptr && v->is_int64() && v->get_int64() > 0) {
      max_tokens = v->get_int64();
      break;
    }
  }
  out["max_tokens"] = max_tokens;
  for (std::string_view key : {"temperature", "top_p"}) {
    if (const json::value* v = openai.if_contains(key); v != nullptr && v->is_number()) {
      out[key] = *v;
    }
  }
  if (const json::value* stop = openai.if_contains("stop"); stop != nullptr) {
    if (stop->is_string()) {
      out["stop_sequences"] = json::array{stop->get_string()};
    } else if (stop->is_array() && !stop->get_array().empty()) {
      out["stop_sequences"] = *stop;
    }
  }
  if (const json::value* stream = openai.if_contains("stream");
      stream != nullptr && stream->is_bool() && stream->get_bool()) {
    out["stream"] = true;
  }
  if (const std::string_view user = string_field(openai, "user"); !user.empty()) {
    out["metadata"] = json::object{{"user_id", user}};
  }
  if (auto error = translate_tools(openai, out)) {
    return *error;
  }
  return out;
}

std::string_view to_openai_finish_reason(std::string_view stop_reason) {
  if (stop_reason == "max_tokens") {
    return "length";
  }
  if (stop_reason == "tool_use") {
    return "tool_calls";
  }
  if (stop_reason == "refusal") {
    return "content_filter";
  }
  return "stop";
}

TokenUsage anthropic_usage(const json::object& usage) {
  TokenUsage out;
  out.reported = true;
  out.prompt_tokens = integer_field(usage, "input_tokens", 0) +
                      integer_field(usage, "cache_creation_input_tokens", 0) +
                      integer_field(usage, "cache_read_input_tokens", 0);
  out.completion_tokens = integer_field(usage, "output_tokens", 0);
  return out;
}

json::object openai_usage_object(const json::object& usage) {
  const TokenUsage u = anthropic_usage(usage);
  json::object out;
  out["prompt_tokens"] = u.prompt_tokens;
  out["completion_tokens"] = u.completion_tokens;
  out["total_tokens"] = u.prompt_tokens + u.completion_tokens;
  out["prompt_tokens_details"] =
      json::object{{"cached_tokens", integer_field(usage, "cache_read_input_tokens", 0)}};
  return out;
}

std::optional<json::object> to_openai_completion(const json::object& anthropic, int64_t created) {
  const json::value* content = anthropic.if_contains("content");
  if (content == nullptr || !content->is_array()) {
    return std::nullopt;
  }
  std::string text;
  json::array tool_calls;
  for (const json::value& block : content->get_array()) {
    if (!block.is_object()) {
      continue;
    }
    const json::object& b = block.get_object();
    const std::string_view type = string_field(b, "type");
    if (type == "text") {
      text += string_field(b, "text");
    } else if (type == "tool_use") {
      const json::value* input = b.if_contains("input");
      json::object function;
      function["name"] = string_field(b, "name");
      function["arguments"] =
          json::serialize(input != nullptr ? *input : json::value(json::object()));
      tool_calls.push_back(json::object{
          {"id", string_field(b, "id")}, {"type", "function"}, {"function", std::move(function)}});
    }
  }
  json::object message;
  message["role"] = "assistant";
  message["content"] =
      text.empty() && !tool_calls.empty() ? json::value(nullptr) : json::value(text);
  if (!tool_calls.empty()) {
    message["tool_calls"] = std::move(tool_calls);
  }
  json::object choice;
  choice["index"] = 0;
  choice["message"] = std::move(message);
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = to_openai_finish_reason(string_field(anthropic, "stop_reason"));
  json::object out;
  out["id"] = "chatcmpl-" + std::string(string_field(anthropic, "id"));
  out["object"] = "chat.completion";
  out["created"] = created;
  out["model"] = string_field(anthropic, "model");
  out["choices"] = json::array{std::move(choice)};
  if (const json::value* usage = anthropic.if_contains("usage");
      usage != nullptr && usage->is_object()) {
    out["usage"] = openai_usage_object(usage->get_object());
  }
  return out;
}

std::optional<std::string> to_openai_error_body(std::string_view anthropic_body) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(anthropic_body, ec);
  if (ec || !parsed.is_object()) {
    return std::nullopt;
  }
  // Anthropic's envelope says "type": "error"; an OpenAI-shaped body has no such field.
  const json::value* error = parsed.get_object().if_contains("error");
  if (string_field(parsed.get_object(), "type") != "error" || error == nullptr ||
      !error->is_object()) {
    return std::nullopt;
  }
  const std::string_view type = string_field(error->get_object(), "type");
  std::string_view openai_type = "server_error";
  if (type == "invalid_request_error" || type == "not_found_error" || type == "request_too_large") {
    openai_type = "invalid_request_error";
  } else if (type == "authentication_error" || type == "permission_error" ||
             type == "rate_limit_error") {
    openai_type = type;
  }
  json::object body;
  body["message"] = string_field(error->get_object(), "message");
  body["type"] = openai_type;
  body["param"] = nullptr;
  body["code"] = type.empty() ? json::value(nullptr) : json::value(type);
  return json::serialize(json::object{{"error", std::move(body)}});
}

}  // namespace sheepdog::providers
