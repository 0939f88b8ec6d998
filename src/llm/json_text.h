// JSON as text in validation messages (llm/tool_validation.h): parsing a model's arguments or
// content with a precise reason when they are not one JSON value (invalid, truncated, trailing
// text), and printing values, names and JSON Pointers short and on one line, since the messages
// go into logs and into the repair prompt the model reads.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "llm/tool_validation.h"

namespace sheepdog::llm::detail {

// The most bytes of a list (enum values, tool names) quoted in one message.
inline constexpr size_t kMaxListBytes = 200;

// At most `max_bytes` of `text`, cut at a UTF-8 character boundary, "..." marking a cut.
std::string shorten(std::string_view text, size_t max_bytes);

// Printable on one line: control characters (a model's tool name may hold anything) become '?'.
std::string one_line(std::string_view text, size_t max_bytes);

// JSON text of `value`, at most about `max_bytes` ("..." marking a cut).
std::string json_text(const boost::json::value& value, size_t max_bytes);

// A value from the answer as it appears in messages: strings in single quotes (JSON-escaped
// inside, so never a line break), anything else as JSON, about 60 bytes at most.
std::string quote(const boost::json::value& value);

// `parent` + "/" + `key` escaped as a JSON Pointer token (RFC 6901).
std::string child_pointer(const std::string& parent, std::string_view key);

// A JSON Pointer as messages show it: "(root)" for "", else on one line, shortened.
std::string display_path(const std::string& pointer);

// JSON Schema says a number with a zero fractional part is an integer; valijson's strict type
// check does not, so 5.0 becomes 5 before validation (models do write 5.0).
void normalize_numbers(boost::json::value& value);

struct TextProblem {
  ValidationReason reason;  // kInvalidJson, kTruncatedJson or kTrailingText
  std::string message;
};

// Parses `text` as exactly one JSON value (nesting at most 64 deep) into `out`, numbers
// normalized; nullopt on success. Otherwise `out` is untouched and the problem says what is
// wrong with the text, naming `subject`: "arguments" (plural_subject, "arguments are ...") or
// "content" ("content is ...").
std::optional<TextProblem> parse_text(std::string_view text, bool plural_subject,
                                      std::string_view subject, boost::json::value& out);

}  // namespace sheepdog::llm::detail
