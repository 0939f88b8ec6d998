// Validation of the gateway's API request bodies before any upstream sees them: a malformed
// request gets a 400 with an OpenAI-shaped error naming the offending `param`, the way OpenAI
// itself answers, instead of costing an upstream call (and a retry) to learn the same.
//
// Only what the gateway relies on is checked (JSON object, `model`, `messages` / `input`,
// `stream`, `user`); every other field passes through for the upstream to judge.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "gateway/client_sink.h"
#include "server/http_error.h"

namespace sheepdog::server {

// The checked body, or the error to answer with (status 400).
using ValidationResult = std::variant<gateway::GatewayRequest, ApiError>;

// POST /v1/chat/completions: an object with `model` a non-empty string, `messages` a non-empty
// array of objects each with a string `role`, `stream` a boolean if present, `stream_options`
// an object if present, `user` a string if present. Fills operation, body, model, stream, user.
ValidationResult validate_chat_request(std::string_view body);

// POST /v1/embeddings: an object with `model` a non-empty string and `input` a non-empty string
// or a non-empty array, `user` a string if present.
ValidationResult validate_embeddings_request(std::string_view body);

// The client's x-request-id if it is usable (1 to 128 visible ASCII characters), else nullopt.
std::optional<std::string> usable_request_id(std::string_view value);

}  // namespace sheepdog::server
