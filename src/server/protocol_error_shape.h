// The server's own protocol errors (http_server.h: 400, 408, 413, 431, 501) and the routes'
// 404/405, in the envelope of the API a request's target belongs to: Anthropic's
// ({"type":"error","error":{"type","message"}}) for /v1/messages and everything below it, so the
// Anthropic SDK raises its usual classes; OpenAI's everywhere else. Shared by the gateway and the
// mock, which serve both APIs.
#pragma once

#include <string_view>

#include "server/http_error.h"
#include "server/http_types.h"

namespace sheepdog::server {

// True for /v1/messages and /v1/messages/... (query ignored).
bool is_anthropic_target(std::string_view target);

// `error` as a complete response for `target`: Anthropic's envelope (type from the status and
// the OpenAI-style type/code, providers/anthropic_inbound.h) or OpenAI's (http_error.h).
HttpResponse api_protocol_error(http::status status, const ApiError& error,
                                std::string_view target);

}  // namespace sheepdog::server
