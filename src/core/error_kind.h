// The one vocabulary for how an upstream attempt (or a whole request) went wrong. Every layer
// speaks it: the classifier produces it, breakers and retry policies consume it, the server maps
// it to an OpenAI-shaped error, metrics label by it.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace sheepdog {

enum class ErrorKind : unsigned char {
  kRateLimited,            // 429: slow down, retry later (possibly elsewhere)
  kQuotaExhausted,         // 429 insufficient_quota / billing: futile here, fall back
  kOverloaded,             // 503, Anthropic 529
  kServerError,            // 500, 502, 504
  kTimeout,                // no (complete) answer within the attempt timeout
  kConnectFailed,          // TCP/TLS connect refused or failed
  kConnectionReset,        // the connection dropped mid-exchange
  kAuth,                   // 401, 403
  kBadRequest,             // 400, 404, 422: the client's own mistake
  kContextLengthExceeded,  // prompt too long for this model: try a larger one
  kContentFiltered,        // provider refused on content policy: another provider may not
  kMalformedResponse,      // 2xx whose body we could not understand, or bytes that are not HTTP
  kResponseTooLarge,       // the answer is over the gateway's size limit: the same call here
                           // would pull it again, so it is not retried on this deployment
  kInvalidToolCall,        // tool call / structured output failed validation
  kBudgetExceeded,         // spend budget or retry budget exhausted
  kCircuitOpen,            // the deployment's breaker rejected the call
  kDeadlineExceeded,       // the request's total deadline passed
  kCancelled,              // the client went away
};
inline constexpr size_t kErrorKindCount = 18;

// What to do, by default, after an attempt failed with a given kind.
enum class Disposition : unsigned char {
  kRetry,     // transient: try again, on the same deployment or the next
  kFallBack,  // futile here, may work elsewhere: move to another deployment/alias now
  kFail,      // retrying cannot help: fail the request at once
};

// Stable snake_case names ("rate_limited"), used in config, logs, metrics and JSON.
std::string_view to_string(ErrorKind kind);
std::string_view to_string(Disposition disposition);
std::optional<ErrorKind> parse_error_kind(std::string_view name);
std::optional<Disposition> parse_disposition(std::string_view name);

// The built-in default for each kind (see docs/resilience.md for the reasoning).
Disposition default_disposition(ErrorKind kind);

// Every kind, in declaration order, for iteration in tests and reports.
const std::array<ErrorKind, kErrorKindCount>& all_error_kinds();

}  // namespace sheepdog
