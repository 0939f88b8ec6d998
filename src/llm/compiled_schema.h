// A client's JSON Schema (draft 7) compiled by valijson, and checking a value against it, for
// llm/tool_validation.h. Compiling goes through llm/schema_preparer.h first, since valijson
// trusts its input; `format` and `pattern` are checked by our own constraints (valijson's
// `pattern` is std::regex, slow to compile and recursing per character of the value, ours is
// llm/schema_regex.h; its `format` knows only dates); errors come back as the messages of
// llm/schema_messages.h. Only compiled_schema.cc includes valijson's schema headers (they are
// heavy, and VALIJSON_USE_EXCEPTIONS must be set the same way everywhere).
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "llm/schema_messages.h"

namespace valijson {
class Schema;
}  // namespace valijson

namespace sheepdog::llm {

// Declared in llm/tool_validation.h. Made by detail::compile_schema(), immutable after, so
// detail::check_schema() may run on one concurrently.
struct CompiledSchema {
  CompiledSchema();
  ~CompiledSchema();
  CompiledSchema(const CompiledSchema&) = delete;
  CompiledSchema& operator=(const CompiledSchema&) = delete;

  boost::json::value original;               // for messages (enum lists, expected types)
  std::unique_ptr<valijson::Schema> schema;  // non-null
  // The schema has patternProperties somewhere. valijson matches those with std::regex, which
  // recurses per character of the property name: values with a name longer than
  // kMaxPatternPropertyNameBytes are not checked against such a schema (they pass), so a model
  // cannot overflow a gateway thread's stack with a long key.
  bool has_pattern_properties = false;
};

inline constexpr size_t kMaxPatternPropertyNameBytes = 1024;

namespace detail {

// The compiled `schema`, and `problem` set to "". Null, with `problem` saying why, when the
// schema cannot be used: it is neither an object nor a boolean, prepare_schema() refuses it, or
// valijson does (an unknown type name, a keyword of the wrong type, ...).
std::unique_ptr<CompiledSchema> compile_schema(const boost::json::value& schema,
                                               std::string& problem);

// Violations of `compiled` by `instance`, in valijson's order, duplicates dropped, at most
// `max_violations`. Empty iff valid, or if valijson throws while validating (the schema's fault,
// not the answer's); "(root): does not match the schema" when valijson fails the value without
// an error we can translate.
std::vector<SchemaViolation> check_schema(const CompiledSchema& compiled,
                                          const boost::json::value& instance,
                                          size_t max_violations);

}  // namespace detail
}  // namespace sheepdog::llm
