#include "mock/mock_schema_args.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cmath>
#include <string_view>

namespace sheepdog::mock {
namespace {

namespace json = boost::json;

// Deep schemas (or recursive ones through allOf) stop here with a null.
constexpr int kMaxDepth = 12;

const json::object* as_object(const json::value& v) {
  return v.is_object() ? &v.get_object() : nullptr;
}

const json::value* field(const json::object& schema, std::string_view key) {
  return schema.if_contains(key);
}

double number_field(const json::object& schema, std::string_view key, double fallback) {
  const json::value* v = field(schema, key);
  if (v == nullptr) {
    return fallback;
  }
  if (v->is_double()) {
    return v->get_double();
  }
  if (v->is_int64()) {
    return static_cast<double>(v->get_int64());
  }
  if (v->is_uint64()) {
    return static_cast<double>(v->get_uint64());
  }
  return fallback;
}

// The schema's type: the first non-null name of `type`, or inferred from other keywords.
std::string schema_type(const json::object& schema) {
  if (const json::value* type = field(schema, "type")) {
    if (type->is_string()) {
      return std::string(type->get_string());
    }
    if (type->is_array()) {
      for (const json::value& t : type->get_array()) {
        if (t.is_string() && t.get_string() != "null") {
          return std::string(t.get_string());
        }
      }
      return "null";
    }
  }
  if (field(schema, "properties") != nullptr) {
    return "object";
  }
  if (field(schema, "items") != nullptr) {
    return "array";
  }
  return "string";
}

json::value make_string(const json::object& schema, std::string_view name) {
  std::string value;
  const json::value* format = field(schema, "format");
  const std::string_view f = format != nullptr && format->is_string()
                                 ? std::string_view(format->get_string())
                                 : std::string_view();
  if (f == "date") {
    value = "2024-01-15";
  } else if (f == "date-time") {
    value = "2024-01-15T09:30:00Z";
  } else if (f == "email") {
    value = "user@example.com";
  } else if (f == "uri" || f == "url") {
    value = "https://example.com/item";
  } else if (f == "uuid") {
    value = "123e4567-e89b-12d3-a456-426614174000";
  } else {
    value = name.empty() ? "example" : "example " + std::string(name);
  }
  const auto min_length = static_cast<size_t>(number_field(schema, "minLength", 0));
  const double max_length = number_field(schema, "maxLength", -1);
  if (value.size() < min_length) {
    value.append(min_length - value.size(), 'x');
  }
  if (max_length >= 0 && value.size() > static_cast<size_t>(max_length)) {
    value.resize(static_cast<size_t>(max_length));
  }
  return json::value(value);
}

json::value make_number(const json::object& schema, bool integer) {
  double low = number_field(schema, "minimum", NAN);
  const double exclusive_low = number_field(schema, "exclusiveMinimum", NAN);
  double high = number_field(schema, "maximum", NAN);
  const double exclusive_high = number_field(schema, "exclusiveMaximum", NAN);
  const double step = integer ? 1.0 : 0.5;
  if (!std::isnan(exclusive_low)) {
    low = exclusive_low + step;
  }
  if (!std::isnan(exclusive_high)) {
    high = exclusive_high - step;
  }
  double value = integer ? 1.0 : 1.5;
  if (!std::isnan(low) && value < low) {
    value = low;
  }
  if (!std::isnan(high) && value > high) {
    value = high;
  }
  if (integer) {
    return json::value(static_cast<int64_t>(std::ceil(value)));
  }
  return json::value(value);
}

json::value generate(const json::value& schema_value, std::string_view name, int depth);

json::value make_object(const json::object& schema, int depth) {
  json::object out;
  const json::value* properties = field(schema, "properties");
  if (properties == nullptr || !properties->is_object()) {
    return out;
  }
  const json::object& props = properties->get_object();
  const json::value* required = field(schema, "required");
  if (required != nullptr && required->is_array()) {
    for (const json::value& key : required->get_array()) {
      if (!key.is_string()) {
        continue;
      }
      const json::value* sub = props.if_contains(key.get_string());
      out[key.get_string()] =
          sub != nullptr ? generate(*sub, key.get_string(), depth + 1) : json::value("example");
    }
    return out;
  }
  for (const auto& [key, sub] : props) {
    out[key] = generate(sub, key, depth + 1);
  }
  return out;
}

json::value make_array(const json::object& schema, std::string_view name, int depth) {
  json::array out;
  const size_t count =
      std::max<size_t>(1, static_cast<size_t>(number_field(schema, "minItems", 1)));
  const json::value* items = field(schema, "items");
  for (size_t i = 0; i < count; ++i) {
    out.push_back(items != nullptr ? generate(*items, name, depth + 1) : json::value("example"));
  }
  return out;
}

json::value generate(const json::value& schema_value, std::string_view name, int depth) {
  const json::object* schema = as_object(schema_value);
  if (schema == nullptr || depth > kMaxDepth) {
    return depth > kMaxDepth ? json::value(nullptr) : json::value("example");
  }
  if (const json::value* c = field(*schema, "const")) {
    return *c;
  }
  if (const json::value* e = field(*schema, "enum");
      e != nullptr && e->is_array() && !e->get_array().empty()) {
    return e->get_array().front();
  }
  for (std::string_view keyword : {"anyOf", "oneOf", "allOf"}) {
    const json::value* alternatives = field(*schema, keyword);
    if (alternatives != nullptr && alternatives->is_array() && !alternatives->get_array().empty()) {
      return generate(alternatives->get_array().front(), name, depth + 1);
    }
  }
  const std::string type = schema_type(*schema);
  if (type == "object") {
    return make_object(*schema, depth);
  }
  if (type == "array") {
    return make_array(*schema, name, depth);
  }
  if (type == "integer" || type == "number") {
    return make_number(*schema, type == "integer");
  }
  if (type == "boolean") {
    return json::value(true);
  }
  if (type == "null") {
    return json::value(nullptr);
  }
  return make_string(*schema, name);
}

// A value that is not of the type `schema` asks for.
json::value wrong_type_for(const json::value& schema_value) {
  const json::object* schema = as_object(schema_value);
  const std::string type = schema != nullptr ? schema_type(*schema) : "string";
  if (type == "string") {
    return json::value(42);
  }
  if (type == "integer" || type == "number") {
    return json::value("not a number");
  }
  return json::value("not an " + type);  // object, array, boolean, null
}

}  // namespace

json::value arguments_from_schema(const json::value& schema) {
  if (schema.is_null()) {
    return json::object();  // a tool without parameters takes an empty object
  }
  return generate(schema, "", 0);
}

json::value break_schema(const json::value& schema, json::value valid, bool drop_required) {
  const json::object* root = as_object(schema);
  if (root == nullptr || !valid.is_object()) {
    return json::value("not an object");
  }
  json::object& args = valid.get_object();
  const json::value* required = field(*root, "required");
  if (drop_required && required != nullptr && required->is_array()) {
    for (const json::value& key : required->get_array()) {
      if (key.is_string() && args.erase(key.get_string()) > 0) {
        return valid;
      }
    }
  }
  const json::value* properties = field(*root, "properties");
  if (properties != nullptr && properties->is_object() && !properties->get_object().empty()) {
    const auto& [name, sub] = *properties->get_object().begin();
    args[name] = wrong_type_for(sub);
    return valid;
  }
  return json::value("not an object");
}

std::string malformed_json(const std::string& json_text) {
  return json_text.substr(0, std::max<size_t>(1, json_text.size() / 2));
}

}  // namespace sheepdog::mock
