// The gateway's HTTP API on top of HttpServer:
//
//   POST /v1/chat/completions   (also /chat/completions)  non-streaming and SSE streaming
//   POST /v1/embeddings         (also /embeddings)
//   POST /v1/messages                                     the Anthropic Messages API, streamed or
//                                                         not, on any deployment
//                                                         (messages_endpoint.h)
//   GET  /v1/models, GET /v1/models/{id}                  the served aliases
//   GET  /health, /health/liveness                        the process serves: {"status":"ok"}
//   GET  /health/readiness                                200 when at least one deployment's
//                                                         breaker lets calls through, else 503
//   GET  /health/deployments                              breakers and live stats   (admin)
//   GET  /metrics                                         Prometheus text           (admin)
//
// The /v1 routes require `Authorization: Bearer <key>` (on /v1/messages, also `x-api-key:
// <key>`, as the Anthropic SDK sends it) with one of server.api_keys when that list is
// non-empty (401 otherwise). The admin routes show key fingerprints, limits and use: with
// server.admin_keys they need one of those, without it one of server.api_keys (open only when
// neither is set). /health, liveness and readiness stay open for load balancers.
// Unknown paths get 404 and known paths with another method 405 (with Allow), both
// OpenAI-shaped (Anthropic-shaped under /v1/messages). Every /v1 response carries x-request-id: the client's own if it sent a usable
// one, else a generated "req_..." id. A POST with an Idempotency-Key header runs at most once
// per key (gateway/idempotency_stage.h); a malformed key is a 400.
#pragma once

#include <string_view>

#include "gateway/gateway.h"
#include "server/http_server.h"

namespace sheepdog::server {

// The handler for an HttpServer serving `gateway`, which must outlive the server.
HttpHandler make_gateway_handler(gateway::Gateway& gateway);

// Whether `authorization` ("Bearer <key>") names one of `keys`; true when `keys` is empty.
// Compares in time independent of where a key differs.
bool authorized(std::string_view authorization, const std::vector<std::string>& keys);

}  // namespace sheepdog::server
