#include "providers/sse_stream_decoder.h"

namespace sheepdog::providers {

StreamDecoder::Step SseStreamDecoder::feed(std::string_view bytes, std::string& out) {
  Step step;
  if (done_) {
    step.done = true;
    return step;
  }
  events_.clear();
  if (!parser_.feed(bytes, events_)) {
    step.failed = true;
  }
  for (const upstream::SseEvent& event : events_) {
    if (!on_event(event, out, step)) {
      step.failed = true;
      break;
    }
    if (done_) {
      break;
    }
  }
  step.done = done_;
  return step;
}

}  // namespace sheepdog::providers
