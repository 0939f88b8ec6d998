#include "server/json_body.h"

#include <fmt/format.h>

#include <boost/json/error.hpp>
#include <boost/json/stream_parser.hpp>

namespace sheepdog::server {
namespace {

namespace json = boost::json;

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The \uXXXX escape ending at `end` (exclusive), if there is one.
std::string_view escape_before(std::string_view body, size_t end) {
  if (end < 6 || body[end - 6] != '\\' || (body[end - 5] != 'u' && body[end - 5] != 'U')) {
    return {};
  }
  const std::string_view escape = body.substr(end - 6, 6);
  for (size_t i = 2; i < 6; ++i) {
    if (!is_hex(escape[i])) {
      return {};
    }
  }
  return escape;
}

// Where a UTF-8 sequence starting at `at` goes wrong, or npos if it is valid there.
size_t bad_utf8_at(std::string_view body, size_t at) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(body[i]); };
  const unsigned char lead = byte(at);
  size_t length = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
  } else {
    return at;
  }
  for (size_t i = 1; i < length; ++i) {
    if (at + i >= body.size() || (byte(at + i) & 0xc0) != 0x80) {
      return at + i < body.size() ? at + i : at;
    }
  }
  return std::string_view::npos;
}

std::string near(std::string_view body, size_t at) {
  std::string out;
  for (size_t i = at; i < body.size() && out.size() < 20; ++i) {
    const unsigned char c = static_cast<unsigned char>(body[i]);
    out += c >= 0x20 && c < 0x7f && c != '\'' ? static_cast<char>(c) : '?';
  }
  return out;
}

std::string describe(std::string_view body, size_t at, const boost::system::error_code& ec) {
  if (ec == json::error::incomplete) {
    return fmt::format("the body ends before the JSON value is complete (byte {})", body.size());
  }
  if (ec == json::error::too_deep) {
    return fmt::format("JSON nested deeper than {} levels at byte {}", kMaxBodyDepth, at);
  }
  if (ec == json::error::illegal_leading_surrogate ||
      ec == json::error::illegal_trailing_surrogate || ec == json::error::expected_utf16_escape) {
    const std::string_view escape = escape_before(body, at);
    return fmt::format("lone surrogate {} at byte {}: UTF-16 surrogates must come in pairs",
                       escape.empty() ? std::string("escape") : std::string(escape),
                       escape.empty() ? at : at - 6);
  }
  if (at < body.size()) {
    const unsigned char c = static_cast<unsigned char>(body[at]);
    if (c >= 0x80) {
      const size_t bad = bad_utf8_at(body, at);
      const size_t where = bad == std::string_view::npos ? at : bad;
      return fmt::format("invalid UTF-8 (byte 0x{:02x}) at byte {}; the body must be UTF-8",
                         static_cast<unsigned char>(body[where]), where);
    }
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      return fmt::format("control character 0x{:02x} at byte {}; escape it inside strings", c, at);
    }
    // A high surrogate escape followed by something other than a low one.
    if (const std::string_view escape = escape_before(body, at); !escape.empty()) {
      return fmt::format("lone surrogate {} at byte {}: UTF-16 surrogates must come in pairs",
                         escape, at - 6);
    }
  }
  return fmt::format("JSON syntax error at byte {} (near '{}')", at, near(body, at));
}

}  // namespace

std::string parse_json_body(std::string_view body, json::value& out) {
  json::parse_options options;
  options.max_depth = kMaxBodyDepth;
  json::stream_parser parser(json::storage_ptr(), options);
  boost::system::error_code ec;
  const size_t used = parser.write_some(body.data(), body.size(), ec);
  if (ec) {
    return describe(body, used, ec);
  }
  if (!parser.done()) {
    parser.finish(ec);
    if (ec) {
      return describe(body, body.size(), ec);
    }
  }
  for (size_t i = used; i < body.size(); ++i) {
    const char c = body[i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      return fmt::format("unexpected data after the JSON value at byte {} (near '{}')", i,
                         near(body, i));
    }
  }
  out = parser.release();
  return {};
}

}  // namespace sheepdog::server
