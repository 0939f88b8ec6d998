#include "gateway/stream_gate.h"

#include <boost/json/parse.hpp>

namespace sheepdog::gateway {
namespace {

namespace json = boost::json;

struct ChunkTraits {
  bool tool_calls_or_finish = false;  // the part that waits for validation starts here
  bool visible = false;               // text or a refusal the client can show
};

ChunkTraits traits_of(const json::object& chunk) {
  ChunkTraits traits;
  const json::value* choices = chunk.if_contains("choices");
  if (choices == nullptr || !choices->is_array()) {
    return traits;
  }
  for (const json::value& choice : choices->get_array()) {
    if (!choice.is_object()) {
      continue;
    }
    const json::value* finish = choice.get_object().if_contains("finish_reason");
    if (finish != nullptr && !finish->is_null()) {
      traits.tool_calls_or_finish = true;
    }
    const json::value* delta = choice.get_object().if_contains("delta");
    if (delta == nullptr || !delta->is_object()) {
      continue;
    }
    const json::value* calls = delta->get_object().if_contains("tool_calls");
    if (calls != nullptr && calls->is_array() && !calls->get_array().empty()) {
      traits.tool_calls_or_finish = true;
    }
    for (const std::string_view key : {"content", "refusal"}) {
      const json::value* text = delta->get_object().if_contains(key);
      if (text != nullptr && text->is_string() && !text->get_string().empty()) {
        traits.visible = true;
      }
    }
  }
  return traits;
}

}  // namespace

void StreamGate::feed(std::string_view events, std::string& forward) {
  events_.clear();
  parser_.feed(events, events_);
  for (const upstream::SseEvent& event : events_) {
    route(event, forward);
  }
}

void StreamGate::route(const upstream::SseEvent& event, std::string& forward) {
  ChunkTraits traits;
  if (!event.is_done()) {
    boost::system::error_code ec;
    const json::value chunk = json::parse(event.data, ec);
    if (!ec && chunk.is_object()) {
      assembler_.add(chunk.get_object());
      traits = traits_of(chunk.get_object());
    }
  }
  if (event.is_done() || hold_ == Hold::kEverything || traits.tool_calls_or_finish) {
    holding_ = true;
  }
  upstream::append_sse_event(event, held_);  // the decoder wrote it so: canonical framing
  if (holding_ || (!traits.visible && !forwarded_any_)) {
    return;  // waits in held_: the validated part, or a preamble with nothing to show yet
  }
  forward += held_;
  held_.clear();
  forwarded_any_ = true;
}

}  // namespace sheepdog::gateway
