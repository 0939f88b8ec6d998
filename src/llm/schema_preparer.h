// Turns a client's JSON Schema into the copy that llm/compiled_schema.h hands to valijson, or
// says why it cannot be used. valijson trusts its schema: a $ref it cannot resolve, or a cycle
// of references that never consumes the value, makes it throw from deep inside or recurse
// until the stack overflows. A schema comes from the client's request, so it is checked here
// first, with bounds on its size.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace sheepdog::llm::detail {

// Keywords renamed in our copy of a schema so that our constraints, not valijson's, check
// them: valijson's `pattern` is std::regex, which recurses per character of the value (stack
// overflow on long strings) and takes ~100 us to compile, and its `format` knows only dates
// and times.
inline constexpr std::string_view kFormatKey = "x-sheepdog-format";
inline constexpr std::string_view kPatternKey = "x-sheepdog-pattern";

// "#/definitions/a%20b" -> "/definitions/a b"; nullopt for anything but a local reference
// (another document, a plain-name fragment "#foo", a bad %-escape).
std::optional<std::string> local_ref_pointer(std::string_view ref);

// Makes `schema` our copy of a client's schema: string `format` and `pattern` renamed to the
// keys above, "id"/"$id" removed (so every reference is local to this document), an integer
// multipleOf made a double (valijson's integer check converts values to int64, undefined for
// huge ones). Returns "" on success. Otherwise the reason the schema cannot be used, and
// `schema` is unspecified:
//   a subschema that is neither an object nor a boolean; a $ref that is not a string, not
//   local, or does not resolve; more than 64 $ref; nesting deeper than 64 or more than 2000
//   subschemas; a `pattern` or patternProperties key llm/schema_regex.h refuses; a cycle of
//   $ref / allOf / anyOf / oneOf / not / if / then / else / dependencies that never descends
//   into the value (valijson recurses on those forever).
std::string prepare_schema(boost::json::value& schema);

}  // namespace sheepdog::llm::detail
