#include "llm/tool_call_assembler.h"

#include <string_view>

#include "core/json_fields.h"

namespace sheepdog::llm {

namespace json = boost::json;

namespace {

// A choice's or tool call's `index`; a delta without one counts by its position in the list.
size_t index_of(const json::object& entry, size_t position) {
  const json::value* index = field(entry, "index");
  return index != nullptr && index->is_int64() && index->get_int64() >= 0
             ? static_cast<size_t>(index->get_int64())
             : position;
}

}  // namespace

void ToolCallAssembler::add(const json::object& chunk) {
  for (std::string_view key : {"id", "created", "model", "system_fingerprint", "service_tier"}) {
    if (const json::value* value = field(chunk, key); value != nullptr && !header_.contains(key)) {
      header_[key] = *value;
    }
  }
  if (const json::value* usage = field(chunk, "usage")) {
    usage_ = *usage;
  }
  const json::value* choices = field(chunk, "choices");
  if (choices == nullptr || !choices->is_array()) {
    return;
  }
  const json::array& list = choices->get_array();
  for (size_t position = 0; position < list.size(); ++position) {
    if (!list[position].is_object()) {
      continue;
    }
    const json::object& entry = list[position].get_object();
    const size_t index = index_of(entry, position);
    if (index >= kMaxIndex) {
      continue;
    }
    if (choices_.size() <= index) {
      choices_.resize(index + 1);
    }
    Choice& choice = choices_[index];
    choice.seen = true;
    if (const json::object* delta = object_field(entry, "delta")) {
      if (const json::value* content = field(*delta, "content"); content && content->is_string()) {
        choice.content += content->get_string();
        choice.has_content = true;
      }
      if (const json::value* refusal = field(*delta, "refusal"); refusal && refusal->is_string()) {
        choice.refusal += refusal->get_string();
        choice.has_refusal = true;
      }
      if (const json::value* calls = field(*delta, "tool_calls"); calls && calls->is_array()) {
        add_calls(choice, calls->get_array());
      }
    }
    if (const json::value* reason = field(entry, "finish_reason")) {
      choice.finish_reason = *reason;
      finished_ = true;
    }
  }
}

void ToolCallAssembler::add_calls(Choice& choice, const json::array& deltas) {
  for (size_t position = 0; position < deltas.size(); ++position) {
    if (!deltas[position].is_object()) {
      continue;
    }
    const json::object& delta = deltas[position].get_object();
    const size_t index = index_of(delta, position);
    if (index >= kMaxIndex) {
      continue;
    }
    if (choice.calls.size() <= index) {
      choice.calls.resize(index + 1);
    }
    Call& call = choice.calls[index];
    auto take_first = [](std::string& into, std::string_view value) {
      if (into.empty()) {
        into = value;
      }
    };
    take_first(call.id, string_field(delta, "id"));
    take_first(call.type, string_field(delta, "type"));
    if (const json::object* function = object_field(delta, "function")) {
      take_first(call.name, string_field(*function, "name"));
      call.arguments += string_field(*function, "arguments");
    }
  }
}

json::object ToolCallAssembler::completion() const {
  json::object out;
  out["id"] = header_.contains("id") ? header_.at("id") : json::value("");
  out["object"] = "chat.completion";
  out["created"] = header_.contains("created") ? header_.at("created") : json::value(0);
  out["model"] = header_.contains("model") ? header_.at("model") : json::value("");
  for (std::string_view key : {"system_fingerprint", "service_tier"}) {
    if (header_.contains(key)) {
      out[key] = header_.at(key);
    }
  }
  json::array choices;
  for (size_t i = 0; i < choices_.size(); ++i) {
    const Choice& choice = choices_[i];
    if (!choice.seen) {
      continue;
    }
    json::object message;
    message["role"] = "assistant";
    message["content"] = choice.has_content ? json::value(choice.content) : json::value(nullptr);
    if (choice.has_refusal) {
      message["refusal"] = choice.refusal;
    }
    if (!choice.calls.empty()) {
      json::array calls;
      for (const Call& call : choice.calls) {
        calls.push_back(json::object{
            {"id", call.id},
            {"type", call.type.empty() ? "function" : call.type},
            {"function", json::object{{"name", call.name}, {"arguments", call.arguments}}}});
      }
      message["tool_calls"] = std::move(calls);
    }
    choices.push_back(json::object{{"index", i},
                                   {"message", std::move(message)},
                                   {"finish_reason", choice.finish_reason},
                                   {"logprobs", nullptr}});
  }
  out["choices"] = std::move(choices);
  if (!usage_.is_null()) {
    out["usage"] = usage_;
  }
  return out;
}

}  // namespace sheepdog::llm
