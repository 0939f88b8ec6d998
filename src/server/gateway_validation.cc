#include "server/gateway_validation.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace sheepdog::server {
namespace {

namespace json = boost::json;

constexpr size_t kMaxRequestIdBytes = 128;

ApiError invalid(std::string message, std::string param, std::string code) {
  return ApiError{std::move(message), "invalid_request_error",
                  param.empty() ? std::nullopt : std::optional(std::move(param)),
                  std::optional(std::move(code))};
}

std::string_view type_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

ApiError wrong_type(std::string_view param, std::string_view expected, const json::value& v) {
  return invalid("Invalid type for '" + std::string(param) + "': expected " +
                     std::string(expected) + ", but got " + std::string(type_name(v)) + ".",
                 std::string(param), "invalid_type");
}

// Parses the body into an object and checks `model` and `user`; fills the common fields.
std::optional<ApiError> parse_common(std::string_view body, gateway::GatewayRequest& out) {
  if (body.empty()) {
    return invalid("The request body is empty; expected a JSON object.", "", "invalid_json");
  }
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec) {
    return invalid("We could not parse the JSON body of your request (" + ec.message() +
                       "). Send a JSON object with Content-Type: application/json.",
                   "", "invalid_json");
  }
  if (!parsed.is_object()) {
    return invalid(
        "The request body must be a JSON object, but got " + std::string(type_name(parsed)) + ".",
        "", "invalid_json");
  }
  out.body = std::move(parsed.get_object());
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

}  // namespace

ValidationResult validate_chat_request(std::string_view body) {
  gateway::GatewayRequest request;
  request.operation = providers::Operation::kChatCompletions;
  if (std::optional<ApiError> error = parse_common(body, request)) {
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
  return request;
}

ValidationResult validate_embeddings_request(std::string_view body) {
  gateway::GatewayRequest request;
  request.operation = providers::Operation::kEmbeddings;
  if (std::optional<ApiError> error = parse_common(body, request)) {
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
