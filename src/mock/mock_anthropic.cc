// The answers of POST /v1/messages: Anthropic's reply rules, message bodies and event streams
// (see mock_anthropic.h).
#include "mock/mock_anthropic.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "mock/mock_tool_faults.h"
#include "server/sse_event.h"

namespace sheepdog::mock {
namespace {

namespace json = boost::json;

json::object usage(size_t input_tokens, size_t output_tokens) {
  json::object u;
  u["input_tokens"] = input_tokens;
  u["cache_creation_input_tokens"] = 0;
  u["cache_read_input_tokens"] = 0;
  u["output_tokens"] = output_tokens;
  return u;
}

// The message object, with `content` and the stop fields as given.
json::object message(const ChatReply& reply, json::array content, json::value stop_reason,
                     json::object usage_object) {
  json::object m;
  m["id"] = reply.id;
  m["type"] = "message";
  m["role"] = "assistant";
  m["model"] = reply.model;
  m["content"] = std::move(content);
  m["stop_reason"] = std::move(stop_reason);
  m["stop_sequence"] = nullptr;
  m["usage"] = std::move(usage_object);
  return m;
}

// The content block as content_block_start announces it: empty text, or the tool with an
// empty input (its input then arrives as input_json_delta).
json::object empty_block(const ChatReply& reply) {
  if (!reply.tool_call) {
    return json::object{{"type", "text"}, {"text", ""}};
  }
  return json::object{{"type", "tool_use"},
                      {"id", reply.tool_call->id},
                      {"name", reply.tool_call->name},
                      {"input", json::object()}};
}

std::string event(std::string_view name, const json::object& data) {
  return server::format_sse_event(name, json::serialize(data));
}

bool parses(std::string_view text) {
  boost::system::error_code ec;
  json::parse(text, ec);
  return !ec;
}

bool is_object_text(std::string_view text) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  return !ec && v.is_object();
}

}  // namespace

ChatReply anthropic_reply(const ChatCall& call, Outcome outcome, const MockConfig& config,
                          RandomSource& random) {
  const size_t requested = call.max_tokens.value_or(config.completion_tokens);
  ChatCall capped = call;
  capped.max_tokens = std::min(requested, config.completion_tokens);
  // Unparseable arguments exist only in a stream: a whole message's input is an object.
  const bool syntax_fault = outcome == Outcome::kMalformedToolCall ||
                            outcome == Outcome::kToolTruncatedJson ||
                            outcome == Outcome::kToolTrailingText;
  const Outcome made = syntax_fault && !call.stream ? Outcome::kInvalidToolArgs : outcome;
  ChatReply reply = make_chat_reply(capped, made, config, random, /*created=*/0);
  reply.id = random_id("msg_01", 22, random);
  if (!reply.tool_call) {
    reply.finish_reason = reply.completion_tokens >= requested ? "max_tokens" : "end_turn";
    return reply;
  }
  ToolCallReply& tool = *reply.tool_call;
  tool.id = random_id("toolu_01", 22, random);
  // What is not an object can stand only as unparseable stream text; a parseable non-object
  // (break_schema's "not an object") or any non-object in a whole message is replaced.
  const bool streamed_syntax_fault = call.stream && !parses(tool.arguments);
  if (!streamed_syntax_fault && !is_object_text(tool.arguments)) {
    tool.arguments = is_tool_fault(made) ? R"({"unexpected_argument":"not in the schema"})" : "{}";
    reply.completion_tokens = approx_tokens(tool.name) + approx_tokens(tool.arguments);
  }
  reply.finish_reason = "tool_use";
  return reply;
}

std::string anthropic_message(const ChatReply& reply) {
  json::object block = empty_block(reply);
  if (reply.tool_call) {
    boost::system::error_code ec;
    json::value input = json::parse(reply.tool_call->arguments, ec);
    block["input"] = !ec && input.is_object() ? std::move(input) : json::value(json::object());
  } else {
    block["text"] = reply.text;
  }
  return json::serialize(message(reply, json::array{std::move(block)},
                                 json::value(reply.finish_reason),
                                 usage(reply.prompt_tokens, reply.completion_tokens)));
}

std::vector<std::string> anthropic_message_stream(const ChatReply& reply) {
  std::vector<std::string> events;
  events.push_back(
      event("message_start", json::object{{"type", "message_start"},
                                          {"message", message(reply, json::array(), nullptr,
                                                              usage(reply.prompt_tokens, 1))}}));
  events.push_back(event(
      "content_block_start",
      json::object{
          {"type", "content_block_start"}, {"index", 0}, {"content_block", empty_block(reply)}}));
  events.push_back(event("ping", json::object{{"type", "ping"}}));
  for (std::string_view piece : reply.pieces()) {
    const json::object delta =
        reply.tool_call ? json::object{{"type", "input_json_delta"}, {"partial_json", piece}}
                        : json::object{{"type", "text_delta"}, {"text", piece}};
    events.push_back(
        event("content_block_delta",
              json::object{{"type", "content_block_delta"}, {"index", 0}, {"delta", delta}}));
  }
  events.push_back(
      event("content_block_stop", json::object{{"type", "content_block_stop"}, {"index", 0}}));
  events.push_back(event(
      "message_delta",
      json::object{
          {"type", "message_delta"},
          {"delta", json::object{{"stop_reason", reply.finish_reason}, {"stop_sequence", nullptr}}},
          {"usage", json::object{{"output_tokens", reply.completion_tokens}}}}));
  events.push_back(event("message_stop", json::object{{"type", "message_stop"}}));
  return events;
}

std::string anthropic_request_id(RandomSource& random) { return random_id("req_011C", 20, random); }

}  // namespace sheepdog::mock
