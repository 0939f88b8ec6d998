#include "llm/request_tools_check.h"

#include <fmt/format.h>

#include <set>
#include <string_view>
#include <vector>

#include "core/json_fields.h"
#include "llm/json_text.h"
#include "llm/schema_lint.h"
#include "llm/schema_preparer.h"

namespace sheepdog::llm {
namespace {

namespace json = boost::json;
using Where = ToolsCheckError::Where;

// OpenAI's rule for function and json_schema names.
bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string shown(const json::value& v) { return detail::json_text(v, 60); }

ToolsCheckError error(Where where, std::string message, int tool = -1, std::string name = {}) {
  ToolsCheckError e;
  e.where = where;
  e.tool = tool;
  e.tool_name = std::move(name);
  e.message = std::move(message);
  return e;
}

// A schema the validator will compile: linted, then (only when it uses $ref or patterns)
// through the preparer, on a copy.
std::optional<ToolsCheckError> check_schema(const json::value& schema, Where where, int tool,
                                            const std::string& name) {
  bool needs_preparer = false;
  if (std::optional<SchemaFlaw> flaw = lint_schema(schema, &needs_preparer)) {
    ToolsCheckError e = error(where, std::move(flaw->message), tool, name);
    e.pointer = std::move(flaw->pointer);
    e.keyword = std::move(flaw->keyword);
    return e;
  }
  if (needs_preparer) {
    json::value copy = schema;
    if (std::string problem = detail::prepare_schema(copy); !problem.empty()) {
      return error(where, std::move(problem), tool, name);
    }
  }
  return std::nullopt;
}

// The name a tool_choice / allowed_tools entry designates, or "" with `problem` set.
std::string_view chosen_name(const json::object& entry, std::string& problem) {
  const std::string_view type = string_field(entry, "type");
  const std::string_view key = type == "custom" ? "custom" : "function";
  if (!type.empty() && type != "function" && type != "custom") {
    problem = fmt::format("type must be 'function', 'custom' or 'allowed_tools', got {}",
                          shown(*field(entry, "type")));
    return {};
  }
  const json::object* inner = object_field(entry, key);
  const std::string_view name = inner != nullptr ? string_field(*inner, "name") : "";
  if (name.empty()) {
    problem = fmt::format("expected {{\"type\": \"{}\", \"{}\": {{\"name\": ...}}}}", key, key);
  }
  return name;
}

class Checker {
 public:
  explicit Checker(const json::object& request) : request_(request) {}

  std::optional<ToolsCheckError> run() {
    if (auto e = tools()) {
      return e;
    }
    if (auto e = tool_choice()) {
      return e;
    }
    if (const json::value* v = field(request_, "parallel_tool_calls");
        v != nullptr && !v->is_null() && !v->is_bool()) {
      return error(Where::kParallelToolCalls,
                   fmt::format("expected a boolean, got {}", json_type_name(*v)));
    }
    return response_format();
  }

 private:
  std::optional<ToolsCheckError> tools() {
    const json::value* v = field(request_, "tools");
    if (v == nullptr || v->is_null()) {
      return std::nullopt;
    }
    if (!v->is_array()) {
      return error(Where::kTools, fmt::format("expected an array, got {}", json_type_name(*v)));
    }
    const json::array& list = v->get_array();
    for (size_t i = 0; i < list.size(); ++i) {
      const int index = static_cast<int>(i);
      if (!list[i].is_object()) {
        return error(Where::kTools,
                     fmt::format("expected a tool object, got {}", json_type_name(list[i])), index);
      }
      if (auto e = tool(list[i].get_object(), index)) {
        return e;
      }
    }
    return std::nullopt;
  }

  std::optional<ToolsCheckError> tool(const json::object& entry, int index) {
    const std::string_view type = string_field(entry, "type");
    const bool is_function = type == "function" || (type.empty() && entry.contains("function"));
    if (!is_function && type != "custom") {
      return error(Where::kTools,
                   entry.contains("type")
                       ? fmt::format("type must be 'function' or 'custom', got {}",
                                     shown(*field(entry, "type")))
                       : std::string("missing type: expected {\"type\": \"function\", "
                                     "\"function\": {\"name\": ..., \"parameters\": ...}}"),
                   index);
    }
    const std::string_view key = is_function ? "function" : "custom";
    const json::object* spec = object_field(entry, key);
    if (spec == nullptr) {
      return error(Where::kTools, fmt::format("missing the '{}' object", key), index);
    }
    const json::value* name_value = field(*spec, "name");
    const std::string name = name_value != nullptr && name_value->is_string()
                                 ? std::string(name_value->get_string())
                                 : std::string();
    if (!valid_name(name)) {
      return error(Where::kTools,
                   name_value == nullptr
                       ? std::string("missing the function name")
                       : fmt::format("the name {} must be 1 to 64 letters, digits, '_' or '-'",
                                     shown(*name_value)),
                   index, name);
    }
    if (!names_.insert(name).second) {
      return error(Where::kTools, fmt::format("two tools are named '{}'", name), index, name);
    }
    offered_.push_back(name);
    if (const json::value* d = field(*spec, "description");
        d != nullptr && !d->is_null() && !d->is_string()) {
      return error(Where::kTools,
                   fmt::format("the description must be a string, got {}", json_type_name(*d)),
                   index, name);
    }
    const json::value* parameters = is_function ? field(*spec, "parameters") : nullptr;
    if (parameters == nullptr || parameters->is_null()) {
      return std::nullopt;
    }
    if (!parameters->is_object()) {
      return error(Where::kToolParameters,
                   fmt::format("must be a JSON Schema object with type 'object', got {}",
                               shown(*parameters)),
                   index, name);
    }
    if (const json::value* t = field(parameters->get_object(), "type");
        t != nullptr && !(t->is_string() && t->get_string() == "object")) {
      return error(Where::kToolParameters,
                   fmt::format("must be a JSON Schema of type 'object', got type {}", shown(*t)),
                   index, name);
    }
    return check_schema(*parameters, Where::kToolParameters, index, name);
  }

  bool offered(std::string_view name) const { return names_.count(std::string(name)) > 0; }

  std::optional<ToolsCheckError> unknown_tool(std::string_view name) const {
    std::string list;
    for (const std::string& n : offered_) {
      list += (list.empty() ? "'" : ", '") + n + "'";
    }
    return error(Where::kToolChoice,
                 fmt::format("names the tool '{}', which is not in tools (offered: {})",
                             detail::one_line(name, 64), detail::shorten(list, 200)));
  }

  std::optional<ToolsCheckError> tool_choice() {
    const json::value* v = field(request_, "tool_choice");
    if (v == nullptr || v->is_null()) {
      return std::nullopt;
    }
    if (v->is_string()) {
      const std::string_view mode = v->get_string();
      if (mode != "none" && mode != "auto" && mode != "required") {
        return error(Where::kToolChoice,
                     fmt::format("must be 'none', 'auto', 'required' or an object naming a "
                                 "tool, got {}",
                                 shown(*v)));
      }
      if (mode != "none" && offered_.empty()) {
        return error(Where::kToolChoice, "is only allowed when tools are specified");
      }
      return std::nullopt;
    }
    if (!v->is_object()) {
      return error(Where::kToolChoice,
                   fmt::format("expected a string or an object, got {}", json_type_name(*v)));
    }
    if (offered_.empty()) {
      return error(Where::kToolChoice, "is only allowed when tools are specified");
    }
    const json::object& choice = v->get_object();
    if (string_field(choice, "type") == "allowed_tools") {
      const json::object* allowed = object_field(choice, "allowed_tools");
      const json::value* list = allowed != nullptr ? field(*allowed, "tools") : nullptr;
      if (list == nullptr || !list->is_array()) {
        return error(Where::kToolChoice,
                     "allowed_tools must be {\"mode\": \"auto\" | \"required\", \"tools\": [...]}");
      }
      const std::string_view mode = string_field(*allowed, "mode");
      if (!mode.empty() && mode != "auto" && mode != "required") {
        return error(Where::kToolChoice, fmt::format("allowed_tools.mode must be 'auto' or "
                                                     "'required', got '{}'",
                                                     detail::one_line(mode, 64)));
      }
      for (const json::value& entry : list->get_array()) {
        std::string problem = "allowed_tools.tools entries must be objects naming a tool";
        const std::string_view name =
            entry.is_object() ? chosen_name(entry.get_object(), problem) : std::string_view{};
        if (name.empty()) {
          return error(Where::kToolChoice, problem);
        }
        if (!offered(name)) {
          return unknown_tool(name);
        }
      }
      return std::nullopt;
    }
    std::string problem;
    const std::string_view name = chosen_name(choice, problem);
    if (name.empty()) {
      return error(Where::kToolChoice, problem);
    }
    if (!offered(name)) {
      return unknown_tool(name);
    }
    return std::nullopt;
  }

  std::optional<ToolsCheckError> response_format() {
    const json::value* v = field(request_, "response_format");
    if (v == nullptr || v->is_null()) {
      return std::nullopt;
    }
    if (!v->is_object()) {
      return error(Where::kResponseFormat,
                   fmt::format("expected an object, got {}", json_type_name(*v)));
    }
    const json::object& format = v->get_object();
    const std::string_view type = string_field(format, "type");
    if (type == "text" || type == "json_object") {
      return std::nullopt;
    }
    if (type != "json_schema") {
      return error(Where::kResponseFormat,
                   fmt::format("type must be 'text', 'json_object' or 'json_schema', got {}",
                               format.contains("type") ? shown(*field(format, "type"))
                                                       : std::string("nothing")));
    }
    const json::object* spec = object_field(format, "json_schema");
    if (spec == nullptr) {
      return error(Where::kResponseFormat,
                   "json_schema must be an object with a name and a schema");
    }
    if (const json::value* name = field(*spec, "name");
        name != nullptr && !(name->is_string() && valid_name(name->get_string()))) {
      return error(Where::kResponseFormat,
                   fmt::format("json_schema.name {} must be 1 to 64 letters, digits, '_' or '-'",
                               shown(*name)));
    }
    const json::value* schema = field(*spec, "schema");
    if (schema == nullptr || !(schema->is_object() || schema->is_bool())) {
      return error(Where::kResponseFormat,
                   schema == nullptr ? std::string("json_schema has no schema")
                                     : fmt::format("json_schema.schema must be a JSON Schema "
                                                   "object, got {}",
                                                   shown(*schema)));
    }
    return check_schema(*schema, Where::kResponseFormat, -1, "");
  }

  const json::object& request_;
  std::set<std::string> names_;
  std::vector<std::string> offered_;
};

}  // namespace

std::optional<ToolsCheckError> check_request_tools(const json::object& request) {
  return Checker(request).run();
}

}  // namespace sheepdog::llm
