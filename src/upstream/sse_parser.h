// Incremental parser for Server-Sent Events (text/event-stream), as the WHATWG HTML standard
// ("Parsing an event stream") defines it. Pure: it sees only bytes handed to it, so the same
// parser serves upstream streams (OpenAI `data:` chunks, Anthropic named events), tests and
// benchmarks. Bytes may be split anywhere, including inside a line or between "\r" and "\n".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sheepdog::upstream {

// One dispatched event.
struct SseEvent {
  // The `event:` field; empty when absent, which the standard treats as type "message".
  std::string event;
  // The `data:` lines joined by "\n" (no trailing newline).
  std::string data;
  // The last event id seen so far on this stream (ids persist across events, per the standard).
  std::string id;

  // OpenAI's end-of-stream sentinel, `data: [DONE]`. It is a normal event to the parser; the
  // caller stops reading the stream after it.
  bool is_done() const { return data == "[DONE]"; }

  friend bool operator==(const SseEvent&, const SseEvent&) = default;
};

// Appends `event` in SSE framing: the event name if it had one, each data line as its own
// `data:` line (the parser joined them with "\n"), and the blank line that dispatches it. What
// the parser reads back from it is `event` again (the id aside).
void append_sse_event(const SseEvent& event, std::string& out);

// Not thread-safe; one parser per stream.
class SseParser {
 public:
  // A line, or an event's data, larger than this fails the stream rather than growing without
  // bound (an upstream that never sends a newline must not exhaust memory).
  static constexpr size_t kDefaultMaxEventBytes = size_t{8} << 20;

  explicit SseParser(size_t max_event_bytes = kDefaultMaxEventBytes)
      : max_event_bytes_(max_event_bytes) {}

  // Parses `bytes` and appends every event they complete to `out`, in order. Returns false iff
  // the stream has failed (now or earlier): a pending line or event exceeded max_event_bytes.
  // After a failure, further input is ignored.
  bool feed(std::string_view bytes, std::vector<SseEvent>& out);

  // Ends the stream. Per the standard an event not terminated by a blank line is discarded;
  // returns true iff nothing was pending, i.e. the stream ended on an event boundary. Resets the
  // parser for a new stream except for last_event_id() and retry().
  bool finish();

  bool failed() const { return failed_; }
  // The `id:` of the latest event seen (what a reconnecting client sends as Last-Event-ID).
  const std::string& last_event_id() const { return last_id_; }
  // The latest valid `retry:` field, in milliseconds.
  std::optional<uint64_t> retry() const { return retry_ms_; }

 private:
  void feed_lines(std::string_view bytes, std::vector<SseEvent>& out);
  void process_line(std::string_view line, std::vector<SseEvent>& out);
  void dispatch(std::vector<SseEvent>& out);

  size_t max_event_bytes_;
  bool failed_ = false;
  // A UTF-8 byte order mark is stripped once, at the very start; until 3 bytes have been seen
  // the candidate bytes wait in bom_.
  bool at_stream_start_ = true;
  std::string bom_;
  // The previous chunk ended in "\r": a "\n" starting the next one belongs to that line break.
  bool skip_lf_ = false;
  std::string line_;  // a line whose terminator has not arrived yet
  std::string event_;
  std::string data_;         // "data" buffer: each value followed by "\n"
  bool has_fields_ = false;  // any field since the last dispatch (for finish())
  std::string last_id_;
  std::optional<uint64_t> retry_ms_;
};

}  // namespace sheepdog::upstream
