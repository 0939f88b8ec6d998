// Validation of the gateway's API request bodies before any upstream sees them: a malformed
// request gets a 400 with an OpenAI-shaped error naming the offending `param`, the way OpenAI
// itself answers, instead of costing an upstream call (and a retry) to learn the same.
//
// Checked: the body is one JSON object (server/json_body.h names a syntax or encoding problem and
// its byte offset), the fields the gateway relies on (`model`, `messages` / `input`, `stream`,
// `user`), the documented types and ranges of the sampling parameters (server/openai_params.h),
// and the tools, tool_choice and response_format (llm/request_tools_check.h: a schema valijson
// cannot run, or a tool_choice naming no offered tool, is a client mistake). Every other field
// passes through for the upstream to judge.
#pragma once

#include <boost/json/object.hpp>
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
// The same checks on an already parsed body; `check_tools` false skips the tools checks (the
// Anthropic front makes them itself, to word the error its own way).
ValidationResult validate_chat_body(boost::json::object body, bool check_tools);

// POST /v1/embeddings: an object with `model` a non-empty string and `input` a non-empty string
// or a non-empty array, `user` a string if present.
ValidationResult validate_embeddings_request(std::string_view body);

// The client's x-request-id if it is usable (1 to 128 visible ASCII characters), else nullopt.
std::optional<std::string> usable_request_id(std::string_view value);

}  // namespace sheepdog::server
