#include "resilience/backoff.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <string>

namespace sheepdog {
namespace {

constexpr std::array<std::string_view, 5> kKindNames = {"constant", "linear", "exponential",
                                                        "fibonacci", "decorrelated_jitter"};
constexpr std::array<std::string_view, 4> kJitterNames = {"none", "full", "equal", "proportional"};

std::string describe(Duration d) {
  const auto ns = d.count();
  if (ns % 1000000 == 0) {
    return std::to_string(ns / 1000000) + "ms";
  }
  return std::to_string(ns) + "ns";
}

// Delays are computed in double nanoseconds: exact for every integer below 2^53 ns (104 days),
// and a product that would overflow Duration's int64 becomes a large double that the cap
// catches instead of wrapping around.
Duration capped(double ns, Duration max_delay) {
  if (!(ns > 0)) {  // also catches NaN
    return Duration::zero();
  }
  if (ns >= static_cast<double>(max_delay.count())) {
    return max_delay;
  }
  return Duration(static_cast<Duration::rep>(std::llround(ns)));
}

// fib(n) with fib(1) = fib(2) = 1, stopping early once base * fib exceeds `limit_ns` (the cap
// applies anyway, and fib(93) would overflow).
double fibonacci_factor(int n, double base_ns, double limit_ns) {
  double previous = 0;
  double current = 1;
  for (int i = 1; i < n && base_ns * current < limit_ns; ++i) {
    const double next = previous + current;
    previous = current;
    current = next;
  }
  return current;
}

}  // namespace

std::string_view to_string(BackoffKind kind) { return kKindNames[static_cast<size_t>(kind)]; }

std::string_view to_string(JitterMode mode) { return kJitterNames[static_cast<size_t>(mode)]; }

std::optional<BackoffKind> parse_backoff_kind(std::string_view name) {
  for (size_t i = 0; i < kKindNames.size(); ++i) {
    if (kKindNames[i] == name) {
      return static_cast<BackoffKind>(i);
    }
  }
  return std::nullopt;
}

std::optional<JitterMode> parse_jitter_mode(std::string_view name) {
  for (size_t i = 0; i < kJitterNames.size(); ++i) {
    if (kJitterNames[i] == name) {
      return static_cast<JitterMode>(i);
    }
  }
  return std::nullopt;
}

Status BackoffPolicy::validate() const {
  if (base_delay <= Duration::zero()) {
    return Status::error("base_delay must be > 0 (got " + describe(base_delay) + ")");
  }
  if (max_delay < base_delay) {
    return Status::error("max_delay must be >= base_delay (got " + describe(max_delay) + " < " +
                         describe(base_delay) + ")");
  }
  // Written so that NaN fails too.
  if (!(multiplier >= 1.0) || !std::isfinite(multiplier)) {
    return Status::error("multiplier must be a finite number >= 1 (got " +
                         std::to_string(multiplier) + ")");
  }
  if (!(jitter_fraction >= 0.0 && jitter_fraction <= 1.0)) {
    return Status::error("jitter_fraction must be in [0, 1] (got " +
                         std::to_string(jitter_fraction) + ")");
  }
  return Status::ok();
}

Backoff::Backoff(const BackoffPolicy& policy, RandomSource& random)
    : policy_(policy), random_(random), previous_(policy.base_delay) {}

Duration Backoff::nominal_delay(int retry) const {
  const int n = std::max(retry, 1);
  const double base_ns = static_cast<double>(policy_.base_delay.count());
  const double max_ns = static_cast<double>(policy_.max_delay.count());
  switch (policy_.kind) {
    case BackoffKind::kConstant:
      return capped(base_ns, policy_.max_delay);
    case BackoffKind::kLinear:
      return capped(base_ns * n, policy_.max_delay);
    case BackoffKind::kExponential:
      return capped(base_ns * std::pow(policy_.multiplier, n - 1), policy_.max_delay);
    case BackoffKind::kFibonacci:
      return capped(base_ns * fibonacci_factor(n, base_ns, max_ns), policy_.max_delay);
    case BackoffKind::kDecorrelatedJitter:
      return capped(base_ns * 3, policy_.max_delay);
  }
  return policy_.max_delay;
}

Duration Backoff::next_delay() {
  if (retries_ < INT_MAX) {
    ++retries_;
  }
  if (policy_.kind == BackoffKind::kDecorrelatedJitter) {
    // The upper bound grows from the previous (already capped) delay, so it stays below
    // 3 * max_delay and never overflows.
    const double base_ns = static_cast<double>(policy_.base_delay.count());
    const double upper_ns = static_cast<double>(previous_.count()) * 3;
    previous_ = capped(random_.uniform(base_ns, upper_ns), policy_.max_delay);
    return previous_;
  }

  const double d = static_cast<double>(nominal_delay(retries_).count());
  switch (policy_.jitter) {
    case JitterMode::kNone:
      return capped(d, policy_.max_delay);
    case JitterMode::kFull:
      return capped(random_.uniform(0, d), policy_.max_delay);
    case JitterMode::kEqual:
      return capped(d / 2 + random_.uniform(0, d / 2), policy_.max_delay);
    case JitterMode::kProportional: {
      const double f = policy_.jitter_fraction;
      return capped(d * random_.uniform(1 - f, 1 + f), policy_.max_delay);
    }
  }
  return capped(d, policy_.max_delay);
}

void Backoff::reset() {
  retries_ = 0;
  previous_ = policy_.base_delay;
}

}  // namespace sheepdog
