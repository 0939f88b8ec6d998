#include "llm/schema_messages.h"

// valijson's utf8 helpers throw through valijson/exceptions.hpp, configured by this macro as in
// llm/compiled_schema.cc: it changes inline function bodies, so every includer must agree.
#define VALIJSON_USE_EXCEPTIONS 1

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdlib>
#include <optional>
#include <utility>
#include <valijson/utils/utf8_utils.hpp>

#include "core/json_fields.h"
#include "llm/json_text.h"
#include "llm/schema_preparer.h"
#include "llm/schema_regex.h"
#include "llm/string_formats.h"

namespace sheepdog::llm::detail {

namespace json = boost::json;

namespace {

// `node` with its local $refs followed (at most 16 hops), or null where one does not resolve.
const json::value* resolve(const json::value* node, const json::value& root) {
  for (int hops = 0; node != nullptr && node->is_object() && hops < 16; ++hops) {
    const std::string_view ref = string_field(node->get_object(), "$ref");
    if (ref.empty()) {
      break;
    }
    const std::optional<std::string> pointer = local_ref_pointer(ref);
    boost::system::error_code ec;
    node = pointer ? root.find_pointer(*pointer, ec) : nullptr;
  }
  return node;
}

struct Step {
  std::string key;
  bool is_index = false;
  size_t index = 0;
};

// The schema node that governs the value at `steps` (object keys / array indexes), following
// local $refs, or null where that is not plain (combinators, patternProperties).
const json::value* schema_at(const json::value& root, const std::vector<Step>& steps) {
  const json::value* node = resolve(&root, root);
  for (const Step& step : steps) {
    if (node == nullptr || !node->is_object()) {
      return nullptr;
    }
    const json::object& object = node->get_object();
    const json::value* next = nullptr;
    if (!step.is_index) {
      const json::object* properties = object_field(object, "properties");
      next = properties != nullptr ? properties->if_contains(step.key) : nullptr;
      if (next == nullptr) {
        next = object_field(object, "additionalProperties") != nullptr
                   ? object.if_contains("additionalProperties")
                   : nullptr;
      }
    } else if (const json::value* items = field(object, "items")) {
      if (items->is_object()) {
        next = items;
      } else if (items->is_array() && step.index < items->get_array().size()) {
        next = &items->get_array()[step.index];
      } else if (items->is_array()) {
        next = field(object, "additionalItems");
      }
    }
    node = resolve(next, root);
  }
  return node;
}

// "string", "string or null", "integer, string or null"; empty when the node does not say.
std::string expected_types(const json::value* node, const json::value& root) {
  std::vector<std::string> types;
  auto add = [&types](const json::value* type) {
    if (type == nullptr) {
      return;
    }
    if (type->is_string()) {
      types.emplace_back(type->get_string());
    } else if (type->is_array()) {
      for (const json::value& t : type->get_array()) {
        if (t.is_string()) {
          types.emplace_back(t.get_string());
        }
      }
    }
  };
  if (node == nullptr || !node->is_object()) {
    return "";
  }
  add(field(node->get_object(), "type"));
  for (std::string_view key : {"anyOf", "oneOf"}) {
    if (!types.empty()) {
      break;
    }
    if (const json::value* list = field(node->get_object(), key); list && list->is_array()) {
      for (const json::value& alternative : list->get_array()) {
        const json::value* resolved = resolve(&alternative, root);
        if (resolved != nullptr && resolved->is_object()) {
          add(field(resolved->get_object(), "type"));
        }
      }
    }
  }
  std::vector<std::string> unique;
  for (std::string& type : types) {
    if (std::find(unique.begin(), unique.end(), type) == unique.end()) {
      unique.push_back(std::move(type));
    }
  }
  std::string out;
  for (size_t i = 0; i < unique.size(); ++i) {
    if (i > 0) {
      out += i + 1 == unique.size() ? " or " : ", ";
    }
    out += unique[i];
  }
  return out;
}

std::string keyword_value(const json::value* node, std::string_view key, std::string fallback) {
  if (node != nullptr && node->is_object()) {
    if (const json::value* value = field(node->get_object(), key)) {
      return json_text(*value, kMaxListBytes);
    }
  }
  return fallback;
}

// "Expected number less than 3.000000" -> "3.000000"
std::string tail_after(std::string_view text, std::string_view prefix) {
  std::string out(text.substr(prefix.size()));
  while (!out.empty() && out.back() == '.') {
    out.pop_back();
  }
  return out;
}

// A valijson description, lower-cased first letter and no final period.
std::string plain(std::string_view description) {
  std::string out(description);
  if (!out.empty() && out[0] >= 'A' && out[0] <= 'Z') {
    out[0] = static_cast<char>(out[0] - 'A' + 'a');
  }
  while (!out.empty() && out.back() == '.') {
    out.pop_back();
  }
  return out;
}

// The property name in "<prefix>'<name>'." (valijson quotes without escaping).
std::string quoted_name(std::string_view description, std::string_view prefix) {
  std::string_view name = description.substr(prefix.size());
  if (name.starts_with('\'')) {
    name.remove_prefix(1);
  }
  if (name.ends_with("'.")) {
    name.remove_suffix(2);
  }
  return std::string(name);
}

// The properties of `object` that `node` (additionalProperties false) does not name, in the
// object's order; just `first` (what valijson named) when `node` is not that schema.
std::vector<std::string> extra_properties(const json::value& object, const json::value* node,
                                          std::string first) {
  const json::value* additional = node != nullptr && node->is_object()
                                      ? field(node->get_object(), "additionalProperties")
                                      : nullptr;
  if (!object.is_object() || additional == nullptr || !additional->is_bool() ||
      additional->get_bool()) {
    return {std::move(first)};  // the failing subschema is not this node (allOf, $ref, ...)
  }
  const json::object* properties = object_field(node->get_object(), "properties");
  // nullopt for a pattern that does not compile (prepare_schema() refuses those).
  std::vector<std::optional<SchemaRegex>> patterns;
  if (const json::object* map = object_field(node->get_object(), "patternProperties")) {
    std::string error;
    for (const auto& pattern : *map) {
      patterns.push_back(SchemaRegex::compile(pattern.key(), error));
    }
  }
  std::vector<std::string> out;
  for (const auto& member : object.get_object()) {
    if (properties != nullptr && properties->contains(member.key())) {
      continue;
    }
    // A pattern that cannot tell (kUndecided, or not compiled) counts as matching: do not
    // accuse the model.
    const bool matched = std::any_of(
        patterns.begin(), patterns.end(), [&](const std::optional<SchemaRegex>& pattern) {
          return !pattern || pattern->search(member.key()) != SchemaRegex::Match::kNoMatch;
        });
    if (!matched) {
      out.emplace_back(member.key());
    }
  }
  return out.empty() ? std::vector<std::string>{std::move(first)} : out;
}

// Wrappers that only say "something below failed"; the error below says what.
bool is_wrapper(std::string_view description) {
  static constexpr std::array<std::string_view, 8> kWrappers = {
      "Failed to validate against schema associated with property name",
      "Failed to validate item #",
      "Failed to validate against child schema #",
      "Failed to validate against additional properties schema",
      "Failed to validate against schema associated with pattern",
      "Failed to validate against a conditional schema",
      "Failed to validate against dependent schema",
      "Failed to validate against additional items schema",
  };
  return std::any_of(kWrappers.begin(), kWrappers.end(),
                     [&](std::string_view w) { return description.starts_with(w); });
}

}  // namespace

// the first extra property, the model should hear of all).
std::vector<SchemaViolation> translate_error(std::string_view description,
                                             const std::vector<std::string>& context,
                                             const json::value& instance,
                                             const json::value& schema) {
  if (is_wrapper(description)) {
    return {};
  }
  // valijson's context: "<root>", then "[key]" / "[index]" per step.
  std::string path;
  std::vector<Step> steps;
  const json::value* value = &instance;
  for (size_t i = 1; i < context.size(); ++i) {
    const std::string& token = context[i];
    const std::string key =
        token.size() >= 2 && token.front() == '[' ? token.substr(1, token.size() - 2) : token;
    Step step;
    step.key = key;
    if (value != nullptr && value->is_array()) {
      step.is_index = true;
      step.index = static_cast<size_t>(std::strtoull(key.c_str(), nullptr, 10));
      value = step.index < value->get_array().size() ? &value->get_array()[step.index] : nullptr;
    } else if (value != nullptr && value->is_object()) {
      value = value->get_object().if_contains(key);
    } else {
      value = nullptr;
    }
    path = child_pointer(path, key);
    steps.push_back(std::move(step));
  }
  const json::value* node = schema_at(schema, steps);
  const json::value null_value;
  const json::value& v = value != nullptr ? *value : null_value;
  auto found = [&path](std::string message) {
    return std::vector<SchemaViolation>{
        SchemaViolation{path, display_path(path) + ": " + std::move(message)}};
  };

  if (!description.empty() && description[0] == kOwnError) {
    const std::string_view what = description.substr(1);
    if (what.starts_with("format:")) {
      const std::string_view format = what.substr(7);
      return found(fmt::format("{} is not a valid {}{}", quote(v), one_line(format, 40),
                               format_hint(format)));
    }
    return found(
        fmt::format("{} does not match the pattern '{}'", quote(v), one_line(what.substr(8), 100)));
  }
  static constexpr std::string_view kMissing = "Missing required property ";
  if (description.starts_with(kMissing)) {
    path = child_pointer(path, quoted_name(description, kMissing));
    return found("missing required property");
  }
  static constexpr std::string_view kExtra =
      "Object contains a property that could not be validated using 'properties' or "
      "'additionalProperties' constraints: ";
  if (description.starts_with(kExtra)) {
    std::vector<SchemaViolation> out;
    for (const std::string& name : extra_properties(v, node, quoted_name(description, kExtra))) {
      const std::string pointer = child_pointer(path, name);
      out.push_back({pointer, display_path(pointer) +
                                  ": property not allowed (additionalProperties is false)"});
    }
    return out;
  }
  if (description.starts_with("Value type not permitted")) {
    const std::string expected = expected_types(node, schema);
    return found(
        expected.empty()
            ? fmt::format("{} {} is not an allowed type", json_type_name(v), quote(v))
            : fmt::format("expected {}, got {} {}", expected, json_type_name(v), quote(v)));
  }
  if (description.starts_with("Failed to match against any enum values")) {
    return found(fmt::format("{} is not one of {}", quote(v),
                             keyword_value(node, "enum", "the allowed values")));
  }
  if (description.starts_with("Failed to match expected value set by 'const'")) {
    return found(
        fmt::format("{} is not the required value {}", quote(v), keyword_value(node, "const", "")));
  }
  static constexpr std::array<std::array<std::string_view, 3>, 4> kBounds = {{
      {"Expected number less than or equal to ", "maximum", "is greater than the maximum"},
      {"Expected number less than ", "exclusiveMaximum", "must be less than"},
      {"Expected number greater than or equal to ", "minimum", "is less than the minimum"},
      {"Expected number greater than ", "exclusiveMinimum", "must be greater than"},
  }};
  for (const auto& [prefix, keyword, text] : kBounds) {
    if (description.starts_with(prefix)) {
      return found(fmt::format("{} {} {}", quote(v), text,
                               keyword_value(node, keyword, tail_after(description, prefix))));
    }
  }
  if (description.starts_with("Value should be a multiple of ")) {
    return found(
        fmt::format("{} is not a multiple of {}", quote(v),
                    keyword_value(node, "multipleOf",
                                  tail_after(description, "Value should be a multiple of "))));
  }
  if (description.starts_with("Failed to validate against any schemas allowed by anyOf") ||
      description.starts_with("Failed to validate against any child schemas allowed by oneOf")) {
    return found(fmt::format("{} matches none of the {} alternatives", quote(v),
                             description.find("anyOf") != description.npos ? "anyOf" : "oneOf"));
  }
  if (description.starts_with("Failed to validate against exactly one child schema")) {
    return found(fmt::format("{} matches more than one of the oneOf alternatives", quote(v)));
  }
  if (description.starts_with("Target should not validate against schema specified in 'not'")) {
    return found(fmt::format("{} matches the schema under 'not'", quote(v)));
  }
  if (v.is_string() && description.starts_with("String should be")) {
    return found(fmt::format("{} {} (it has {})", quote(v),
                             plain(description.substr(std::string_view("String ").size())),
                             valijson::utils::u8_strlen(std::string(v.get_string()).c_str())));
  }
  if (v.is_array() && description.starts_with("Array should")) {
    return found(fmt::format("{} (it has {})", plain(description), v.get_array().size()));
  }
  if (v.is_object() && description.starts_with("Object should")) {
    return found(fmt::format("{} (it has {})", plain(description), v.get_object().size()));
  }
  return found(plain(description));
}

}  // namespace sheepdog::llm::detail
