// The streaming half of the inbound Anthropic Messages API (anthropic_inbound.h): turns the
// OpenAI chat.completion.chunk stream the gateway writes for a request into the event stream
// the Anthropic API sends, so an Anthropic SDK client can stream from any deployment.
//
//   first chunk                -> message_start (id from the chunk's id, model = the client's
//                                 requested model, empty content, usage if that chunk has one)
//   delta.content / .refusal   -> a text block: content_block_start, text_delta per piece
//   delta.tool_calls[i]        -> a tool_use block per distinct i (id, name at the start),
//                                 input_json_delta per arguments piece
//   finish_reason              -> closes the open block; the stop_reason is held
//   usage chunk, or [DONE]     -> message_delta {stop_reason, stop_sequence: null, usage} and
//                                 message_stop (OpenAI sends usage in a chunk after the one with
//                                 finish_reason, so message_delta waits for it)
//   {"error": {...}} event     -> event: error {"type":"error","error":{type, message}}, typed
//                                 as anthropic_error_type(0, type, code); nothing after it
//
// Blocks are numbered consecutively from 0 in the order they open; a block is closed
// (content_block_stop) before the next opens, since Anthropic streams one block at a time. So a
// tool call whose block is closed cannot receive more arguments: if arguments for it arrive
// after another block has opened (no known upstream interleaves like that), the stream ends
// with an api_error event rather than an input the client would see cut short. No ping events
// are sent (the SDKs ignore them). Input is OpenAI SSE split anywhere; the output holds complete
// events only.
//
// Not thread-safe; one encoder per response.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "providers/provider.h"
#include "upstream/sse_parser.h"

namespace sheepdog::providers {

class AnthropicStreamEncoder {
 public:
  // `model`: the model name the client asked for, echoed in message_start.
  explicit AnthropicStreamEncoder(std::string model);

  // Appends to `out` the Anthropic events that `openai_sse` completes. Bytes after the end
  // (message_stop or error) are ignored.
  void feed(std::string_view openai_sse, std::string& out);

  // The OpenAI stream is over (the connection ended). If the Anthropic stream is not, appends an
  // api_error event saying it ended early, so the client does not wait for a message_stop.
  void finish(std::string& out);

  // message_stop or an error event has been written.
  bool finished() const { return finished_; }
  // The stream ended with an error event (the gateway's, or one of ours).
  bool failed() const { return failed_; }

  // The usage the stream reported (OpenAI counts: prompt_tokens includes cached tokens);
  // `reported` is false until a usage chunk arrives.
  const TokenUsage& usage() const { return usage_; }
  int64_t cached_tokens() const { return cached_tokens_; }

 private:
  enum class Block : unsigned char { kNone, kText, kTool };

  void on_event(const upstream::SseEvent& event, std::string& out);
  void on_chunk(const boost::json::object& chunk, std::string& out);
  void on_tool_call(const boost::json::object& call, size_t position, std::string& out);
  void start(std::string_view completion_id, std::string& out);
  void text(std::string_view piece, std::string& out);
  void close_block(std::string& out);
  void end(std::string& out);
  void error(std::string_view type, std::string_view message, std::string& out);
  void record_usage(const boost::json::object& usage);

  std::string model_;
  upstream::SseParser parser_;
  std::vector<upstream::SseEvent> events_;
  std::string id_;
  bool started_ = false;
  bool finished_ = false;
  bool failed_ = false;
  Block open_ = Block::kNone;
  int64_t next_block_ = 0;   // the index the next content block gets
  int64_t open_tool_ = -1;   // the OpenAI tool_calls index of the open tool block
  std::set<int64_t> tools_;  // OpenAI tool_calls indexes whose block has opened
  std::optional<std::string> stop_reason_;
  boost::json::object openai_usage_;  // the latest usage object seen
  TokenUsage usage_;
  int64_t cached_tokens_ = 0;
};

}  // namespace sheepdog::providers
