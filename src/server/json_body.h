// Parsing a client's JSON request body with an error that names the cause and where it is:
// "invalid UTF-8 (byte 0xff) at byte 123", "lone surrogate \ud800 at byte 45", "the body ends
// before the JSON value is complete (byte 17)", instead of Boost.JSON's bare "syntax error".
// Strict as OpenAI is: UTF-8 only, no comments, no trailing commas, one value, nesting at most
// kMaxBodyDepth (deep enough for tool schemas nested a dozen levels inside a request).
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <string_view>

namespace sheepdog::server {

inline constexpr size_t kMaxBodyDepth = 128;

// Parses `body` into `out`; "" on success, else the problem (one line, no trailing period).
std::string parse_json_body(std::string_view body, boost::json::value& out);

}  // namespace sheepdog::server
