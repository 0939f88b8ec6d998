#include "llm/json_text.h"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <cstdint>

namespace sheepdog::llm::detail {

namespace json = boost::json;

namespace {

constexpr size_t kMaxValueBytes = 60;

void append_json(std::string& out, const json::value& value, size_t budget);

void append_number(std::string& out, const json::value& value) {
  if (value.is_int64()) {
    out += std::to_string(value.get_int64());
  } else if (value.is_uint64()) {
    out += std::to_string(value.get_uint64());
  } else {
    out += fmt::format("{}", value.get_double());  // shortest form, "1.5" not "1.5E0"
  }
}

// JSON text of `value`, giving up (with "...") once `out` passes `budget` bytes.
void append_json(std::string& out, const json::value& value, size_t budget) {
  if (out.size() > budget) {
    return;
  }
  switch (value.kind()) {
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (out.size() > budget) {
          out += "...";
          break;
        }
        out += first ? "" : ",";
        first = false;
        out += json::serialize(json::string_view(member.key()));
        out += ':';
        append_json(out, member.value(), budget);
      }
      out += '}';
      break;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const json::value& item : value.get_array()) {
        if (out.size() > budget) {
          out += "...";
          break;
        }
        out += first ? "" : ",";
        first = false;
        append_json(out, item, budget);
      }
      out += ']';
      break;
    }
    case json::kind::string:
      out += json::serialize(value.get_string());
      break;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      append_number(out, value);
      break;
    case json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      break;
    case json::kind::null:
      out += "null";
      break;
  }
}

std::string escape_pointer_token(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string shorten(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) {
    return std::string(text);
  }
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return std::string(text.substr(0, end)) + "...";
}

std::string one_line(std::string_view text, size_t max_bytes) {
  std::string out = shorten(text, max_bytes);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      c = '?';
    }
  }
  return out;
}

std::string json_text(const json::value& value, size_t max_bytes) {
  std::string out;
  append_json(out, value, max_bytes);
  return shorten(out, max_bytes);
}

std::string quote(const json::value& value) {
  if (value.is_string()) {
    const std::string escaped = json::serialize(value.get_string());
    return "'" + shorten(std::string_view(escaped).substr(1, escaped.size() - 2), kMaxValueBytes) +
           "'";
  }
  return json_text(value, kMaxValueBytes);
}

std::string child_pointer(const std::string& parent, std::string_view key) {
  return parent + "/" + escape_pointer_token(key);
}

std::string display_path(const std::string& pointer) {
  return pointer.empty() ? "(root)" : one_line(pointer, 120);
}

void normalize_numbers(json::value& value) {
  if (value.is_double()) {
    const double d = value.get_double();
    // The range first: converting a double outside int64's range is undefined behaviour
    // (the fuzzer found 1e308 here).
    if (d >= -9.0e15 && d <= 9.0e15 && d == static_cast<double>(static_cast<int64_t>(d))) {
      value = static_cast<int64_t>(d);
    }
  } else if (value.is_array()) {
    for (json::value& item : value.get_array()) {
      normalize_numbers(item);
    }
  } else if (value.is_object()) {
    for (auto& member : value.get_object()) {
      normalize_numbers(member.value());
    }
  }
}

std::optional<TextProblem> parse_text(std::string_view text, bool plural_subject,
                                      std::string_view subject, json::value& out) {
  const std::string is = std::string(subject) + (plural_subject ? " are" : " is");
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return TextProblem{ValidationReason::kInvalidJson, is + " empty, expected JSON"};
  }
  json::parse_options options;
  options.max_depth = 64;
  json::stream_parser parser({}, options);
  boost::system::error_code ec;
  const size_t used = parser.write_some(text.data(), text.size(), ec);
  if (ec) {
    if (text.substr(first).starts_with("```")) {
      return TextProblem{ValidationReason::kInvalidJson,
                         is + " wrapped in a Markdown code fence; send the bare JSON"};
    }
    return TextProblem{ValidationReason::kInvalidJson,
                       fmt::format("{} not valid JSON: {} at byte {}, near '{}'", is, ec.message(),
                                   used, one_line(text.substr(used, 20), 20))};
  }
  if (!parser.done()) {
    parser.finish(ec);
    if (ec || !parser.done()) {
      return TextProblem{ValidationReason::kTruncatedJson,
                         fmt::format("{} {} before the JSON value is complete ({} bytes)", subject,
                                     plural_subject ? "end" : "ends", text.size())};
    }
  } else if (used < text.size()) {
    return TextProblem{ValidationReason::kTrailingText,
                       fmt::format("{} {} after the JSON value, at byte {}: '{}'", subject,
                                   plural_subject ? "continue" : "continues", used,
                                   one_line(text.substr(used), 40))};
  }
  out = parser.release();
  normalize_numbers(out);
  return std::nullopt;
}

}  // namespace sheepdog::llm::detail
