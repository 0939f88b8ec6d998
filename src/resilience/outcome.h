// Classification of one upstream attempt into an ErrorKind: the single place where HTTP statuses,
// transport errors and provider-specific body hints become the engine's vocabulary.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "core/error_kind.h"

namespace sheepdog {

// How the transport ended, independent of any HTTP status.
enum class TransportResult : unsigned char {
  kOk,               // a complete HTTP response arrived (look at the status)
  kConnectFailed,    // DNS, TCP or TLS handshake failure
  kConnectionReset,  // the peer closed or reset the connection mid-exchange
  kTimeout,          // the attempt timeout fired
  kCancelled,        // we cancelled it (client went away, shutdown)
  // The answer broke the client's limits: a body over max_response_body_bytes (or the memory
  // budget), a head or trailer over the header limit. Deterministic for this request here.
  kResponseTooLarge,
  kMalformed,  // the bytes were not HTTP/1.1 (a bad status line, field, chunk size, ...)
};

// What the upstream answered, as far as classification needs it. All views must outlive the
// classify() call only.
struct AttemptResponse {
  TransportResult transport = TransportResult::kOk;
  int http_status = 0;  // meaningful iff transport == kOk
  // The response body, or its first few KiB: only error codes are looked for in it.
  std::string_view body;
  // The upstream's `x-should-retry` header, if present and "true"/"false".
  std::optional<bool> should_retry;
};

// The outcome of an attempt: success, or a kind.
struct AttemptOutcome {
  std::optional<ErrorKind> error;  // nullopt iff the attempt succeeded
  bool succeeded() const { return !error.has_value(); }
  // Copied from the response: an explicit upstream verdict that overrides the kind's default.
  std::optional<bool> should_retry;

  static AttemptOutcome success() { return {}; }
  static AttemptOutcome failure(ErrorKind kind) { return {kind, std::nullopt}; }
};

// Maps a response to an outcome. Rules (first match wins):
//   transport errors map to their kinds;
//   2xx is success; 429 with `insufficient_quota`/billing in the body is quota_exhausted, other
//   429 rate_limited; 402 (Payment Required, used by some OpenAI-compatible hosts for credits)
//   quota_exhausted; 503 and 529 overloaded; 408 timeout; other 5xx server_error, unless the
//   body says Anthropic `overloaded_error`, then overloaded; 401/403 auth; any other 4xx whose
//   body names context length (OpenAI `context_length_exceeded` / "maximum context length",
//   Anthropic "prompt is too long") is context_length_exceeded, one naming a content filter
//   (`content_filter`, `content_policy_violation`) is content_filtered; other 4xx bad_request.
// Body hints are matched case-insensitively in the first kBodyScanLimit bytes only.
// Never fails: unknown statuses fall into the nearest class (1xx/3xx as a final answer are
// malformed_response, >= 600 server_error).
AttemptOutcome classify(const AttemptResponse& response);

// How much of the body classify() looks at: provider error objects put the code and type first.
inline constexpr size_t kBodyScanLimit = 4096;

// Parses an `x-should-retry` header value: "true" / "false" (case-insensitive, surrounding
// spaces and tabs ignored), else nullopt.
std::optional<bool> parse_should_retry(std::string_view header_value);

}  // namespace sheepdog
