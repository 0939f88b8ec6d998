// Tool-call arguments made from a tool's JSON Schema `parameters`, and deliberately broken
// variants for fault injection. Provider-independent (OpenAI's `parameters` and Anthropic's
// `input_schema` are both JSON Schema).
//
// Supported: type (a name or a list, the first non-null wins), properties, required, items,
// minItems, enum, const, minimum/maximum (and exclusive forms), minLength/maxLength, format
// (date, date-time, email, uri, uuid), anyOf/oneOf/allOf (the first alternative). Objects get
// their required properties, or every property when `required` is absent. $ref and other
// keywords are not followed: such a value becomes a string.
#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace sheepdog::mock {

// A value that satisfies `schema` for the supported keywords. Deterministic.
boost::json::value arguments_from_schema(const boost::json::value& schema);

// `valid` (made by arguments_from_schema for `schema`) broken against it: with
// `drop_required`, the first required property is removed if there is one; otherwise, or
// without it, the first property gets a value of the wrong type; a schema without properties
// gets a string instead of an object.
boost::json::value break_schema(const boost::json::value& schema, boost::json::value valid,
                                bool drop_required);

// JSON text cut short (half its length, at least one character), so it never parses: what a
// model emits when its output is truncated mid-arguments.
std::string malformed_json(const std::string& json_text);

}  // namespace sheepdog::mock
