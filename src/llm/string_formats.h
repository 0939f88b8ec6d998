// The JSON Schema `format` values the answer validator (llm/tool_validation.h) checks, for
// strings only: date, time, date-time (RFC 3339), email, hostname, ipv4, ipv6, uri,
// uri-reference (RFC 3986), uuid. Any other format is an annotation and always matches, as the
// spec allows: a client's unknown format must not make a model's answer invalid.
#pragma once

#include <string_view>

namespace sheepdog::llm::detail {

// Whether `s` is a valid `format`; true for formats that are not checked.
//   date       RFC 3339 full-date, YYYY-MM-DD with a day that exists in that month (leap years)
//   time       RFC 3339 full-time, HH:MM:SS[.frac] then Z or +HH:MM / -HH:MM (a leap second :60)
//   date-time  date "T" time (also lower-case "t")
//   email      local@domain in the common dot-atom form (no quoted local part); the domain is
//              a hostname or an [ipv4] literal
//   hostname   RFC 1123: dot-separated labels of 1-63 letters, digits and inner hyphens, at most
//              253 bytes
//   ipv4, ipv6, uri, uri-reference  as Boost.URL parses them
//   uuid       8-4-4-4-12 hex digits, either case
bool format_matches(std::string_view format, std::string_view s);

// What the model reads after "is not a valid <format>": " (YYYY-MM-DD, e.g. 2024-01-15)" and
// the like for date, time, date-time, uri and uuid, with the leading space; "" for the rest.
std::string_view format_hint(std::string_view format);

}  // namespace sheepdog::llm::detail
