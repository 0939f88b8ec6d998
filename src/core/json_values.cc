#include "core/json_values.h"

namespace sheepdog {

namespace json = boost::json;

std::optional<double> json_number(const json::value& v) {
  switch (v.kind()) {
    case json::kind::int64:
      return static_cast<double>(v.get_int64());
    case json::kind::uint64:
      return static_cast<double>(v.get_uint64());
    case json::kind::double_:
      return v.get_double();
    default:
      return std::nullopt;
  }
}

std::string_view json_kind_phrase(const json::value& v, bool split_numbers) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
      return split_numbers ? "an integer" : "a number";
    case json::kind::double_:
      return split_numbers ? "a decimal" : "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

}  // namespace sheepdog
