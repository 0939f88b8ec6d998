// The common half of the stream decoders: parse the upstream's bytes into server-sent events
// and hand each to the subclass, which appends what the client should get (the event itself,
// or its translation) and says when the stream is over. Once over, later bytes are ignored.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "providers/provider.h"
#include "upstream/sse_parser.h"

namespace sheepdog::providers {

class SseStreamDecoder : public StreamDecoder {
 public:
  Step feed(std::string_view bytes, std::string& out) final;

 protected:
  // Appends to `out` what `event` becomes and counts it in step.events; calls finish() at the
  // stream's last event. False if the event is malformed: the stream fails.
  virtual bool on_event(const upstream::SseEvent& event, std::string& out, Step& step) = 0;
  void finish() { done_ = true; }

 private:
  upstream::SseParser parser_;
  std::vector<upstream::SseEvent> events_;
  bool done_ = false;
};

}  // namespace sheepdog::providers
