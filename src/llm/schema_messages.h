// valijson's validation errors as the one-line messages of llm/tool_validation.h
// ("/unit: 'kelvin' is not one of [...]"). valijson describes an error in its own English,
// with a context path and without the offending value; the model that must correct its answer
// needs the JSON Pointer, the value it sent and what the schema wanted instead, so each known
// description is rewritten with the instance and the schema at hand.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sheepdog::llm::detail {

// Our own constraints (llm/compiled_schema.cc) report "<kOwnError>format:<format>" and
// "<kOwnError>pattern:<pattern>"; no valijson description starts with this byte.
inline constexpr char kOwnError = '\x01';

struct SchemaViolation {
  std::string path;     // JSON Pointer into the instance, "" for the whole value
  std::string message;  // starts with the path as display_path() shows it, then ": "
};

// The messages for one valijson error: `description` and `context` ("<root>", then "[key]" /
// "[index]" per step) as valijson reports them, `instance` the value validated and `schema` the
// client's original schema (not the prepared copy). Usually one; none for the wrappers that
// only say something below failed (the error below says what); more for additionalProperties
// (valijson names only the first extra property, the model should hear of all). For a missing
// required property the path is that property's.
std::vector<SchemaViolation> translate_error(std::string_view description,
                                             const std::vector<std::string>& context,
                                             const boost::json::value& instance,
                                             const boost::json::value& schema);

}  // namespace sheepdog::llm::detail
