// Checks a client's JSON Schema (draft 7) for keywords that no value can satisfy or that a
// validator cannot run, before the request goes anywhere. valijson trusts its schema: `multipleOf:
// 0` divides by zero (SIGFPE) on the first integer it checks, a negative `minLength` or a
// `maxItems` of 1e30 converts a double to an integer out of range, and a keyword of the wrong
// type throws from inside its parser. OpenAI refuses such schemas with a 400 too, so refusing
// them up front answers what the upstream would, without the call.
//
// Checked, for every subschema reachable through the applicator keywords (properties,
// patternProperties, additionalProperties, items, additionalItems, contains, propertyNames,
// dependencies, definitions, $defs, allOf, anyOf, oneOf, not, if, then, else):
//   a subschema is an object or a boolean;
//   type is a known type name or a non-empty array of them without repeats;
//   enum is a non-empty array; required an array of distinct strings; uniqueItems a boolean;
//   multipleOf a number > 0; minimum, maximum, exclusiveMinimum, exclusiveMaximum numbers (the
//   exclusive ones may be draft-4 booleans); minLength, maxLength, minItems, maxItems,
//   minProperties, maxProperties integers in [0, 2^53];
//   the bounds can be met: minimum <= maximum (strictly when either is exclusive), minLength <=
//   maxLength, minItems <= maxItems, minProperties <= maxProperties;
//   pattern, format and $ref are strings, allOf / anyOf / oneOf non-empty arrays;
//   every pattern and patternProperties key compiles (llm/schema_regex.h);
//   at most 64 levels deep and 2000 subschemas.
// $ref targets and reference cycles are llm/schema_preparer.h's to check.
// Unknown keywords are annotations and pass. Pure; no allocation beyond the result's strings.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>

namespace sheepdog::llm {

struct SchemaFlaw {
  std::string pointer;  // JSON Pointer to the keyword ("/properties/a/multipleOf"), "" = root
  std::string keyword;  // "multipleOf"; "" when the subschema itself is wrong
  std::string message;  // one line, e.g. "multipleOf must be a number greater than 0, got 0"
};

// The first flaw in `schema`, in document order, or nullopt when it is usable. When
// `needs_preparer` is given it is set to whether the schema uses $ref, the part only
// llm/schema_preparer.h checks (so callers run that costlier pass only then).
std::optional<SchemaFlaw> lint_schema(const boost::json::value& schema,
                                      bool* needs_preparer = nullptr);

}  // namespace sheepdog::llm
