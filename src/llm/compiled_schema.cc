#include "llm/compiled_schema.h"

// valijson reports problems by throwing only with this set; without it, it prints and aborts.
// Every file that includes valijson sets it the same way (it changes inline function bodies).
#define VALIJSON_USE_EXCEPTIONS 1

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/constraint_builder.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "llm/json_text.h"
#include "llm/schema_lint.h"
#include "llm/schema_preparer.h"
#include "llm/schema_regex.h"
#include "llm/string_formats.h"

namespace sheepdog::llm {

namespace json = boost::json;

CompiledSchema::CompiledSchema() : schema(std::make_unique<valijson::Schema>()) {}
CompiledSchema::~CompiledSchema() = default;

namespace detail {
namespace {

using valijson::adapters::Adapter;
using valijson::constraints::Constraint;

class FormatCheck final : public valijson::constraints::PolyConstraint {
 public:
  explicit FormatCheck(std::string format) : format_(std::move(format)) {}

  bool validate(const Adapter& target, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    if (!target.isString() || format_matches(format_, target.getString())) {
      return true;
    }
    if (results != nullptr) {
      results->pushError(context, std::string(1, kOwnError) + "format:" + format_);
    }
    return false;
  }

 private:
  Constraint* cloneInto(void* memory) const override { return new (memory) FormatCheck(*this); }
  size_t sizeOf() const override { return sizeof(FormatCheck); }

  std::string format_;
};

class PatternCheck final : public valijson::constraints::PolyConstraint {
 public:
  // Throws std::runtime_error, which compile_schema() reports, for a pattern PCRE2 refuses
  // (prepare_schema() refuses those first, so only as a safety net).
  explicit PatternCheck(std::string pattern) : pattern_(std::move(pattern)), regex_(compile()) {}

  bool validate(const Adapter& target, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    // kUndecided passes: a pattern too costly to decide is not the model's fault.
    if (!target.isString() || regex_.search(target.getString()) != SchemaRegex::Match::kNoMatch) {
      return true;
    }
    if (results != nullptr) {
      results->pushError(context, std::string(1, kOwnError) + "pattern:" + pattern_);
    }
    return false;
  }

 private:
  SchemaRegex compile() const {
    std::string error;
    std::optional<SchemaRegex> regex = SchemaRegex::compile(pattern_, error);
    if (!regex) {
      throw std::runtime_error(
          fmt::format("invalid pattern '{}': {}", one_line(pattern_, 80), error));
    }
    return *std::move(regex);
  }

  Constraint* cloneInto(void* memory) const override { return new (memory) PatternCheck(*this); }
  size_t sizeOf() const override { return sizeof(PatternCheck); }

  std::string pattern_;
  SchemaRegex regex_;  // copies share the compiled code
};

template <typename Check>
class CheckBuilder final : public valijson::ConstraintBuilder {
 public:
  Constraint* make(const Adapter& value) const override {
    if (!value.isString()) {
      throw std::runtime_error("expected a string");
    }
    return new Check(value.getString());
  }
};

bool mentions_pattern_properties(const json::value& v) {
  if (const json::object* o = v.if_object()) {
    for (const auto& member : *o) {
      if (member.key() == "patternProperties" || mentions_pattern_properties(member.value())) {
        return true;
      }
    }
  } else if (const json::array* a = v.if_array()) {
    for (const json::value& item : *a) {
      if (mentions_pattern_properties(item)) {
        return true;
      }
    }
  }
  return false;
}

bool has_long_property_name(const json::value& v) {
  if (const json::object* o = v.if_object()) {
    for (const auto& member : *o) {
      if (member.key().size() > kMaxPatternPropertyNameBytes ||
          has_long_property_name(member.value())) {
        return true;
      }
    }
  } else if (const json::array* a = v.if_array()) {
    for (const json::value& item : *a) {
      if (has_long_property_name(item)) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

std::unique_ptr<CompiledSchema> compile_schema(const json::value& schema, std::string& problem) {
  if (!schema.is_object() && !schema.is_bool()) {
    problem = "not a JSON Schema object";
    return nullptr;
  }
  json::value prepared = schema;
  problem = prepare_schema(prepared);
  if (!problem.empty()) {
    return nullptr;
  }
  // valijson trusts every keyword: multipleOf 0 divides by zero (SIGFPE), a count of 1e30
  // converts out of range. The gateway refuses such schemas up front (llm/
  // request_tools_check.h); this keeps a library caller from reaching valijson with one.
  if (std::optional<SchemaFlaw> flaw = lint_schema(prepared)) {
    problem = flaw->pointer.empty() ? flaw->message : flaw->pointer + ": " + flaw->message;
    return nullptr;
  }
  auto compiled = std::make_unique<CompiledSchema>();
  compiled->original = schema;
  compiled->has_pattern_properties = mentions_pattern_properties(schema);
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    parser.addConstraintBuilder(std::string(kFormatKey), new CheckBuilder<FormatCheck>());
    parser.addConstraintBuilder(std::string(kPatternKey), new CheckBuilder<PatternCheck>());
    parser.populateSchema(valijson::adapters::BoostJsonAdapter(prepared), *compiled->schema);
  } catch (const std::exception& e) {
    problem = one_line(e.what(), 200);
    return nullptr;
  }
  return compiled;
}

std::vector<SchemaViolation> check_schema(const CompiledSchema& compiled,
                                          const json::value& instance, size_t max_violations) {
  std::vector<SchemaViolation> out;
  if (compiled.has_pattern_properties && has_long_property_name(instance)) {
    return out;  // see has_pattern_properties
  }
  valijson::Validator validator;  // strong types: "5" is not an integer
  valijson::ValidationResults results;
  bool valid = true;
  try {
    valid = validator.validate(*compiled.schema, valijson::adapters::BoostJsonAdapter(instance),
                               &results);
  } catch (const std::exception&) {
    return out;  // the schema's fault, not the answer's
  }
  if (valid) {
    return out;
  }
  valijson::ValidationResults::Error error;
  while (results.popError(error) && out.size() < max_violations) {
    for (SchemaViolation& found :
         translate_error(error.description, error.context, instance, compiled.original)) {
      if (out.size() < max_violations &&
          std::none_of(out.begin(), out.end(),
                       [&](const SchemaViolation& f) { return f.message == found.message; })) {
        out.push_back(std::move(found));
      }
    }
  }
  if (out.empty()) {
    out.push_back({"", "(root): does not match the schema"});
  }
  return out;
}

}  // namespace detail
}  // namespace sheepdog::llm
