#include "providers/anthropic_stream.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "providers/anthropic_messages.h"
#include "core/json_fields.h"

namespace sheepdog::providers {
namespace {

namespace json = boost::json;

json::object choice_with(json::object delta, json::value finish_reason = nullptr) {
  json::object choice;
  choice["index"] = 0;
  choice["delta"] = std::move(delta);
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = std::move(finish_reason);
  return choice;
}

void append_data(std::string_view data, std::string& out) {
  out += "data: ";
  out += data;
  out += "\n\n";
}

}  // namespace

AnthropicStreamDecoder::AnthropicStreamDecoder(bool include_usage, int64_t created)
    : include_usage_(include_usage), created_(created) {}

void AnthropicStreamDecoder::emit(json::object choice, std::string& out) {
  json::object chunk;
  chunk["id"] = "chatcmpl-" + id_;
  chunk["object"] = "chat.completion.chunk";
  chunk["created"] = created_;
  chunk["model"] = model_;
  chunk["choices"] = json::array{std::move(choice)};
  append_data(json::serialize(chunk), out);
}

void AnthropicStreamDecoder::emit_usage(std::string& out) {
  json::object chunk;
  chunk["id"] = "chatcmpl-" + id_;
  chunk["object"] = "chat.completion.chunk";
  chunk["created"] = created_;
  chunk["model"] = model_;
  chunk["choices"] = json::array();
  chunk["usage"] = openai_usage_object(anthropic_usage_);
  append_data(json::serialize(chunk), out);
}

bool AnthropicStreamDecoder::on_event(const upstream::SseEvent& event, std::string& out,
                                      Step& step) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(event.data, ec);
  if (ec || !parsed.is_object()) {
    return false;
  }
  const json::object& data = parsed.get_object();
  // The event name is also in the data's `type`; the data is what Anthropic documents as
  // authoritative, and proxies sometimes drop `event:` lines.
  const std::string_view type = string_field(data, "type");

  if (type == "message_start") {
    if (const json::object* message = object_field(data, "message")) {
      id_ = string_field(*message, "id");
      model_ = string_field(*message, "model");
      if (const json::object* u = object_field(*message, "usage")) {
        anthropic_usage_ = *u;
        usage_ = anthropic_usage(anthropic_usage_);
      }
    }
    emit(choice_with(json::object{{"role", "assistant"}, {"content", ""}}), out);
    ++step.events;
  } else if (type == "content_block_start") {
    const json::object* block = object_field(data, "content_block");
    if (block != nullptr && string_field(*block, "type") == "tool_use") {
      const int64_t index = static_cast<int64_t>(tool_index_.size());
      tool_index_[integer_field(data, "index", 0)] = index;
      json::object call;
      call["index"] = index;
      call["id"] = string_field(*block, "id");
      call["type"] = "function";
      call["function"] = json::object{{"name", string_field(*block, "name")}, {"arguments", ""}};
      emit(choice_with(json::object{{"tool_calls", json::array{std::move(call)}}}), out);
      ++step.events;
    }
  } else if (type == "content_block_delta") {
    const json::object* delta = object_field(data, "delta");
    if (delta == nullptr) {
      return false;
    }
    const std::string_view delta_type = string_field(*delta, "type");
    if (delta_type == "text_delta") {
      emit(choice_with(json::object{{"content", string_field(*delta, "text")}}), out);
      ++step.events;
    } else if (delta_type == "input_json_delta") {
      const auto it = tool_index_.find(integer_field(data, "index", 0));
      if (it == tool_index_.end()) {
        return false;  // arguments for a tool call that never started
      }
      json::object call;
      call["index"] = it->second;
      call["function"] = json::object{{"arguments", string_field(*delta, "partial_json")}};
      emit(choice_with(json::object{{"tool_calls", json::array{std::move(call)}}}), out);
      ++step.events;
    }
  } else if (type == "message_delta") {
    if (const json::object* u = object_field(data, "usage")) {
      for (const auto& field : *u) {
        anthropic_usage_[field.key()] = field.value();
      }
      usage_ = anthropic_usage(anthropic_usage_);
    }
    const json::object* delta = object_field(data, "delta");
    const std::string_view stop = delta != nullptr ? string_field(*delta, "stop_reason") : "";
    if (!stop.empty()) {
      emit(choice_with(json::object(), json::value(to_openai_finish_reason(stop))), out);
      ++step.events;
    }
  } else if (type == "message_stop") {
    if (include_usage_) {
      emit_usage(out);
      ++step.events;
    }
    append_data("[DONE]", out);
    ++step.events;
    finish();
  } else if (type == "error") {
    std::optional<std::string> body = to_openai_error_body(event.data);
    append_data(
        body
            ? *body
            : R"({"error":{"message":"The upstream stream failed.","type":"server_error","param":null,"code":null}})",
        out);
    ++step.events;
    step.upstream_error = true;
    finish();
  }
  return true;
}

}  // namespace sheepdog::providers
