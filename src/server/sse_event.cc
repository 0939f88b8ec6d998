#include "server/sse_event.h"

namespace sheepdog::server {
namespace {

void append_data_lines(std::string& out, std::string_view data) {
  size_t start = 0;
  for (;;) {
    const size_t end = data.find_first_of("\r\n", start);
    out += "data: ";
    out += data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    out += '\n';
    if (end == std::string_view::npos) {
      break;
    }
    start = end + 1;
    if (data[end] == '\r' && start < data.size() && data[start] == '\n') {
      ++start;
    }
  }
  out += '\n';
}

}  // namespace

std::string format_sse_event(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 8);
  append_data_lines(out, data);
  return out;
}

std::string format_sse_event(std::string_view event, std::string_view data) {
  std::string out;
  out.reserve(event.size() + data.size() + 16);
  out += "event: ";
  out += event;
  out += '\n';
  append_data_lines(out, data);
  return out;
}

}  // namespace sheepdog::server
