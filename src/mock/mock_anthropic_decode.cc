// Decoding of POST /v1/messages requests (see mock_anthropic.h).
#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdint>

#include "mock/mock_anthropic.h"

namespace sheepdog::mock {
namespace {

namespace json = boost::json;

// Anthropic validates requests with pydantic and reports the first problem as
// "<dotted path>: <pydantic message>", e.g. "messages.0.content.1.text: Field required".
using Problem = std::optional<std::string>;

Problem problem(const std::string& path, std::string_view message) {
  return path + ": " + std::string(message);
}

std::string at(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string at(const std::string& path, size_t index) { return path + "." + std::to_string(index); }

constexpr std::array<std::string_view, 7> kBlockTypes = {
    "text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"};
constexpr std::array<std::string_view, 4> kToolChoiceTypes = {"auto", "any", "tool", "none"};

template <size_t N>
Problem bad_tag(const std::string& path, std::string_view tag,
                const std::array<std::string_view, N>& expected) {
  std::string message = "Input tag '" + std::string(tag) +
                        "' found using 'type' does not match any of the expected tags: ";
  for (size_t i = 0; i < N; ++i) {
    message += (i == 0 ? "'" : ", '") + std::string(expected[i]) + "'";
  }
  return problem(path, message);
}

template <size_t N>
bool one_of(std::string_view value, const std::array<std::string_view, N>& names) {
  return std::find(names.begin(), names.end(), value) != names.end();
}

// The string at `key`, or the problem with it. `required`: absence is a problem too.
Problem string_field(const json::object& o, std::string_view key, const std::string& path,
                     bool required, std::string_view* out) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) {
    return required ? problem(at(path, key), "Field required") : std::nullopt;
  }
  if (!v->is_string()) {
    return problem(at(path, key), "Input should be a valid string");
  }
  *out = v->get_string();
  return std::nullopt;
}

std::optional<int64_t> integer(const json::value& v) {
  if (v.is_int64()) {
    return v.get_int64();
  }
  if (v.is_uint64()) {
    return static_cast<int64_t>(std::min<uint64_t>(v.get_uint64(), INT64_MAX));
  }
  if (v.is_double() && std::floor(v.get_double()) == v.get_double() &&
      std::abs(v.get_double()) < 9e18) {
    return static_cast<int64_t>(v.get_double());
  }
  return std::nullopt;
}

// A tool_result's content, a string or blocks, appended as text.
void append_result_text(const json::value& content, std::string& out) {
  if (content.is_string()) {
    out += content.get_string();
  } else if (content.is_array()) {
    for (const json::value& block : content.get_array()) {
      const json::value* text =
          block.is_object() ? block.get_object().if_contains("text") : nullptr;
      if (text != nullptr && text->is_string()) {
        out += text->get_string();
      }
    }
  }
}

// One content block of a message; its text (text, tool_use input, tool_result content) goes
// to the prompt.
Problem decode_block(const json::value& value, const std::string& path, std::string& prompt) {
  if (!value.is_object()) {
    return problem(path, "Input should be a valid dictionary or object to extract fields from");
  }
  const json::object& block = value.get_object();
  std::string_view type;
  if (auto p = string_field(block, "type", path, true, &type)) {
    return p;
  }
  if (!one_of(type, kBlockTypes)) {
    return bad_tag(path, type, kBlockTypes);
  }
  const std::string typed = at(path, type);
  std::string_view text;
  if (type == "text") {
    if (auto p = string_field(block, "text", typed, true, &text)) {
      return p;
    }
    prompt += text;
  } else if (type == "tool_use") {
    std::string_view ignored;
    for (std::string_view key : {"id", "name"}) {
      if (auto p = string_field(block, key, typed, true, &ignored)) {
        return p;
      }
    }
    const json::value* input = block.if_contains("input");
    if (input == nullptr) {
      return problem(at(typed, "input"), "Field required");
    }
    if (!input->is_object()) {
      return problem(at(typed, "input"), "Input should be a valid dictionary");
    }
    prompt += json::serialize(*input);
  } else if (type == "tool_result") {
    std::string_view ignored;
    if (auto p = string_field(block, "tool_use_id", typed, true, &ignored)) {
      return p;
    }
    if (const json::value* content = block.if_contains("content")) {
      append_result_text(*content, prompt);
    }
  } else if (type == "image" || type == "document") {
    if (!block.contains("source")) {
      return problem(at(typed, "source"), "Field required");
    }
  }
  return std::nullopt;
}

Problem decode_messages(const json::object& body, ChatCall& call) {
  const json::value* messages = body.if_contains("messages");
  if (messages == nullptr) {
    return problem("messages", "Field required");
  }
  if (!messages->is_array()) {
    return problem("messages", "Input should be a valid list");
  }
  if (messages->get_array().empty()) {
    return problem("messages", "at least one message is required");
  }
  const json::array& list = messages->get_array();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = at("messages", i);
    if (!list[i].is_object()) {
      return problem(path, "Input should be a valid dictionary or object to extract fields from");
    }
    const json::object& message = list[i].get_object();
    std::string_view role;
    if (auto p = string_field(message, "role", path, true, &role)) {
      return p;
    }
    if (role != "user" && role != "assistant") {
      return problem(at(path, "role"), "Input should be 'user' or 'assistant'");
    }
    const json::value* content = message.if_contains("content");
    if (content == nullptr) {
      return problem(at(path, "content"), "Field required");
    }
    if (content->is_string()) {
      call.prompt_text += content->get_string();
    } else if (content->is_array()) {
      const json::array& blocks = content->get_array();
      for (size_t b = 0; b < blocks.size(); ++b) {
        if (auto p = decode_block(blocks[b], at(at(path, "content"), b), call.prompt_text)) {
          return p;
        }
      }
    } else {
      return problem(at(path, "content"), "Input should be a valid list");
    }
    ++call.message_count;
  }
  return std::nullopt;
}

// `system`: a string, or text blocks.
Problem decode_system(const json::object& body, ChatCall& call) {
  const json::value* system = body.if_contains("system");
  if (system == nullptr || system->is_null()) {
    return std::nullopt;
  }
  if (system->is_string()) {
    call.prompt_text += system->get_string();
    return std::nullopt;
  }
  if (!system->is_array()) {
    return problem("system", "Input should be a valid string");
  }
  const json::array& blocks = system->get_array();
  for (size_t i = 0; i < blocks.size(); ++i) {
    const std::string path = at("system", i);
    const json::object* block = blocks[i].if_object();
    std::string_view type;
    std::string_view text;
    if (block == nullptr) {
      return problem(path, "Input should be a valid dictionary or object to extract fields from");
    }
    if (auto p = string_field(*block, "type", path, true, &type)) {
      return p;
    }
    if (type != "text") {
      return problem(at(path, "type"), "Input should be 'text'");
    }
    if (auto p = string_field(*block, "text", path, true, &text)) {
      return p;
    }
    call.prompt_text += text;
  }
  return std::nullopt;
}

Problem decode_tools(const json::object& body, ChatCall& call) {
  if (const json::value* tools = body.if_contains("tools"); tools != nullptr) {
    if (!tools->is_array()) {
      return problem("tools", "Input should be a valid list");
    }
    const json::array& list = tools->get_array();
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string path = at("tools", i);
      const json::object* tool = list[i].if_object();
      if (tool == nullptr) {
        return problem(path, "Input should be a valid dictionary or object to extract fields from");
      }
      std::string_view type;
      if (auto p = string_field(*tool, "type", path, false, &type)) {
        return p;
      }
      std::string_view name;
      if (auto p = string_field(*tool, "name", path, true, &name)) {
        return p;
      }
      if (!type.empty() && type != "custom") {
        continue;  // a server tool (web search, code execution...): Anthropic runs it, not us
      }
      const json::value* schema = tool->if_contains("input_schema");
      if (schema == nullptr) {
        return problem(at(path, "input_schema"), "Field required");
      }
      if (!schema->is_object()) {
        return problem(at(path, "input_schema"), "Input should be a valid dictionary");
      }
      call.tools.push_back(ToolSpec{std::string(name), *schema});
    }
  }
  const json::value* choice = body.if_contains("tool_choice");
  if (choice == nullptr || choice->is_null()) {
    return std::nullopt;
  }
  const json::object* object = choice->if_object();
  if (object == nullptr) {
    return problem("tool_choice",
                   "Input should be a valid dictionary or object to extract fields from");
  }
  std::string_view type;
  if (auto p = string_field(*object, "type", "tool_choice", true, &type)) {
    return p;
  }
  if (!one_of(type, kToolChoiceTypes)) {
    return bad_tag("tool_choice", type, kToolChoiceTypes);
  }
  if (type == "none") {
    call.tools.clear();
  } else if (type == "tool") {
    std::string_view name;
    if (auto p = string_field(*object, "name", "tool_choice.tool", true, &name)) {
      return p;
    }
    call.forced_tool = std::string(name);
  }
  return std::nullopt;
}

// stream, stop_sequences and temperature: checked, and only `stream` changes the answer.
Problem decode_options(const json::object& body, ChatCall& call) {
  if (const json::value* stream = body.if_contains("stream");
      stream != nullptr && !stream->is_null()) {
    if (!stream->is_bool()) {
      return problem("stream", "Input should be a valid boolean");
    }
    call.stream = stream->get_bool();
  }
  if (const json::value* stops = body.if_contains("stop_sequences");
      stops != nullptr && !stops->is_null()) {
    if (!stops->is_array()) {
      return problem("stop_sequences", "Input should be a valid list");
    }
    for (size_t i = 0; i < stops->get_array().size(); ++i) {
      if (!stops->get_array()[i].is_string()) {
        return problem(at("stop_sequences", i), "Input should be a valid string");
      }
    }
  }
  if (const json::value* t = body.if_contains("temperature"); t != nullptr && !t->is_null()) {
    if (!t->is_number()) {
      return problem("temperature", "Input should be a valid number");
    }
    const double value = t->to_number<double>();
    if (value < 0) {
      return problem("temperature", "Input should be greater than or equal to 0");
    }
    if (value > 1) {
      return problem("temperature", "Input should be less than or equal to 1");
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_anthropic_version(std::string_view value) {
  if (value.empty()) {
    return std::string("anthropic-version: header is required");
  }
  return std::nullopt;
}

std::optional<std::string> decode_anthropic_messages(std::string_view text, ChatCall* out) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(text, ec);
  if (ec) {
    return "The request body is not valid JSON: " + ec.message();
  }
  if (!parsed.is_object()) {
    return std::string("Input should be a valid dictionary or object to extract fields from");
  }
  const json::object& body = parsed.get_object();
  ChatCall call;
  std::string_view model;
  if (auto p = string_field(body, "model", "", true, &model)) {
    return p;
  }
  if (model.empty()) {
    return std::string("model: String should have at least 1 character");
  }
  call.model = std::string(model);
  const json::value* max_tokens = body.if_contains("max_tokens");
  if (max_tokens == nullptr) {
    return std::string("max_tokens: Field required");
  }
  const std::optional<int64_t> limit = max_tokens->is_bool() ? std::nullopt : integer(*max_tokens);
  if (!limit) {
    return std::string("max_tokens: Input should be a valid integer");
  }
  if (*limit < 1) {
    return std::string("max_tokens: Input should be greater than or equal to 1");
  }
  call.max_tokens = static_cast<size_t>(*limit);
  for (auto decode : {decode_system, decode_messages, decode_tools, decode_options}) {
    if (auto p = decode(body, call)) {
      return p;
    }
  }
  *out = std::move(call);
  return std::nullopt;
}

}  // namespace sheepdog::mock
