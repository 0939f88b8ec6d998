// How a request that failed is answered: the give-up of the attempt loop (its reason, and the
// last attempt's failure) becomes an HTTP status and an OpenAI-shaped error body, so the
// official SDKs raise their usual classes:
//
//   rate_limited                        429 (+ retry-after)          RateLimitError
//   every API key at its limit          429 (+ retry-after: when the first key frees up)
//   overloaded, quota_exhausted,        503 (+ retry-after)          InternalServerError
//   every breaker open
//   timeout, deadline                   504                          InternalServerError
//   server_error, connect_failed,       502                          InternalServerError
//   connection_reset, malformed_response, invalid_tool_call
//   response_too_large                  502 (code upstream_response_too_large)
//   auth with the gateway's own key     502: the gateway is misconfigured, not the client
//   auth with the client's own key      the upstream's status and error body (401/403)
//   bad_request, context_length_exceeded, content_filtered
//                                       the upstream's status and error body (the client's
//                                       own mistake, or the model's verdict on its content)
//
// 429 and 503 always carry retry-after (and retry-after-ms): the upstream's pushback if it gave
// one, the time until the first breaker half-opens when all are open, else 1 second.
//
// Messages name the deployment, never its address: a transport detail ("connect
// 10.0.0.7:8000: Connection refused") reaches the client with the upstream's origin replaced
// by "upstream"; logs keep the original (the attempt record's detail). Relayed error bodies are
// as attempt.cc kept them, configured keys already redacted.
// Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error_kind.h"
#include "providers/provider.h"
#include "resilience/retry_policy.h"
#include "upstream/http_message.h"

namespace sheepdog::gateway {

// The last failed attempt of a request.
struct AttemptFailure {
  ErrorKind kind = ErrorKind::kServerError;
  std::string deployment;                         // its name
  const providers::Provider* provider = nullptr;  // for relaying its error body
  bool client_key = false;              // the attempt carried the client's own credentials
  upstream::UpstreamResponse response;  // status and body iff the upstream answered
  std::string detail;                   // transport or decode problem, for the message
  upstream::Origin origin;              // the deployment's: hidden from the message
};

// `detail` with every form of `origin` in it ("https://h:443", "h:443", "[v6]:443", a bare
// host between non-name characters) replaced by "upstream".
std::string hide_origin(std::string_view detail, const upstream::Origin& origin);

struct GiveUpContext {
  std::string_view model;  // the alias the client asked for
  int attempts = 0;
  GiveUpReason reason = GiveUpReason::kNone;
  std::optional<Duration> retry_after;  // pushback, or time until a breaker half-opens
  Duration total_timeout{};             // for the deadline message
};

struct ErrorAnswer {
  int status = 500;
  std::string body;                     // {"error": {...}}
  std::optional<Duration> retry_after;  // set iff status is 429 or 503
};

// `last` is null iff no attempt was made (every breaker open from the start).
ErrorAnswer map_give_up(const AttemptFailure* last, const GiveUpContext& context);

// {"error":{"message","type","param","code"}} with null param (and code when empty).
std::string openai_error_body(std::string_view message, std::string_view type,
                              std::string_view code = {}, std::string_view param = {});

// The mid-stream failure event: "data: {"error":{...}}\n\n".
std::string stream_error_event(std::string_view message, std::string_view code,
                               std::string_view type = "server_error");

// Retry-After as whole seconds, rounded up, at least 1 ("0" makes some clients spin).
std::string retry_after_seconds(Duration wait);

}  // namespace sheepdog::gateway
