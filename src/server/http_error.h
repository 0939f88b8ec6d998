// OpenAI-shaped error bodies, {"error":{"message","type","param","code"}}, and the responses
// that carry them. The server uses them for its own protocol errors (400, 413, 431, 503); the
// gateway and the mock use them for API errors, so every error a client sees has one shape and
// the official SDKs can parse it.
#pragma once

#include <optional>
#include <string>

#include "server/http_types.h"

namespace sheepdog::server {

struct ApiError {
  std::string message;
  std::string type;                  // "invalid_request_error", "server_error", ...
  std::optional<std::string> param;  // JSON null when absent
  std::optional<std::string> code;   // JSON null when absent
};

// The JSON text of the error object.
std::string error_body(const ApiError& error);

// A complete response: status, `Content-Type: application/json`, the body, payload prepared.
// `version` is 10 or 11 (the request's).
HttpResponse error_response(http::status status, const ApiError& error, unsigned version = 11);

}  // namespace sheepdog::server
