// What the mock upstream does: the outcomes it can produce, the fault profile (latency,
// streaming speed, fault rates, Retry-After) that applies globally or to one model name, and
// the rate limits of individual API keys. Plain values; decoding from YAML/JSON lives in
// mock_config_decode.h.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/random.h"

namespace sheepdog::mock {

// One request's fate. The names (to_string) are used in config, scripts and stats. Statuses and
// bodies below are OpenAI's; /v1/messages answers in Anthropic's (mock_anthropic.h).
enum class Outcome : unsigned char {
  kOk,                     // "ok": a normal answer
  kRateLimited,            // "rate_limited" / "429": Retry-After and x-ratelimit-* headers
  kInsufficientQuota,      // "insufficient_quota": 429 with code insufficient_quota
  kServerError,            // "server_error" / "500"
  kBadGateway,             // "bad_gateway" / "502": an HTML page, as a fronting proxy sends
  kServiceUnavailable,     // "service_unavailable" / "503" (529 on /v1/messages): overloaded
  kGatewayTimeout,         // "gateway_timeout" / "504": an HTML page
  kHang,                   // "hang": never answers; ends when the client closes
  kConnectionReset,        // "reset": RST instead of an answer
  kSlowStream,             // "slow_stream": chunks slow_stream_factor times slower
  kTruncatedStream,        // "truncated_stream": the body stops half-way (no [DONE]), then FIN
  kMalformedToolCall,      // "malformed_tool_call": tool arguments that are not valid JSON
                           // (cut at half; the older, coarser form of tool_truncated_json)
  kInvalidToolArgs,        // "invalid_tool_args": valid JSON that breaks the tool's schema
                           // (a required property left out or a wrong type, at random)
  kContextLengthExceeded,  // "context_length_exceeded": 400 with OpenAI's body and code
  // Finer tool-call and structured-output faults (mock_tool_faults.h says exactly what each
  // does, and what it falls back to where the schema gives it nothing to break):
  kToolTruncatedJson,    // "tool_truncated_json": arguments cut off mid-JSON
  kToolTrailingText,     // "tool_trailing_text": valid JSON followed by prose
  kToolWrongType,        // "tool_wrong_type": one property of the wrong type
  kToolMissingRequired,  // "tool_missing_required": a required property left out
  kToolUnknownTool,      // "tool_unknown_tool": the call names a tool that was not offered
  kToolExtraProperty,    // "tool_extra_property": a property the schema does not declare
};
inline constexpr size_t kOutcomeCount = 20;

std::string_view to_string(Outcome outcome);
// A name as above, or the status aliases "429", "500", "502", "503", "504".
std::optional<Outcome> parse_outcome(std::string_view name);
// The canonical names in declaration order (for messages and did-you-mean).
std::span<const std::string_view> outcome_names();
// True for the outcomes answered with an HTTP error status instead of an answer: rate_limited,
// insufficient_quota, server_error, bad_gateway, service_unavailable, gateway_timeout,
// context_length_exceeded.
bool is_error_status(Outcome outcome);

// Time to the response head: fixed (p99 == median) or lognormal with the given median and 99th
// percentile, i.e. median * exp(sigma * z) with sigma = ln(p99 / median) / z99, z ~ N(0, 1).
struct LatencySpec {
  Duration median = Duration::zero();
  Duration p99 = Duration::zero();

  bool fixed() const { return p99 <= median; }
  // The latency at standard-normal quantile z (median at 0, p99 at kZ99). Pure.
  Duration at_z(double z) const;
  // One sample; draws two uniforms (Box-Muller) unless fixed().
  Duration sample(RandomSource& random) const;

  static constexpr double kZ99 = 2.3263478740408408;  // Phi^-1(0.99)
};

// How requests for one model (or all models by default) behave.
struct FaultProfile {
  LatencySpec latency;
  // Streaming speed: one chunk per (approximate) token; 0 = no pause between chunks. A
  // non-streaming answer is also delayed by the time its tokens would take.
  double tokens_per_second = 0;
  double slow_stream_factor = 10;
  // Probability of each outcome per request (rates[kOk] is ignored: "ok" is the remainder).
  // Each in [0, 1]; their sum <= 1.
  std::array<double, kOutcomeCount> rates{};
  Duration retry_after = seconds(1);  // sent on 429 and 503/529 (Retry-After)
  std::optional<bool> should_retry;   // if set, error responses carry x-should-retry

  double rate(Outcome outcome) const { return rates[static_cast<size_t>(outcome)]; }
  // Pause before each token chunk; `slow` applies slow_stream_factor. A slow stream at
  // tokens_per_second 0 pauses 10ms per chunk times the factor, so it is slow still.
  Duration token_delay(bool slow) const;
};

// The limits of one API key, per minute; 0 = none. Enforced by KeyLimiter (mock_key_limits.h).
struct KeyLimit {
  int64_t rpm = 0;  // requests per minute
  int64_t tpm = 0;  // tokens per minute: prompt plus requested answer, see KeyLimiter
  bool operator==(const KeyLimit&) const = default;
};

struct MockConfig {
  FaultProfile defaults;
  // Profiles for specific model names; they replace `defaults` for that model.
  std::map<std::string, FaultProfile, std::less<>> models;
  // Limits by API key, the raw key as the client sends it (after "Bearer ", or x-api-key).
  // Keys not listed are unlimited.
  std::map<std::string, KeyLimit, std::less<>> keys;

  size_t embedding_dimensions = 1536;  // unless the request asks for `dimensions`
  // Answer length when the request has no max_tokens (OpenAI); for Anthropic, whose requests
  // always have one, the length the answer has unless max_tokens cuts it shorter.
  size_t completion_tokens = 16;
  size_t max_completion_tokens = 16384;  // cap on an answer's length, whatever max_tokens says
  size_t context_window = 128000;        // quoted in context_length_exceeded messages
  // GET /v1/models lists these plus the names in `models`.
  std::vector<std::string> model_list = {"gpt-4o-mini", "gpt-4o", "text-embedding-3-small"};

  const FaultProfile& profile_for(std::string_view model) const;
};

// The `--fault-rate R` mix: R spread over the transient faults a gateway should absorb (429
// 40%, 500 15%, 503 15%, 502 5%, 504 5%, reset 10%, truncated stream 5%, slow stream 5%).
// Tool and structured-output faults are never part of it: they test validation, not transport,
// and are set by name in a profile's `faults:`.
// REQUIRES: 0 <= total_rate <= 1.
void set_default_fault_mix(FaultProfile& profile, double total_rate);

}  // namespace sheepdog::mock
