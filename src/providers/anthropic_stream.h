// The streaming direction of the Anthropic translation (anthropic_messages.h): a StreamDecoder
// that reads the Messages API's server-sent events and writes OpenAI chat.completion.chunk
// events, so a client streaming from an Anthropic deployment sees what an OpenAI one sends.
//
//   message_start                      -> a chunk with delta {role: "assistant", content: ""}
//   content_block_start (tool_use)     -> a chunk opening tool_calls[i] (id, name, arguments "")
//   content_block_delta text_delta     -> a chunk with delta.content
//   content_block_delta input_json_delta -> a chunk appending to tool_calls[i].function.arguments
//   message_delta (stop_reason)        -> a chunk with finish_reason (mapped as in
//                                         to_openai_finish_reason), and the output token count
//   message_stop                       -> the usage chunk if the client asked for it
//                                         (stream_options.include_usage), then data: [DONE]
//   error                              -> an OpenAI-shaped error event; the stream ends (no
//                                         [DONE]), reported as upstream_error
//   ping, content_block_stop, unknown  -> nothing
//
// Tool calls are numbered in the order their blocks start (OpenAI's tool_calls[].index), which
// need not be Anthropic's block index: text blocks take no tool-call number.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "providers/sse_stream_decoder.h"

namespace sheepdog::providers {

class AnthropicStreamDecoder final : public SseStreamDecoder {
 public:
  // `include_usage`: the client asked for a final usage chunk. `created` stamps every chunk.
  AnthropicStreamDecoder(bool include_usage, int64_t created);

  const TokenUsage& usage() const override { return usage_; }

 private:
  // Appends the OpenAI events for one Anthropic event; false if it was malformed.
  bool on_event(const upstream::SseEvent& event, std::string& out, Step& step) override;
  // Writes `data: {chunk}` with this stream's id, model and created around `choice`.
  void emit(boost::json::object choice, std::string& out);
  void emit_usage(std::string& out);

  bool include_usage_;
  int64_t created_;
  std::string id_;
  std::string model_;
  boost::json::object anthropic_usage_;  // merged from message_start and message_delta
  TokenUsage usage_;
  std::map<int64_t, int64_t> tool_index_;  // Anthropic block index -> OpenAI tool_calls index
};

}  // namespace sheepdog::providers
