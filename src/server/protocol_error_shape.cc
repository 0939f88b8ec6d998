#include "server/protocol_error_shape.h"

#include <boost/beast/http/field.hpp>

#include "providers/anthropic_inbound.h"

namespace sheepdog::server {

bool is_anthropic_target(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  constexpr std::string_view kMessages = "/v1/messages";
  return path.starts_with(kMessages) &&
         (path.size() == kMessages.size() || path[kMessages.size()] == '/');
}

HttpResponse api_protocol_error(http::status status, const ApiError& error,
                                std::string_view target) {
  if (!is_anthropic_target(target)) {
    return error_response(status, error);
  }
  const int code = static_cast<int>(status);
  HttpResponse response{status, 11};
  response.set(http::field::content_type, "application/json");
  response.body() = providers::anthropic_error_body(
      providers::anthropic_error_type(code, error.type, error.code.value_or("")), error.message);
  response.prepare_payload();
  return response;
}

}  // namespace sheepdog::server
