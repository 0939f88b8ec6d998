#include "providers/anthropic_inbound_stream.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <utility>

#include "providers/anthropic_inbound.h"
#include "core/json_fields.h"

namespace sheepdog::providers {
namespace {

namespace json = boost::json;

// Appends "event: <type>\ndata: <data>\n\n"; `data` carries the same `type`, first, as
// Anthropic's own events do.
void emit(std::string_view type, json::object data, std::string& out) {
  json::object event;
  event["type"] = type;
  for (auto& field : data) {
    event[field.key()] = std::move(field.value());
  }
  out += "event: ";
  out += type;
  out += "\ndata: ";
  out += json::serialize(event);
  out += "\n\n";
}

}  // namespace

AnthropicStreamEncoder::AnthropicStreamEncoder(std::string model) : model_(std::move(model)) {}

void AnthropicStreamEncoder::feed(std::string_view openai_sse, std::string& out) {
  if (finished_) {
    return;
  }
  events_.clear();
  const bool ok = parser_.feed(openai_sse, events_);
  for (const upstream::SseEvent& event : events_) {
    on_event(event, out);
    if (finished_) {
      return;
    }
  }
  if (!ok) {
    error("api_error", "The gateway's stream had an event too large to translate.", out);
  }
}

void AnthropicStreamEncoder::finish(std::string& out) {
  if (!finished_) {
    error("api_error", "The stream ended before the message was complete.", out);
  }
}

void AnthropicStreamEncoder::on_event(const upstream::SseEvent& event, std::string& out) {
  if (event.is_done()) {
    end(out);
    return;
  }
  boost::system::error_code ec;
  const json::value parsed = json::parse(event.data, ec);
  if (ec || !parsed.is_object()) {
    error("api_error", "The gateway's stream had an event that could not be translated.", out);
    return;
  }
  const json::object& data = parsed.get_object();
  if (const json::object* failure = object_field(data, "error")) {
    const std::string_view message = string_field(*failure, "message");
    error(anthropic_error_type(0, string_field(*failure, "type"), string_field(*failure, "code")),
          message.empty() ? "The stream failed." : message, out);
    return;
  }
  on_chunk(data, out);
}

void AnthropicStreamEncoder::on_chunk(const json::object& chunk, std::string& out) {
  const json::object* usage = object_field(chunk, "usage");  // null on most chunks
  if (usage != nullptr) {
    record_usage(*usage);
  }
  if (!started_) {
    start(string_field(chunk, "id"), out);
  }
  const json::value* choices = chunk.if_contains("choices");
  if (choices != nullptr && choices->is_array()) {
    for (const json::value& value : choices->get_array()) {
      if (!value.is_object() || integer_field(value.get_object(), "index", 0) != 0) {
        continue;  // the client asked for one answer; the Messages API has no n
      }
      const json::object& choice = value.get_object();
      if (const json::object* delta = object_field(choice, "delta")) {
        for (std::string_view key : {"content", "refusal"}) {
          if (const std::string_view piece = string_field(*delta, key); !piece.empty()) {
            text(piece, out);
          }
        }
        const json::value* calls = delta->if_contains("tool_calls");
        if (calls != nullptr && calls->is_array()) {
          const json::array& list = calls->get_array();
          for (size_t i = 0; i < list.size() && !finished_; ++i) {
            if (list[i].is_object()) {
              on_tool_call(list[i].get_object(), i, out);
            }
          }
        }
      }
      if (finished_) {
        return;
      }
      if (const std::string_view finish = string_field(choice, "finish_reason"); !finish.empty()) {
        close_block(out);
        stop_reason_ = std::string(to_anthropic_stop_reason(finish));
      }
    }
  }
  if (stop_reason_ && usage != nullptr) {
    end(out);
  }
}

void AnthropicStreamEncoder::on_tool_call(const json::object& call, size_t position,
                                          std::string& out) {
  const int64_t index = integer_field(call, "index", static_cast<int64_t>(position));
  const json::object* function = object_field(call, "function");
  const std::string_view arguments =
      function != nullptr ? string_field(*function, "arguments") : "";
  if (open_ != Block::kTool || open_tool_ != index) {
    if (tools_.contains(index)) {
      if (!arguments.empty()) {
        error("api_error",
              "The upstream interleaved the arguments of several tool calls, which an Anthropic "
              "stream cannot express.",
              out);
      }
      return;
    }
    close_block(out);
    std::string id(string_field(call, "id"));
    if (id.empty()) {
      id = "toolu_" + id_.substr(4) + "_" + std::to_string(index);
    }
    json::object block;
    block["type"] = "tool_use";
    block["id"] = id;
    block["name"] = function != nullptr ? string_field(*function, "name") : "";
    block["input"] = json::object();
    emit("content_block_start", json::object{{"index", next_block_}, {"content_block", block}},
         out);
    tools_.insert(index);
    open_ = Block::kTool;
    open_tool_ = index;
  }
  if (!arguments.empty()) {
    emit("content_block_delta",
         json::object{
             {"index", next_block_},
             {"delta", json::object{{"type", "input_json_delta"}, {"partial_json", arguments}}}},
         out);
  }
}

void AnthropicStreamEncoder::start(std::string_view completion_id, std::string& out) {
  id_ = anthropic_message_id(completion_id);
  json::object message;
  message["id"] = id_;
  message["type"] = "message";
  message["role"] = "assistant";
  message["model"] = model_;
  message["content"] = json::array();
  message["stop_reason"] = nullptr;
  message["stop_sequence"] = nullptr;
  json::object usage = to_anthropic_usage(openai_usage_);
  usage["output_tokens"] = 0;  // nothing is generated yet; message_delta has the count
  message["usage"] = std::move(usage);
  emit("message_start", json::object{{"message", std::move(message)}}, out);
  started_ = true;
}

void AnthropicStreamEncoder::text(std::string_view piece, std::string& out) {
  if (open_ != Block::kText) {
    close_block(out);
    emit("content_block_start",
         json::object{{"index", next_block_},
                      {"content_block", json::object{{"type", "text"}, {"text", ""}}}},
         out);
    open_ = Block::kText;
  }
  emit("content_block_delta",
       json::object{{"index", next_block_},
                    {"delta", json::object{{"type", "text_delta"}, {"text", piece}}}},
       out);
}

void AnthropicStreamEncoder::close_block(std::string& out) {
  if (open_ == Block::kNone) {
    return;
  }
  emit("content_block_stop", json::object{{"index", next_block_}}, out);
  ++next_block_;
  open_ = Block::kNone;
  open_tool_ = -1;
}

void AnthropicStreamEncoder::end(std::string& out) {
  if (!started_) {
    start("", out);
  }
  close_block(out);
  json::object delta;
  delta["stop_reason"] = stop_reason_.value_or("end_turn");
  delta["stop_sequence"] = nullptr;
  emit("message_delta",
       json::object{{"delta", std::move(delta)}, {"usage", to_anthropic_usage(openai_usage_)}},
       out);
  emit("message_stop", json::object(), out);
  finished_ = true;
}

void AnthropicStreamEncoder::error(std::string_view type, std::string_view message,
                                   std::string& out) {
  emit("error", json::object{{"error", json::object{{"type", type}, {"message", message}}}}, out);
  finished_ = true;
  failed_ = true;
}

void AnthropicStreamEncoder::record_usage(const json::object& usage) {
  openai_usage_ = usage;
  usage_.reported = true;
  usage_.prompt_tokens = integer_field(usage, "prompt_tokens", 0);
  usage_.completion_tokens = integer_field(usage, "completion_tokens", 0);
  const json::object* details = object_field(usage, "prompt_tokens_details");
  cached_tokens_ = details != nullptr ? integer_field(*details, "cached_tokens", 0) : 0;
}

}  // namespace sheepdog::providers
