#include "mock/mock_openai.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <set>

#include "mock/mock_openai_json.h"
#include "server/sse_event.h"

namespace sheepdog::mock {
namespace {

namespace json = boost::json;
using openai_detail::invalid_request;
using openai_detail::parse_model_request;
using openai_detail::positive_integer;
using server::ApiError;

constexpr std::string_view kFingerprint = "fp_sheepdog_mock";
constexpr int64_t kModelCreated = 1700000000;
// call arguments.
void append_message_text(const json::object& message, std::string& out) {
  if (const json::value* content = message.if_contains("content")) {
    if (content->is_string()) {
      out += content->get_string();
    } else if (content->is_array()) {
      for (const json::value& part : content->get_array()) {
        if (const json::value* text =
                part.is_object() ? part.get_object().if_contains("text") : nullptr;
            text != nullptr && text->is_string()) {
          out += text->get_string();
        }
      }
    }
  }
  if (const json::value* calls = message.if_contains("tool_calls");
      calls != nullptr && calls->is_array()) {
    for (const json::value& call : calls->get_array()) {
      const json::value* args = call.is_object() && call.get_object().contains("function")
                                    ? call.at("function").as_object().if_contains("arguments")
                                    : nullptr;
      if (args != nullptr && args->is_string()) {
        out += args->get_string();
      }
    }
  }
}

std::optional<ApiError> decode_tools(const json::object& body, ChatCall& call) {
  const json::value* tools = body.if_contains("tools");
  if (tools == nullptr || tools->is_null()) {
    return std::nullopt;
  }
  if (!tools->is_array()) {
    return invalid_request("Invalid type for 'tools': expected an array.", "tools", "invalid_type");
  }
  for (const json::value& tool : tools->get_array()) {
    const json::value* function =
        tool.is_object() ? tool.get_object().if_contains("function") : nullptr;
    const json::value* name = function != nullptr && function->is_object()
                                  ? function->get_object().if_contains("name")
                                  : nullptr;
    if (name == nullptr || !name->is_string()) {
      return invalid_request("Missing required parameter: 'tools[].function.name'.", "tools",
                             "missing_required_parameter");
    }
    const json::value* parameters = function->get_object().if_contains("parameters");
    call.tools.push_back(
        ToolSpec{std::string(name->get_string()), parameters ? *parameters : json::value()});
  }
  const json::value* choice = body.if_contains("tool_choice");
  if (choice != nullptr && choice->is_string() && choice->get_string() == "none") {
    call.tools.clear();
  } else if (choice != nullptr && choice->is_object()) {
    const json::value* function = choice->get_object().if_contains("function");
    if (function != nullptr && function->is_object()) {
      if (const json::value* name = function->get_object().if_contains("name");
          name != nullptr && name->is_string()) {
        call.forced_tool = std::string(name->get_string());
      }
    }
  }
  return std::nullopt;
}

// response_format: {"type": "text" | "json_object" | "json_schema", "json_schema": {"name",
// "schema", "strict"}}. A json_schema without `schema` is accepted; its content is then {}.
std::optional<ApiError> decode_response_format(const json::object& body, ChatCall& call) {
  const json::value* format = body.if_contains("response_format");
  if (format == nullptr || format->is_null()) {
    return std::nullopt;
  }
  const json::value* type =
      format->is_object() ? format->get_object().if_contains("type") : nullptr;
  if (type == nullptr || !type->is_string()) {
    return invalid_request("Missing required parameter: 'response_format.type'.",
                           "response_format.type", "missing_required_parameter");
  }
  const std::string_view name = type->get_string();
  if (name == "json_object") {
    call.response_format = ResponseFormat::kJsonObject;
  } else if (name == "json_schema") {
    const json::value* spec = format->get_object().if_contains("json_schema");
    if (spec == nullptr || !spec->is_object()) {
      return invalid_request("Missing required parameter: 'response_format.json_schema'.",
                             "response_format.json_schema", "missing_required_parameter");
    }
    call.response_format = ResponseFormat::kJsonSchema;
    if (const json::value* schema = spec->get_object().if_contains("schema")) {
      call.response_schema = *schema;
    }
  } else if (name != "text") {
    return invalid_request("Invalid value: '" + std::string(name) +
                               "'. Supported values are: 'text', 'json_object', and "
                               "'json_schema'.",
                           "response_format.type", "invalid_value");
  }
  return std::nullopt;
}

json::object chunk_base(const ChatReply& reply, bool include_usage) {
  json::object chunk;
  chunk["id"] = reply.id;
  chunk["object"] = "chat.completion.chunk";
  chunk["created"] = reply.created;
  chunk["model"] = reply.model;
  chunk["system_fingerprint"] = kFingerprint;
  if (include_usage) {
    chunk["usage"] = nullptr;
  }
  return chunk;
}

std::string choice_chunk(const ChatReply& reply, bool include_usage, json::object delta,
                         json::value finish_reason) {
  json::object choice;
  choice["index"] = 0;
  choice["delta"] = std::move(delta);
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = std::move(finish_reason);
  json::object chunk = chunk_base(reply, include_usage);
  chunk["choices"] = json::array{std::move(choice)};
  return server::format_sse_event(json::serialize(chunk));
}

json::object usage_object(const ChatReply& reply) {
  json::object usage;
  usage["prompt_tokens"] = reply.prompt_tokens;
  usage["completion_tokens"] = reply.completion_tokens;
  usage["total_tokens"] = reply.prompt_tokens + reply.completion_tokens;
  return usage;
}
}  // namespace

std::optional<ApiError> decode_openai_chat(std::string_view text, ChatCall* out) {
  json::object body;
  ChatCall call;
  if (auto error = parse_model_request(text, body, call.model)) {
    return error;
  }
  const json::value* messages = body.if_contains("messages");
  if (messages == nullptr || !messages->is_array()) {
    return invalid_request("Missing required parameter: 'messages'.", "messages",
                           "missing_required_parameter");
  }
  for (const json::value& message : messages->get_array()) {
    if (message.is_object()) {
      append_message_text(message.get_object(), call.prompt_text);
    }
    ++call.message_count;
  }
  if (const json::value* stream = body.if_contains("stream"); stream && stream->is_bool()) {
    call.stream = stream->get_bool();
  }
  if (const json::value* options = body.if_contains("stream_options");
      options != nullptr && options->is_object()) {
    const json::value* usage = options->get_object().if_contains("include_usage");
    call.include_usage = usage != nullptr && usage->is_bool() && usage->get_bool();
  }
  call.max_tokens = positive_integer(body.if_contains("max_completion_tokens"));
  if (!call.max_tokens) {
    call.max_tokens = positive_integer(body.if_contains("max_tokens"));
  }
  if (auto error = decode_tools(body, call)) {
    return error;
  }
  if (auto error = decode_response_format(body, call)) {
    return error;
  }
  *out = std::move(call);
  return std::nullopt;
}

std::string openai_chat_completion(const ChatReply& reply) {
  json::object message;
  message["role"] = "assistant";
  if (reply.tool_call) {
    message["content"] = nullptr;
    json::object function;
    function["name"] = reply.tool_call->name;
    function["arguments"] = reply.tool_call->arguments;
    json::object call;
    call["id"] = reply.tool_call->id;
    call["type"] = "function";
    call["function"] = std::move(function);
    message["tool_calls"] = json::array{std::move(call)};
  } else {
    message["content"] = reply.text;
  }
  message["refusal"] = nullptr;
  json::object choice;
  choice["index"] = 0;
  choice["message"] = std::move(message);
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = reply.finish_reason;
  json::object body;
  body["id"] = reply.id;
  body["object"] = "chat.completion";
  body["created"] = reply.created;
  body["model"] = reply.model;
  body["system_fingerprint"] = kFingerprint;
  body["choices"] = json::array{std::move(choice)};
  body["usage"] = usage_object(reply);
  return json::serialize(body);
}

std::vector<std::string> openai_chat_stream(const ChatReply& reply, bool include_usage) {
  std::vector<std::string> events;
  json::object first;
  first["role"] = "assistant";
  if (reply.tool_call) {
    json::object function;
    function["name"] = reply.tool_call->name;
    function["arguments"] = "";
    json::object call;
    call["index"] = 0;
    call["id"] = reply.tool_call->id;
    call["type"] = "function";
    call["function"] = std::move(function);
    first["content"] = nullptr;
    first["tool_calls"] = json::array{std::move(call)};
  } else {
    first["content"] = "";
  }
  first["refusal"] = nullptr;
  events.push_back(choice_chunk(reply, include_usage, std::move(first), nullptr));
  for (std::string_view piece : reply.pieces()) {
    json::object delta;
    if (reply.tool_call) {
      json::object function;
      function["arguments"] = piece;
      json::object call;
      call["index"] = 0;
      call["function"] = std::move(function);
      delta["tool_calls"] = json::array{std::move(call)};
    } else {
      delta["content"] = piece;
    }
    events.push_back(choice_chunk(reply, include_usage, std::move(delta), nullptr));
  }
  events.push_back(
      choice_chunk(reply, include_usage, json::object(), json::value(reply.finish_reason)));
  if (include_usage) {
    json::object chunk = chunk_base(reply, false);
    chunk["choices"] = json::array();
    chunk["usage"] = usage_object(reply);
    events.push_back(server::format_sse_event(json::serialize(chunk)));
  }
  events.emplace_back(server::kSseDone);
  return events;
}

std::string openai_models(const MockConfig& config) {
  std::vector<std::string> names = config.model_list;
  std::set<std::string> seen(names.begin(), names.end());
  for (const auto& [name, profile] : config.models) {
    if (seen.insert(name).second) {
      names.push_back(name);
    }
  }
  json::array data;
  for (const std::string& name : names) {
    json::object model;
    model["id"] = name;
    model["object"] = "model";
    model["created"] = kModelCreated;
    model["owned_by"] = "sheepdog-mock";
    data.push_back(std::move(model));
  }
  json::object body;
  body["object"] = "list";
  body["data"] = std::move(data);
  return json::serialize(body);
}

}  // namespace sheepdog::mock
