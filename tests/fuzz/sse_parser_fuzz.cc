// Fuzz target: the SSE parser (upstream/sse_parser.h) on arbitrary bytes, as an upstream's
// text/event-stream body.
//
// Checks, beyond "no crash, no sanitizer report":
//   - bytes fed in pieces give the same events, the same failure and the same finish() as the
//     same bytes fed at once (upstream bodies arrive split anywhere);
//   - append_sse_event() writes what the parser reads back (the gateway re-frames events it
//     relays or translates with it).
// A third parser with a tiny event limit exercises the oversized-line failure path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "upstream/sse_parser.h"

namespace {

using sheepdog::upstream::SseEvent;
using sheepdog::upstream::SseParser;

struct Parsed {
  std::vector<SseEvent> events;
  bool ok = true;
  bool clean_end = true;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = sheepdog::fuzz::as_text(data, size);

  Parsed whole;
  SseParser one;
  whole.ok = one.feed(input, whole.events);
  whole.clean_end = one.finish();

  Parsed split;
  SseParser pieces;
  for (const std::string_view piece : sheepdog::fuzz::chunks_of(input)) {
    split.ok = pieces.feed(piece, split.events);
  }
  split.clean_end = pieces.finish();

  if (whole.ok != split.ok || whole.events != split.events) {
    sheepdog::fuzz::invariant_failed("SSE events depend on how the bytes were split");
  }
  if (whole.ok && whole.clean_end != split.clean_end) {
    sheepdog::fuzz::invariant_failed("SSE finish() depends on how the bytes were split");
  }
  if (whole.ok && one.last_event_id() != pieces.last_event_id()) {
    sheepdog::fuzz::invariant_failed("SSE last event id depends on how the bytes were split");
  }

  // Re-framing round trip: the events written out parse back the same (ids aside: the writer
  // does not write them). An event name with a line break cannot be written as one field; the
  // parser never produces one, since it splits lines first.
  std::string framed;
  for (const SseEvent& event : whole.events) {
    append_sse_event(event, framed);
  }
  std::vector<SseEvent> reread;
  SseParser again;
  if (!again.feed(framed, reread) || !again.finish() || reread.size() != whole.events.size()) {
    sheepdog::fuzz::invariant_failed("append_sse_event output does not parse back");
  }
  for (size_t i = 0; i < reread.size(); ++i) {
    if (reread[i].event != whole.events[i].event || reread[i].data != whole.events[i].data) {
      sheepdog::fuzz::invariant_failed("append_sse_event changes an event");
    }
  }

  SseParser tiny(64);
  std::vector<SseEvent> ignored;
  for (const std::string_view piece : sheepdog::fuzz::chunks_of(input)) {
    tiny.feed(piece, ignored);
  }
  tiny.finish();
  return 0;
}
