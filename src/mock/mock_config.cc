#include "mock/mock_config.h"

#include <cmath>
#include <numbers>

namespace sheepdog::mock {
namespace {

constexpr std::array<std::string_view, kOutcomeCount> kNames = {
    "ok",
    "rate_limited",
    "insufficient_quota",
    "server_error",
    "bad_gateway",
    "service_unavailable",
    "gateway_timeout",
    "hang",
    "reset",
    "slow_stream",
    "truncated_stream",
    "malformed_tool_call",
    "invalid_tool_args",
    "context_length_exceeded",
    "tool_truncated_json",
    "tool_trailing_text",
    "tool_wrong_type",
    "tool_missing_required",
    "tool_unknown_tool",
    "tool_extra_property",
};

// Used when tokens_per_second is 0, so that a slow stream is still slow.
constexpr Duration kSlowStreamBaseDelay = milliseconds(10);

}  // namespace

std::string_view to_string(Outcome outcome) { return kNames[static_cast<size_t>(outcome)]; }

std::optional<Outcome> parse_outcome(std::string_view name) {
  for (size_t i = 0; i < kOutcomeCount; ++i) {
    if (kNames[i] == name) {
      return static_cast<Outcome>(i);
    }
  }
  if (name == "429") {
    return Outcome::kRateLimited;
  }
  if (name == "500") {
    return Outcome::kServerError;
  }
  if (name == "502") {
    return Outcome::kBadGateway;
  }
  if (name == "503") {
    return Outcome::kServiceUnavailable;
  }
  if (name == "504") {
    return Outcome::kGatewayTimeout;
  }
  return std::nullopt;
}

std::span<const std::string_view> outcome_names() { return kNames; }

bool is_error_status(Outcome outcome) {
  switch (outcome) {
    case Outcome::kRateLimited:
    case Outcome::kInsufficientQuota:
    case Outcome::kServerError:
    case Outcome::kBadGateway:
    case Outcome::kServiceUnavailable:
    case Outcome::kGatewayTimeout:
    case Outcome::kContextLengthExceeded:
      return true;
    default:
      return false;
  }
}

Duration LatencySpec::at_z(double z) const {
  if (fixed()) {
    return median;
  }
  const double sigma = std::log(to_seconds(p99) / to_seconds(median)) / kZ99;
  return from_seconds(to_seconds(median) * std::exp(sigma * z));
}

Duration LatencySpec::sample(RandomSource& random) const {
  if (fixed()) {
    return median;
  }
  // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
  const double u1 = 1.0 - random.uniform01();
  const double u2 = random.uniform01();
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  return at_z(z);
}

Duration FaultProfile::token_delay(bool slow) const {
  Duration base = tokens_per_second > 0 ? from_seconds(1.0 / tokens_per_second) : Duration::zero();
  if (!slow) {
    return base;
  }
  if (base == Duration::zero()) {
    base = kSlowStreamBaseDelay;
  }
  return std::chrono::duration_cast<Duration>(base * slow_stream_factor);
}

const FaultProfile& MockConfig::profile_for(std::string_view model) const {
  const auto it = models.find(model);
  return it == models.end() ? defaults : it->second;
}

void set_default_fault_mix(FaultProfile& profile, double total_rate) {
  profile.rates.fill(0.0);
  const auto set = [&](Outcome outcome, double share) {
    profile.rates[static_cast<size_t>(outcome)] = total_rate * share;
  };
  set(Outcome::kRateLimited, 0.40);
  set(Outcome::kServerError, 0.15);
  set(Outcome::kServiceUnavailable, 0.15);
  set(Outcome::kBadGateway, 0.05);
  set(Outcome::kGatewayTimeout, 0.05);
  set(Outcome::kConnectionReset, 0.10);
  set(Outcome::kTruncatedStream, 0.05);
  set(Outcome::kSlowStream, 0.05);
}

}  // namespace sheepdog::mock
