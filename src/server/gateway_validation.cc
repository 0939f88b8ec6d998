#include "server/gateway_validation.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "core/json_values.h"
#include "llm/request_tools_check.h"
#include "server/json_body.h"
#include "server/openai_params.h"

namespace sheepdog::server {
namespace {

namespace json = boost::json;

constexpr size_t kMaxRequestIdBytes = 128;

ApiError invalid(std::string message, std::string param, std::string code) {
  return ApiError{std::move(message), "invalid_request_error",
                  param.empty() ? std::nullopt : std::optional(std::move(param)),
                  std::optional(std::move(code))};
}


ApiError wrong_type(std::string_view param, std::string_view expected, const json::value& v) {
  return invalid("Invalid type for '" + std::string(param) + "': expected " +
                     std::string(expected) + ", but got " + std::string(json_kind_phrase(v)) + ".",
                 std::string(param), "invalid_type");
}

// Parses the body into an object.
std::optional<ApiError> parse_body(std::string_view body, gateway::GatewayRequest& out) {
  if (body.empty()) {
    return invalid("The request body is empty; expected a JSON object.", "", "invalid_json");
  }
  json::value parsed;
  if (std::string problem = parse_json_body(body, parsed); !problem.empty()) {
    return invalid("We could not parse the JSON body of your request: " + problem +
                       ". Send a JSON object with Content-Type: application/json.",
                   "", "invalid_json");
  }
  if (!parsed.is_object()) {
    return invalid(
        "The request body must be a JSON object, but got " + std::string(json_kind_phrase(parsed)) + ".",
        "", "invalid_json");
  }
  out.body = std::move(parsed.get_object());
  return std::nullopt;
}

// Checks `model` and `user` of the parsed body; fills the common fields.
std::optional<ApiError> check_common(gateway::GatewayRequest& out) {
  const json::value* model = out.body.if_contains("model");
  if (model == nullptr || model->is_null()) {
    return invalid("You must provide a model parameter.", "model", "missing_required_parameter");
  }
  if (!model->is_string()) {
    return wrong_type("model", "a string", *model);
  }
  if (model->get_string().empty()) {
    return invalid("The model parameter must not be empty.", "model", "invalid_value");
  }
  out.model = std::string(model->get_string());
  if (const json::value* user = out.body.if_contains("user"); user != nullptr && !user->is_null()) {
    if (!user->is_string()) {
      return wrong_type("user", "a string", *user);
    }
    out.user = std::string(user->get_string());
  }
  return std::nullopt;
}

// The OpenAI error for a problem with the tools, tool_choice or response_format.
ApiError tools_error(const llm::ToolsCheckError& e) {
  using Where = llm::ToolsCheckError::Where;
  const std::string at = e.pointer.empty() ? "" : e.pointer + ": ";
  switch (e.where) {
    case Where::kToolParameters: {
      const std::string param = "tools[" + std::to_string(e.tool) + "].function.parameters";
      return invalid("Invalid schema for function '" + e.tool_name + "' (" + param + "): " + at +
                         e.message + ".",
                     param, "invalid_function_parameters");
    }
    case Where::kTools: {
      const std::string param = e.tool < 0 ? "tools" : "tools[" + std::to_string(e.tool) + "]";
      return invalid("Invalid '" + param + "': " + e.message + ".", param, "invalid_value");
    }
    case Where::kToolChoice:
      return invalid("Invalid 'tool_choice': " + e.message + ".", "tool_choice", "invalid_value");
    case Where::kParallelToolCalls:
      return invalid("Invalid type for 'parallel_tool_calls': " + e.message + ".",
                     "parallel_tool_calls", "invalid_type");
    case Where::kResponseFormat:
      return invalid("Invalid 'response_format': " + at + e.message + ".", "response_format",
                     "invalid_value");
  }
  return invalid(e.message, "", "invalid_value");
}

}  // namespace

ValidationResult validate_chat_request(std::string_view body) {
  gateway::GatewayRequest request;
  if (std::optional<ApiError> error = parse_body(body, request)) {
    return *error;
  }
  return validate_chat_body(std::move(request.body), true);
}

ValidationResult validate_chat_body(json::object body, bool check_tools) {
  gateway::GatewayRequest request;
  request.operation = providers::Operation::kChatCompletions;
  request.body = std::move(body);
  if (std::optional<ApiError> error = check_common(request)) {
    return *error;
  }
  const json::value* messages = request.body.if_contains("messages");
  if (messages == nullptr || messages->is_null()) {
    return invalid("Missing required parameter: 'messages'.", "messages",
                   "missing_required_parameter");
  }
  if (!messages->is_array()) {
    return wrong_type("messages", "an array", *messages);
  }
  const json::array& list = messages->get_array();
  if (list.empty()) {
    return invalid("'messages' must contain at least one message.", "messages", "empty_array");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string param = "messages[" + std::to_string(i) + "]";
    if (!list[i].is_object()) {
      return wrong_type(param, "an object", list[i]);
    }
    const json::value* role = list[i].get_object().if_contains("role");
    if (role == nullptr) {
      return invalid("Missing required parameter: '" + param + ".role'.", param + ".role",
                     "missing_required_parameter");
    }
    if (!role->is_string()) {
      return wrong_type(param + ".role", "a string", *role);
    }
  }
  if (const json::value* stream = request.body.if_contains("stream");
      stream != nullptr && !stream->is_null()) {
    if (!stream->is_bool()) {
      return wrong_type("stream", "a boolean", *stream);
    }
    request.stream = stream->get_bool();
  }
  if (const json::value* options = request.body.if_contains("stream_options");
      options != nullptr && !options->is_null() && !options->is_object()) {
    return wrong_type("stream_options", "an object", *options);
  }
  if (std::optional<ApiError> error = check_chat_parameters(request.body)) {
    return *error;
  }
  if (check_tools) {
    if (std::optional<llm::ToolsCheckError> error = llm::check_request_tools(request.body)) {
      return tools_error(*error);
    }
  }
  return request;
}

ValidationResult validate_embeddings_request(std::string_view body) {
  gateway::GatewayRequest request;
  request.operation = providers::Operation::kEmbeddings;
  if (std::optional<ApiError> error = parse_body(body, request)) {
    return *error;
  }
  if (std::optional<ApiError> error = check_common(request)) {
    return *error;
  }
  const json::value* input = request.body.if_contains("input");
  if (input == nullptr || input->is_null()) {
    return invalid("Missing required parameter: 'input'.", "input", "missing_required_parameter");
  }
  if (input->is_string()) {
    if (input->get_string().empty()) {
      return invalid("'input' must not be empty.", "input", "invalid_value");
    }
  } else if (input->is_array()) {
    if (input->get_array().empty()) {
      return invalid("'input' must contain at least one item.", "input", "empty_array");
    }
  } else {
    return wrong_type("input", "a string or an array", *input);
  }
  if (std::optional<ApiError> error = check_embeddings_parameters(request.body)) {
    return *error;
  }
  return request;
}

std::optional<std::string> usable_request_id(std::string_view value) {
  if (value.empty() || value.size() > kMaxRequestIdBytes) {
    return std::nullopt;
  }
  for (char c : value) {
    if (c < 0x21 || c > 0x7e) {
      return std::nullopt;
    }
  }
  return std::string(value);
}

}  // namespace sheepdog::server
