// Typed reads of one field of a JSON object, for the translation code that walks provider
// bodies: a missing field and a field of another type read alike (empty, null, or the
// fallback), since the translators treat both as "not given".
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <limits>
#include <string_view>

namespace sheepdog::providers {

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

}  // namespace sheepdog::providers
