// The request half of the inbound Messages API (anthropic_inbound.h); answers and errors are
// in anthropic_inbound.cc.
#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdint>

#include "core/json_fields.h"
#include "core/request_limits.h"
#include "providers/anthropic_inbound.h"

namespace sheepdog::providers {
namespace {

namespace json = boost::json;

// Pydantic's wording, which is what the Anthropic API answers with.
constexpr std::string_view kRequired = "Field required";
constexpr std::string_view kString = "Input should be a valid string";
constexpr std::string_view kList = "Input should be a valid list";
constexpr std::string_view kDict = "Input should be a valid dictionary";
constexpr std::string_view kInteger = "Input should be a valid integer";
constexpr std::string_view kNumber = "Input should be a valid number";
constexpr std::string_view kBool = "Input should be a valid boolean";

InboundError invalid(std::string_view path, std::string_view what) {
  return InboundError{std::string(path) + ": " + std::string(what)};
}

std::string at(std::string_view base, size_t i) {
  return std::string(base) + "." + std::to_string(i);
}

std::string at(std::string_view base, std::string_view key) {
  return std::string(base) + "." + std::string(key);
}

// A present, non-null field; JSON null counts as absent, as for the API's optional fields.
const json::value* field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && !v->is_null() ? v : nullptr;
}

// A required string field of `o` (at `path`) into `out`.
std::optional<InboundError> required_string(const json::object& o, std::string_view key,
                                            std::string_view path, std::string_view& out) {
  const json::value* v = field(o, key);
  if (v == nullptr) {
    return invalid(at(path, key), kRequired);
  }
  if (!v->is_string()) {
    return invalid(at(path, key), kString);
  }
  out = v->get_string();
  return std::nullopt;
}

json::object text_part(std::string_view text) {
  return json::object{{"type", "text"}, {"text", text}};
}

// OpenAI content for translated parts: one text part as a plain string, else the part list.
json::value content_value(json::array parts) {
  if (parts.empty()) {
    return "";
  }
  if (parts.size() == 1 && string_field(parts[0].get_object(), "type") == "text") {
    return parts[0].get_object().at("text");
  }
  return parts;
}

std::variant<json::object, InboundError> image_part(const json::object& block,
                                                    const std::string& path) {
  const json::value* source = field(block, "source");
  if (source == nullptr) {
    return invalid(at(path, "source"), kRequired);
  }
  if (!source->is_object()) {
    return invalid(at(path, "source"), kDict);
  }
  const json::object& s = source->get_object();
  const std::string source_path = at(path, "source");
  std::string url;
  const std::string_view type = string_field(s, "type");
  if (type == "base64") {
    std::string_view media_type;
    std::string_view data;
    if (auto error = required_string(s, "media_type", source_path, media_type)) {
      return *error;
    }
    if (auto error = required_string(s, "data", source_path, data)) {
      return *error;
    }
    url = "data:" + std::string(media_type) + ";base64," + std::string(data);
  } else if (type == "url") {
    std::string_view plain;
    if (auto error = required_string(s, "url", source_path, plain)) {
      return *error;
    }
    url = plain;
  } else {
    return invalid(source_path, "image sources of type '" + std::string(type) +
                                    "' are not supported by this gateway; use base64 or url");
  }
  return json::object{{"type", "image_url"}, {"image_url", json::object{{"url", url}}}};
}

std::optional<InboundError> text_block(const json::object& block, const std::string& path,
                                       json::array& parts) {
  std::string_view text;
  if (auto error = required_string(block, "text", path, text)) {
    return error;
  }
  parts.push_back(text_part(text));
  return std::nullopt;
}

InboundError unsupported_block(std::string_view path, std::string_view type,
                               std::string_view expected) {
  return invalid(path, "Input tag '" + std::string(type) +
                           "' found using 'type' does not match any of the expected tags: " +
                           std::string(expected));
}

// The text of a tool_result's content: a string, or text blocks joined by "\n".
std::variant<std::string, InboundError> tool_result_text(const json::object& block,
                                                         const std::string& path) {
  const json::value* content = field(block, "content");
  if (content == nullptr) {
    return std::string();
  }
  if (content->is_string()) {
    return std::string(content->get_string());
  }
  const std::string content_path = at(path, "content");
  if (!content->is_array()) {
    return invalid(content_path, "Input should be a valid string or a valid list");
  }
  std::string text;
  const json::array& blocks = content->get_array();
  for (size_t i = 0; i < blocks.size(); ++i) {
    const std::string block_path = at(content_path, i);
    if (!blocks[i].is_object()) {
      return invalid(block_path, kDict);
    }
    const json::object& b = blocks[i].get_object();
    const std::string_view type = string_field(b, "type");
    if (type != "text") {
      if (type == "image") {
        return invalid(block_path, "image blocks in tool_result are not supported by this gateway");
      }
      return unsupported_block(block_path, type, "'text'");
    }
    std::string_view piece;
    if (auto error = required_string(b, "text", block_path, piece)) {
      return *error;
    }
    if (i > 0) {
      text += "\n";
    }
    text += piece;
  }
  return text;
}

std::optional<InboundError> tool_message(const json::object& block, const std::string& path,
                                         json::array& out) {
  std::string_view id;
  if (auto error = required_string(block, "tool_use_id", path, id)) {
    return error;
  }
  auto text = tool_result_text(block, path);
  if (auto* error = std::get_if<InboundError>(&text)) {
    return *error;
  }
  std::string content = std::move(std::get<std::string>(text));
  if (const json::value* is_error = field(block, "is_error")) {
    if (!is_error->is_bool()) {
      return invalid(at(path, "is_error"), kBool);
    }
    if (is_error->get_bool()) {
      content = content.empty() ? "Error" : "Error: " + content;
    }
  }
  out.push_back(json::object{{"role", "tool"}, {"tool_call_id", id}, {"content", content}});
  return std::nullopt;
}

std::optional<InboundError> tool_call(const json::object& block, const std::string& path,
                                      json::array& calls) {
  std::string_view id;
  std::string_view name;
  if (auto error = required_string(block, "id", path, id)) {
    return error;
  }
  if (auto error = required_string(block, "name", path, name)) {
    return error;
  }
  const json::value* input = field(block, "input");
  if (input == nullptr) {
    return invalid(at(path, "input"), kRequired);
  }
  if (!input->is_object()) {
    return invalid(at(path, "input"), kDict);
  }
  calls.push_back(json::object{
      {"id", id},
      {"type", "function"},
      {"function", json::object{{"name", name}, {"arguments", json::serialize(*input)}}}});
  return std::nullopt;
}

// One Anthropic turn as OpenAI messages appended to `out`.
std::optional<InboundError> translate_turn(const json::object& message, const std::string& path,
                                           json::array& out) {
  if (field(message, "role") == nullptr) {
    return invalid(at(path, "role"), kRequired);
  }
  const std::string_view role = string_field(message, "role");
  if (role != "user" && role != "assistant") {
    return invalid(at(path, "role"), "Input should be 'user' or 'assistant'");
  }
  const bool user = role == "user";
  const json::value* content = field(message, "content");
  const std::string content_path = at(path, "content");
  if (content == nullptr) {
    return invalid(content_path, kRequired);
  }
  if (content->is_string()) {
    out.push_back(json::object{{"role", role}, {"content", content->get_string()}});
    return std::nullopt;
  }
  if (!content->is_array()) {
    return invalid(content_path, "Input should be a valid string or a valid list");
  }
  json::array parts;
  json::array calls;
  const size_t before = out.size();
  const json::array& blocks = content->get_array();
  for (size_t i = 0; i < blocks.size(); ++i) {
    const std::string block_path = at(content_path, i);
    if (!blocks[i].is_object()) {
      return invalid(block_path, kDict);
    }
    const json::object& block = blocks[i].get_object();
    if (field(block, "type") == nullptr) {
      return invalid(at(block_path, "type"), kRequired);
    }
    const std::string_view type = string_field(block, "type");
    std::optional<InboundError> error;
    if (type == "text") {
      error = text_block(block, block_path, parts);
    } else if (type == "image" && user) {
      auto image = image_part(block, block_path);
      if (auto* e = std::get_if<InboundError>(&image)) {
        return *e;
      }
      parts.push_back(std::move(std::get<json::object>(image)));
    } else if (type == "tool_result" && user) {
      error = tool_message(block, block_path, out);
    } else if (type == "tool_use" && !user) {
      error = tool_call(block, block_path, calls);
    } else if ((type == "thinking" || type == "redacted_thinking") && !user) {
      continue;  // earlier turns' thinking: Anthropic drops it from the context too
    } else if (type == "document") {
      return invalid(block_path, "document blocks are not supported by this gateway");
    } else {
      return unsupported_block(block_path, type,
                               user ? "'text', 'image', 'tool_result'"
                                    : "'text', 'tool_use', 'thinking', 'redacted_thinking'");
    }
    if (error) {
      return error;
    }
  }
  if (user) {
    // Tool messages were appended as met; the user message with the rest goes after them all.
    if (!parts.empty() || out.size() == before) {
      out.push_back(json::object{{"role", "user"}, {"content", content_value(std::move(parts))}});
    }
    return std::nullopt;
  }
  json::object assistant{{"role", "assistant"}};
  assistant["content"] =
      parts.empty() && !calls.empty() ? json::value(nullptr) : content_value(std::move(parts));
  if (!calls.empty()) {
    assistant["tool_calls"] = std::move(calls);
  }
  out.push_back(std::move(assistant));
  return std::nullopt;
}

std::optional<InboundError> translate_system(const json::value& system, json::array& out) {
  json::array parts;
  if (system.is_string()) {
    if (!system.get_string().empty()) {
      parts.push_back(text_part(system.get_string()));
    }
  } else if (system.is_array()) {
    const json::array& blocks = system.get_array();
    for (size_t i = 0; i < blocks.size(); ++i) {
      const std::string path = at("system", i);
      if (!blocks[i].is_object()) {
        return invalid(path, kDict);
      }
      const std::string_view type = string_field(blocks[i].get_object(), "type");
      if (type != "text") {
        return unsupported_block(path, type, "'text'");
      }
      if (auto error = text_block(blocks[i].get_object(), path, parts)) {
        return error;
      }
    }
  } else {
    return invalid("system", "Input should be a valid string or a valid list");
  }
  if (!parts.empty()) {
    out.push_back(json::object{{"role", "system"}, {"content", content_value(std::move(parts))}});
  }
  return std::nullopt;
}

std::optional<InboundError> translate_tools(const json::array& tools, json::object& out) {
  json::array list;
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string path = at("tools", i);
    if (!tools[i].is_object()) {
      return invalid(path, kDict);
    }
    const json::object& tool = tools[i].get_object();
    if (const std::string_view type = string_field(tool, "type");
        !type.empty() && type != "custom") {
      return invalid(path, "server tools such as '" + std::string(type) +
                               "' are not supported by this gateway; define a custom tool with "
                               "name, description and input_schema");
    }
    std::string_view name;
    if (auto error = required_string(tool, "name", path, name)) {
      return error;
    }
    json::object function{{"name", name}};
    if (const json::value* description = field(tool, "description")) {
      if (!description->is_string()) {
        return invalid(at(path, "description"), kString);
      }
      function["description"] = description->get_string();
    }
    const json::value* schema = field(tool, "input_schema");
    if (schema == nullptr) {
      return invalid(at(path, "input_schema"), kRequired);
    }
    if (!schema->is_object()) {
      return invalid(at(path, "input_schema"), kDict);
    }
    function["parameters"] = *schema;
    list.push_back(json::object{{"type", "function"}, {"function", std::move(function)}});
  }
  if (!list.empty()) {
    out["tools"] = std::move(list);
  }
  return std::nullopt;
}

std::optional<InboundError> translate_tool_choice(const json::value& choice, json::object& out) {
  if (!choice.is_object()) {
    return invalid("tool_choice", kDict);
  }
  const json::object& c = choice.get_object();
  const std::string_view type = string_field(c, "type");
  json::value openai;
  if (type == "auto" || type == "none") {
    openai = type;
  } else if (type == "any") {
    openai = "required";
  } else if (type == "tool") {
    std::string_view name;
    if (auto error = required_string(c, "name", "tool_choice", name)) {
      return error;
    }
    openai = json::object{{"type", "function"}, {"function", json::object{{"name", name}}}};
  } else {
    return unsupported_block("tool_choice", type, "'auto', 'any', 'tool', 'none'");
  }
  bool parallel = true;
  if (const json::value* disable = field(c, "disable_parallel_tool_use")) {
    if (!disable->is_bool()) {
      return invalid("tool_choice.disable_parallel_tool_use", kBool);
    }
    parallel = !disable->get_bool();
  }
  if (out.contains("tools")) {  // OpenAI rejects both without tools
    out["tool_choice"] = std::move(openai);
    if (!parallel && type != "none") {
      out["parallel_tool_calls"] = false;
    }
  }
  return std::nullopt;
}

// Top-level fields: translated below, dropped as hints, or refused (see the header).
constexpr std::array<std::string_view, 11> kTranslated = {
    "model",  "messages",       "system",   "max_tokens", "temperature", "top_p",
    "stream", "stop_sequences", "metadata", "tools",      "tool_choice"};
constexpr std::array<std::string_view, 3> kDroppedHints = {"top_k", "service_tier", "thinking"};

template <size_t N>
bool listed(const std::array<std::string_view, N>& list, std::string_view key) {
  return std::find(list.begin(), list.end(), key) != list.end();
}

std::optional<InboundError> check_fields(const json::object& in) {
  for (const auto& entry : in) {
    const std::string_view key = entry.key();
    if (listed(kTranslated, key) || listed(kDroppedHints, key)) {
      continue;
    }
    if (key == "mcp_servers" || key == "container" || key == "context_management") {
      return invalid(key, "not supported by this gateway");
    }
    return invalid(key, "Extra inputs are not permitted");
  }
  if (const json::value* thinking = field(in, "thinking")) {
    if (!thinking->is_object()) {
      return invalid("thinking", kDict);
    }
    if (string_field(thinking->get_object(), "type") != "disabled") {
      return invalid("thinking",
                     "extended thinking is not supported by this gateway; omit `thinking` or set "
                     "it to {\"type\": \"disabled\"}");
    }
  }
  return std::nullopt;
}

std::optional<InboundError> copy_sampling(const json::object& in, json::object& out) {
  const json::value* max_tokens = field(in, "max_tokens");
  if (max_tokens == nullptr) {
    return invalid("max_tokens", kRequired);
  }
  if (!max_tokens->is_int64() && !max_tokens->is_uint64()) {
    return invalid("max_tokens", kInteger);
  }
  if (max_tokens->is_int64() && max_tokens->get_int64() < 1) {
    return invalid("max_tokens", "Input should be greater than or equal to 1");
  }
  // core/request_limits.h says why this bound.
  if (max_tokens->is_uint64() || max_tokens->get_int64() > kMaxOutputTokens) {
    return invalid("max_tokens",
                   "Input should be less than or equal to " + std::to_string(kMaxOutputTokens));
  }
  out["max_tokens"] = *max_tokens;
  // Anthropic's documented ranges: temperature and top_p in [0, 1].
  for (std::string_view key : {"temperature", "top_p"}) {
    if (const json::value* v = field(in, key)) {
      if (!v->is_number()) {
        return invalid(key, kNumber);
      }
      const double d = v->to_number<double>();
      if (d < 0) {
        return invalid(key, "Input should be greater than or equal to 0");
      }
      if (d > 1) {
        return invalid(key, "Input should be less than or equal to 1");
      }
      out[key] = *v;
    }
  }
  if (const json::value* top_k = field(in, "top_k")) {  // a hint: checked, then dropped
    if (!top_k->is_int64() && !top_k->is_uint64()) {
      return invalid("top_k", kInteger);
    }
    if (top_k->is_int64() && top_k->get_int64() < 0) {
      return invalid("top_k", "Input should be greater than or equal to 0");
    }
  }
  if (const json::value* stop = field(in, "stop_sequences")) {
    if (!stop->is_array()) {
      return invalid("stop_sequences", kList);
    }
    const json::array& list = stop->get_array();
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_string()) {
        return invalid(at("stop_sequences", i), kString);
      }
    }
    if (!list.empty()) {
      out["stop"] = list;
    }
  }
  if (const json::value* stream = field(in, "stream")) {
    if (!stream->is_bool()) {
      return invalid("stream", kBool);
    }
    if (stream->get_bool()) {
      out["stream"] = true;
      out["stream_options"] = json::object{{"include_usage", true}};
    }
  }
  if (const json::value* metadata = field(in, "metadata")) {
    if (!metadata->is_object()) {
      return invalid("metadata", kDict);
    }
    if (const json::value* user = field(metadata->get_object(), "user_id")) {
      if (!user->is_string()) {
        return invalid("metadata.user_id", kString);
      }
      if (!user->get_string().empty()) {
        out["user"] = user->get_string();
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::variant<json::object, InboundError> to_openai_request(const json::object& anthropic) {
  if (auto error = check_fields(anthropic)) {
    return *error;
  }
  const json::value* model = field(anthropic, "model");
  if (model == nullptr) {
    return invalid("model", kRequired);
  }
  if (!model->is_string()) {
    return invalid("model", kString);
  }
  const json::value* messages = field(anthropic, "messages");
  if (messages == nullptr) {
    return invalid("messages", kRequired);
  }
  if (!messages->is_array()) {
    return invalid("messages", kList);
  }
  if (messages->get_array().empty()) {
    return invalid("messages", "at least one message is required");
  }
  json::object out;
  out["model"] = *model;
  json::array list;
  if (const json::value* system = field(anthropic, "system")) {
    if (auto error = translate_system(*system, list)) {
      return *error;
    }
  }
  const json::array& turns = messages->get_array();
  for (size_t i = 0; i < turns.size(); ++i) {
    const std::string path = at("messages", i);
    if (!turns[i].is_object()) {
      return invalid(path, kDict);
    }
    if (auto error = translate_turn(turns[i].get_object(), path, list)) {
      return *error;
    }
  }
  out["messages"] = std::move(list);
  if (auto error = copy_sampling(anthropic, out)) {
    return *error;
  }
  if (const json::value* tools = field(anthropic, "tools")) {
    if (!tools->is_array()) {
      return invalid("tools", kList);
    }
    if (auto error = translate_tools(tools->get_array(), out)) {
      return *error;
    }
  }
  if (const json::value* choice = field(anthropic, "tool_choice")) {
    if (auto error = translate_tool_choice(*choice, out)) {
      return *error;
    }
  }
  return out;
}

}  // namespace sheepdog::providers
