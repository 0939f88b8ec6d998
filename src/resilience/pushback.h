// Server pushback: the upstream saying how long to wait. Parses the headers providers use and
// turns them into one Duration. Pure functions: "now" is passed in.
//
//   Retry-After: 120                      (delta-seconds, RFC 9110 section 10.2.3)
//   Retry-After: Sun, 06 Nov 1994 08:49:37 GMT   (HTTP-date, IMF-fixdate; past dates mean 0)
//   retry-after-ms: 1500                  (OpenAI SDKs; takes precedence over Retry-After)
//   x-ratelimit-reset-requests: 1m6.5s    (OpenAI, Go-style duration: h, m, s, ms units)
//   x-ratelimit-reset-tokens: 20ms
// Precedence: a valid retry-after-ms, else a valid Retry-After, else the larger of the two
// rate-limit reset headers (both limits must have reset for the retry to pass). An invalid value
// counts as absent, so the next header in line is used.
// Leniencies, because pushback is advice: numbers may carry a fraction ("1.5"), surrounding
// whitespace is ignored, negative values are ignored, and every result is clamped to
// [0, kMaxPushback] so that adding it to a TimePoint cannot overflow.
#pragma once

#include <optional>
#include <string_view>

#include "core/clock.h"

namespace sheepdog {

// The longest wait any parser returns: a year is already "not today" for every caller, and it
// keeps now + pushback far from Duration's limit.
inline constexpr Duration kMaxPushback = std::chrono::hours(24 * 365);

// The raw header values, as received (empty = absent).
struct PushbackHeaders {
  std::string_view retry_after;
  std::string_view retry_after_ms;
  std::string_view ratelimit_reset_requests;
  std::string_view ratelimit_reset_tokens;
};

// The wait the upstream asked for, or nullopt if none of the headers is present and valid.
// Malformed values are ignored, never an error: pushback is advice. OpenAI sends the reset
// headers on every response, so pass them only when the response is a 429.
std::optional<Duration> parse_pushback(const PushbackHeaders& headers, WallTime now);

// Single-format parsers, exposed for tests and for other providers' headers.
// Delta-seconds or an HTTP-date; a date in the past gives 0.
std::optional<Duration> parse_retry_after(std::string_view value, WallTime now);
// A number of milliseconds, as in retry-after-ms.
std::optional<Duration> parse_retry_after_ms(std::string_view value);
// Go's time.Duration text: "1m6.5s", "20ms", "2h0m0s", "0"; units h, m, s, ms, us (µs), ns.
std::optional<Duration> parse_go_duration(std::string_view value);
// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT";
// years 70-99 are 19xx, 00-69 are 20xx) or asctime ("Sun Nov  6 08:49:37 1994"). The weekday
// must be a valid name but is not checked against the date. Dates past WallTime's range
// saturate to WallTime::max().
std::optional<WallTime> parse_http_date(std::string_view value);

}  // namespace sheepdog
