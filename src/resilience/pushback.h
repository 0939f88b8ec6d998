// Server pushback: the upstream saying how long to wait. Parses the headers providers use and
// turns them into one Duration. Pure functions: "now" is passed in.
//
//   Retry-After: 120                      (delta-seconds, RFC 9110 section 10.2.3)
//   Retry-After: Sun, 06 Nov 1994 08:49:37 GMT   (HTTP-date, IMF-fixdate; past dates mean 0)
//   retry-after-ms: 1500                  (OpenAI SDKs; takes precedence over Retry-After)
//   x-ratelimit-reset-requests: 1m6.5s    (OpenAI, Go-style duration: h, m, s, ms units)
//   x-ratelimit-reset-tokens: 20ms
// Of the rate-limit reset headers, the larger wins when both are present (both limits must
// have reset for the retry to pass). Retry-After family wins over the reset headers.
#pragma once

#include <optional>
#include <string_view>

#include "core/clock.h"

namespace sheepdog {

// The raw header values, as received (empty = absent).
struct PushbackHeaders {
  std::string_view retry_after;
  std::string_view retry_after_ms;
  std::string_view ratelimit_reset_requests;
  std::string_view ratelimit_reset_tokens;
};

// The wait the upstream asked for, or nullopt if none of the headers is present and valid.
// Malformed values are ignored, never an error: pushback is advice.
std::optional<Duration> parse_pushback(const PushbackHeaders& headers, WallTime now);

// Single-format parsers, exposed for tests and for other providers' headers.
std::optional<Duration> parse_retry_after(std::string_view value, WallTime now);
std::optional<Duration> parse_go_duration(std::string_view value);  // "1m6.5s", "20ms"
std::optional<WallTime> parse_http_date(std::string_view value);    // IMF-fixdate, RFC 850, asctime

}  // namespace sheepdog
