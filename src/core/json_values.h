// Small readings of Boost.JSON values that several parsers of client input share: a value as a
// number whatever its JSON kind, and its kind as an error message names it ("a string").
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string_view>

namespace sheepdog {

// The value as a double if it is a JSON number (int64, uint64 or double), else nullopt.
std::optional<double> json_number(const boost::json::value& v);

// "null", "a boolean", "a string", "an array", "an object", or for numbers "a number" or,
// with `split_numbers`, "an integer" / "a decimal" (as OpenAI's messages say it).
std::string_view json_kind_phrase(const boost::json::value& v, bool split_numbers = false);

}  // namespace sheepdog
