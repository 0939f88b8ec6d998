#include "mock/mock_tool_faults.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <optional>
#include <vector>

#include "core/json_fields.h"
#include "mock/mock_schema_args.h"

namespace sheepdog::mock {
namespace {

namespace json = boost::json;

constexpr std::string_view kExtraName = "unexpected_argument";
constexpr std::string_view kExtraValue = "not in the schema";

const json::object* root_properties(const json::value& schema) {
  const json::object* root = schema.if_object();
  const json::value* properties = root != nullptr ? root->if_contains("properties") : nullptr;
  return properties != nullptr ? properties->if_object() : nullptr;
}

// The one type a property's schema declares (see the header), if any.
std::optional<std::string_view> declared_type(const json::value& sub) {
  const json::object* schema = sub.if_object();
  if (schema == nullptr) {
    return std::nullopt;
  }
  if (const json::value* type = schema->if_contains("type")) {
    if (type->is_string()) {
      return std::string_view(type->get_string());
    }
    if (!type->is_array()) {
      return std::nullopt;
    }
    std::optional<std::string_view> only;
    for (const json::value& t : type->get_array()) {
      if (t.is_string() && t.get_string() != "null") {
        if (only) {
          return std::nullopt;  // two types: a value of one of them is not wrong
        }
        only = std::string_view(t.get_string());
      }
    }
    return only;
  }
  if (const json::value* values = schema->if_contains("enum");
      values != nullptr && values->is_array() && !values->get_array().empty()) {
    const std::string_view first = json_type_name(values->get_array().front());
    for (const json::value& v : values->get_array()) {
      if (json_type_name(v) != first) {
        return std::nullopt;
      }
    }
    return first;
  }
  if (const json::value* c = schema->if_contains("const")) {
    return json_type_name(*c);
  }
  return std::nullopt;
}

bool quotable(std::string_view type) {
  return type == "integer" || type == "number" || type == "boolean";
}

// The property tool_wrong_type changes, if any; a view into `schema`.
std::optional<std::string_view> wrong_type_target(const json::value& schema,
                                                  const json::value& valid) {
  const json::object* properties = root_properties(schema);
  if (properties == nullptr || !valid.is_object()) {
    return std::nullopt;
  }
  const json::object& args = valid.get_object();
  std::vector<std::string_view> candidates;  // args' own properties first, then the others
  for (const auto& entry : args) {
    const auto it = properties->find(entry.key());
    if (it != properties->end() && declared_type(it->value())) {
      candidates.push_back(it->key());
    }
  }
  for (const auto& entry : *properties) {
    if (!args.contains(entry.key()) && declared_type(entry.value())) {
      candidates.push_back(entry.key());
    }
  }
  const auto preferred = std::find_if(
      candidates.begin(), candidates.end(),
      [&](std::string_view name) { return quotable(*declared_type(properties->at(name))); });
  if (preferred != candidates.end()) {
    return *preferred;
  }
  return candidates.empty() ? std::nullopt : std::optional(candidates.front());
}

// The property tool_missing_required removes, if any; a view into `schema`.
std::optional<std::string_view> required_target(const json::value& schema,
                                                const json::value& valid) {
  const json::object* root = schema.if_object();
  const json::value* required = root != nullptr ? root->if_contains("required") : nullptr;
  if (required == nullptr || !required->is_array() || !valid.is_object()) {
    return std::nullopt;
  }
  for (const json::value& name : required->get_array()) {
    if (name.is_string() && valid.get_object().contains(name.get_string())) {
      return std::string_view(name.get_string());
    }
  }
  return std::nullopt;
}

bool closed(const json::value& schema) {
  const json::object* root = schema.if_object();
  const json::value* additional =
      root != nullptr ? root->if_contains("additionalProperties") : nullptr;
  return additional != nullptr && additional->is_bool() && !additional->get_bool();
}

json::value wrong_value(std::string_view type, const json::value* current, const json::value& sub) {
  const json::value valid = current != nullptr ? *current : arguments_from_schema(sub);
  if (type == "string") {
    return json::value(42);
  }
  return json::value(json::serialize(valid));  // 3 -> "3", true -> "true", {...} -> "{...}"
}

json::value with_wrong_type(const json::value& schema, const json::value& valid) {
  const std::string_view name = *wrong_type_target(schema, valid);
  const json::value& sub = root_properties(schema)->at(name);
  json::value out = valid;
  out.get_object()[name] =
      wrong_value(*declared_type(sub), valid.get_object().if_contains(name), sub);
  return out;
}

json::value without_required(const json::value& schema, const json::value& valid) {
  const std::string_view name = *required_target(schema, valid);
  json::object out;
  for (const auto& entry : valid.get_object()) {
    if (entry.key() != name) {
      out[entry.key()] = entry.value();  // rebuilt, as object::erase would reorder the rest
    }
  }
  return out;
}

json::value with_extra_property(const json::value& schema, const json::value& valid) {
  const json::object* properties = root_properties(schema);
  std::string name(kExtraName);
  const auto taken = [&](const std::string& candidate) {
    return (properties != nullptr && properties->contains(candidate)) ||
           valid.get_object().contains(candidate);
  };
  for (int n = 2; taken(name); ++n) {
    name = std::string(kExtraName) + "_" + std::to_string(n);
  }
  json::value out = valid;
  out.get_object()[name] = kExtraValue;
  return out;
}

bool parses(std::string_view text) {
  boost::system::error_code ec;
  json::parse(text, ec);
  return !ec;
}

}  // namespace

bool is_tool_fault(Outcome outcome) {
  switch (outcome) {
    case Outcome::kMalformedToolCall:
    case Outcome::kInvalidToolArgs:
    case Outcome::kToolTruncatedJson:
    case Outcome::kToolTrailingText:
    case Outcome::kToolWrongType:
    case Outcome::kToolMissingRequired:
    case Outcome::kToolUnknownTool:
    case Outcome::kToolExtraProperty:
      return true;
    default:
      return false;
  }
}

bool fault_applies(const ChatCall& call, Outcome outcome) {
  if (!is_tool_fault(outcome) || !call.tools.empty()) {
    return true;
  }
  return call.response_format != ResponseFormat::kText && outcome != Outcome::kToolUnknownTool;
}

Outcome resolve_fault(Outcome fault, const json::value& schema, const json::value& valid) {
  switch (fault) {
    case Outcome::kToolTruncatedJson:
      return parses(truncate_json(json::serialize(valid))) ? Outcome::kToolTrailingText : fault;
    case Outcome::kToolWrongType:
    case Outcome::kToolMissingRequired: {
      const bool wrong = wrong_type_target(schema, valid).has_value();
      const bool missing = required_target(schema, valid).has_value();
      if (fault == Outcome::kToolWrongType ? wrong : missing) {
        return fault;
      }
      if (wrong || missing) {
        return wrong ? Outcome::kToolWrongType : Outcome::kToolMissingRequired;
      }
      if (valid.is_object() && closed(schema)) {
        return Outcome::kToolExtraProperty;
      }
      return resolve_fault(Outcome::kToolTruncatedJson, schema, valid);
    }
    case Outcome::kToolExtraProperty:
      return valid.is_object() ? fault : resolve_fault(Outcome::kToolTruncatedJson, schema, valid);
    default:
      return fault;
  }
}

BrokenJson break_json(const json::value& schema, const json::value& valid, Outcome fault,
                      RandomSource& random) {
  const Outcome applied = resolve_fault(fault, schema, valid);
  switch (applied) {
    case Outcome::kMalformedToolCall:
      return {malformed_json(json::serialize(valid)), applied};
    case Outcome::kInvalidToolArgs:
      return {json::serialize(break_schema(schema, valid, random.chance(0.5))), applied};
    case Outcome::kToolTruncatedJson:
      return {truncate_json(json::serialize(valid)), applied};
    case Outcome::kToolTrailingText:
      return {json::serialize(valid) + std::string(kTrailingText), applied};
    case Outcome::kToolWrongType:
      return {json::serialize(with_wrong_type(schema, valid)), applied};
    case Outcome::kToolMissingRequired:
      return {json::serialize(without_required(schema, valid)), applied};
    case Outcome::kToolExtraProperty:
      return {json::serialize(with_extra_property(schema, valid)), applied};
    default:
      return {json::serialize(valid), applied};
  }
}

std::string unknown_tool_name(std::span<const ToolSpec> tools, std::string_view name) {
  std::string out = std::string(name) + "_v2";
  while (std::any_of(tools.begin(), tools.end(),
                     [&](const ToolSpec& tool) { return tool.name == out; })) {
    out += "_v2";
  }
  return out;
}

std::string truncate_json(std::string_view json_text) {
  return std::string(json_text.substr(0, std::max<size_t>(1, json_text.size() * 3 / 5)));
}

}  // namespace sheepdog::mock
