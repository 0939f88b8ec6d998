// Decides, event by event, which part of a streamed answer may go to the client before the
// answer has been validated (policy tool_validation.streams, llm/tool_validation.h), and keeps
// the rest back. Pure: it sees the client-ready bytes the stream decoder produced (OpenAI
// chat.completion.chunk events, whatever the provider) and assembles them, so the whole answer
// can be validated once the stream is over.
//
// What is held back, until the end of the stream:
//   kToolCalls    (a request with tools) every event from the first one that carries a tool-call
//                 delta or a finish_reason on; before that, text flows at once, but events with
//                 nothing visible (the role-only first chunk, empty content, usage) wait for the
//                 first text, so a tool-call-only answer sends nothing before it is validated;
//   kEverything   (a JSON response_format) the whole stream: the content is what is validated.
// [DONE] is always held. So an answer that is only tool calls, or structured output, reaches
// the client only once it is valid (and can be retried unseen when it is not); an answer that
// starts with text has that text out early, and only its tool calls wait.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "llm/tool_validation.h"
#include "upstream/sse_parser.h"

namespace sheepdog::gateway {

class StreamGate {
 public:
  enum class Hold : unsigned char { kToolCalls, kEverything };
  explicit StreamGate(Hold hold) : hold_(hold) {}

  // Takes decoder output (whole events) and appends to `forward` the bytes that may be sent now.
  void feed(std::string_view events, std::string& forward);

  // Everything not yet forwarded, in order: what to send once the answer is valid.
  const std::string& held() const { return held_; }
  // True once anything has been handed out by feed().
  bool forwarded_any() const { return forwarded_any_; }
  // The answer so far, as one chat.completion.
  boost::json::object completion() const { return assembler_.completion(); }

 private:
  void route(const upstream::SseEvent& event, std::string& forward);

  Hold hold_;
  upstream::SseParser parser_;
  std::vector<upstream::SseEvent> events_;
  llm::ToolCallAssembler assembler_;
  bool holding_ = false;  // from here on everything waits for the end
  bool forwarded_any_ = false;
  std::string held_;
};

}  // namespace sheepdog::gateway
