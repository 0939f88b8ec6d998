#include "upstream/sse_parser.h"

#include <cstring>
#include <utility>

namespace sheepdog::upstream {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Index of the first '\r' or '\n' in s at or after `from`, or npos. Two memchr calls beat
// find_first_of's per-byte set lookup on long lines, which is the common case (JSON payloads).
size_t find_line_end(std::string_view s, size_t from) {
  const char* begin = s.data() + from;
  const size_t n = s.size() - from;
  const void* lf = std::memchr(begin, '\n', n);
  const size_t lf_n = lf ? static_cast<const char*>(lf) - begin : n;
  const void* cr = std::memchr(begin, '\r', lf_n);
  const size_t end = cr ? static_cast<const char*>(cr) - begin : lf_n;
  return end == n ? std::string_view::npos : from + end;
}

// The standard accepts only ASCII digits for `retry:`; anything else ignores the field.
std::optional<uint64_t> parse_retry(std::string_view value) {
  if (value.empty() || value.size() > 19) {  // 19 digits always fit in uint64_t
    return std::nullopt;
  }
  uint64_t ms = 0;
  for (char c : value) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    ms = ms * 10 + static_cast<uint64_t>(c - '0');
  }
  return ms;
}

}  // namespace

void append_sse_event(const SseEvent& event, std::string& out) {
  if (!event.event.empty()) {
    out += "event: ";
    out += event.event;
    out += '\n';
  }
  std::string_view data = event.data;
  for (;;) {
    const size_t nl = data.find('\n');
    out += "data: ";
    out += data.substr(0, nl);
    out += '\n';
    if (nl == std::string_view::npos) {
      break;
    }
    data.remove_prefix(nl + 1);
  }
  out += '\n';
}

bool SseParser::feed(std::string_view bytes, std::vector<SseEvent>& out) {
  if (failed_) {
    return false;
  }
  if (at_stream_start_) {
    while (!bytes.empty() && bom_.size() < kBom.size()) {
      bom_.push_back(bytes.front());
      bytes.remove_prefix(1);
      if (bom_.back() != kBom[bom_.size() - 1]) {
        break;
      }
    }
    if (bom_ == kBom) {
      bom_.clear();
    } else if (bytes.empty() && kBom.starts_with(bom_)) {
      return true;  // still a BOM prefix: wait for more bytes
    }
    at_stream_start_ = false;
    std::string pending = std::move(bom_);
    bom_.clear();
    feed_lines(pending, out);
  }
  feed_lines(bytes, out);
  return !failed_;
}

void SseParser::feed_lines(std::string_view bytes, std::vector<SseEvent>& out) {
  size_t i = 0;
  if (skip_lf_ && !bytes.empty()) {
    skip_lf_ = false;
    if (bytes.front() == '\n') {
      i = 1;
    }
  }
  while (i < bytes.size() && !failed_) {
    const size_t end = find_line_end(bytes, i);
    if (end == std::string_view::npos) {
      if (line_.size() + (bytes.size() - i) > max_event_bytes_) {
        failed_ = true;
        return;
      }
      line_.append(bytes.substr(i));
      return;
    }
    const std::string_view piece = bytes.substr(i, end - i);
    if (line_.empty()) {
      process_line(piece, out);  // the common case: the whole line is in this chunk, no copy
    } else {
      line_.append(piece);
      process_line(line_, out);
      line_.clear();
    }
    i = end + 1;
    if (bytes[end] == '\r') {
      if (i == bytes.size()) {
        skip_lf_ = true;  // "\r" ends the chunk: a "\n" may open the next one
      } else if (bytes[i] == '\n') {
        ++i;
      }
    }
  }
}

void SseParser::process_line(std::string_view line, std::vector<SseEvent>& out) {
  if (line.empty()) {
    dispatch(out);
    return;
  }
  if (line.front() == ':') {
    return;  // comment, e.g. the ": keep-alive" pings some upstreams send
  }
  const size_t colon = line.find(':');
  const std::string_view name = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
  }
  if (name == "data") {
    if (data_.size() + value.size() + 1 > max_event_bytes_) {
      failed_ = true;
      return;
    }
    data_.append(value);
    data_.push_back('\n');
    has_fields_ = true;
  } else if (name == "event") {
    event_.assign(value);
    has_fields_ = true;
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) {
      last_id_.assign(value);
    }
    has_fields_ = true;
  } else if (name == "retry") {
    if (auto ms = parse_retry(value)) {
      retry_ms_ = ms;
    }
    has_fields_ = true;
  }
  // Unknown field names are ignored, as the standard requires.
}

void SseParser::dispatch(std::vector<SseEvent>& out) {
  has_fields_ = false;
  if (data_.empty()) {
    event_.clear();  // no data: nothing is dispatched, and the type does not carry over
    return;
  }
  data_.pop_back();  // the "\n" after the last data line
  SseEvent& event = out.emplace_back();
  event.event = std::move(event_);
  event.data = std::move(data_);
  event.id = last_id_;
  event_.clear();
  data_.clear();
}

bool SseParser::finish() {
  const bool clean = line_.empty() && !has_fields_ && bom_.empty();
  line_.clear();
  event_.clear();
  data_.clear();
  bom_.clear();
  has_fields_ = false;
  skip_lf_ = false;
  failed_ = false;
  at_stream_start_ = true;
  return clean;
}

}  // namespace sheepdog::upstream
