// Lenient, typed reads of one field of a JSON object, for code that walks bodies other programs
// wrote (provider translation, answer validation): a field that is absent, JSON null or of
// another type reads as "not given" (empty, null, or the fallback). All three are common in
// what upstreams and clients send, and none is an error there.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <limits>
#include <string_view>

namespace sheepdog {

// The value at `key`, or null if absent or JSON null.
inline const boost::json::value* field(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v != nullptr && !v->is_null() ? v : nullptr;
}

// The string at `key`, or "" if absent or not a string.
inline std::string_view string_field(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

// The object at `key`, or null if absent or not an object.
inline const boost::json::object* object_field(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

// The integer at `key` (signed or unsigned JSON, if it fits in int64), else `fallback`.
inline int64_t integer_field(const boost::json::object& o, std::string_view key, int64_t fallback) {
  const boost::json::value* v = o.if_contains(key);
  if (v != nullptr && v->is_int64()) {
    return v->get_int64();
  }
  if (v != nullptr && v->is_uint64() &&
      v->get_uint64() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return static_cast<int64_t>(v->get_uint64());
  }
  return fallback;
}

// The JSON type of `v` as JSON Schema names it: "object", "array", "string", "integer" (a
// number without a fraction, as parsed), "number", "boolean", "null".
inline std::string_view json_type_name(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::object:
      return "object";
    case boost::json::kind::array:
      return "array";
    case boost::json::kind::string:
      return "string";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
      return "integer";
    case boost::json::kind::double_:
      return "number";
    case boost::json::kind::bool_:
      return "boolean";
    case boost::json::kind::null:
      break;
  }
  return "null";
}

}  // namespace sheepdog
