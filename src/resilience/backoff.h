// Backoff: how long to wait before retry number n. An immutable BackoffPolicy (validated at
// config load) and a per-request Backoff that holds the little state some formulas need.
//
// Formulas (n = 1 for the first retry; d is then capped at max_delay and jittered):
//   constant:    d = base
//   linear:      d = base * n
//   exponential: d = base * multiplier^(n-1)
//   fibonacci:   d = base * fib(n), fib = 1, 1, 2, 3, 5, ...
//   decorrelated jitter (AWS, "Exponential Backoff and Jitter", 2015):
//                d = min(cap, uniform(base, previous * 3)), previous starts at base and then
//                is the last (capped) d; it is its own jitter, so the jitter mode is ignored.
// Jitter (same source):
//   none:         d
//   full:         uniform(0, d)
//   equal:        d/2 + uniform(0, d/2)
//   proportional: d * uniform(1 - f, 1 + f), then capped again
// Every delay is within [0, max_delay], rounded to the nearest nanosecond. Jitter draws exactly
// one value from the RandomSource per next_delay() call (none for JitterMode::kNone).
#pragma once

#include <optional>
#include <string_view>

#include "core/clock.h"
#include "core/random.h"
#include "core/status.h"

namespace sheepdog {

enum class BackoffKind : unsigned char {
  kConstant,
  kLinear,
  kExponential,
  kFibonacci,
  kDecorrelatedJitter
};
enum class JitterMode : unsigned char { kNone, kFull, kEqual, kProportional };

std::string_view to_string(BackoffKind kind);  // "constant", ..., "decorrelated_jitter"
std::string_view to_string(JitterMode mode);   // "none", "full", "equal", "proportional"
std::optional<BackoffKind> parse_backoff_kind(std::string_view name);
std::optional<JitterMode> parse_jitter_mode(std::string_view name);

struct BackoffPolicy {
  BackoffKind kind = BackoffKind::kExponential;
  Duration base_delay = milliseconds(500);
  Duration max_delay = seconds(8);  // the cap, for every kind
  double multiplier = 2.0;          // exponential only
  JitterMode jitter = JitterMode::kFull;
  double jitter_fraction = 0.2;  // proportional only, in [0, 1]

  // Ok iff base_delay > 0, max_delay >= base_delay, multiplier >= 1 (finite), jitter_fraction
  // in [0, 1]. The message names the offending field.
  Status validate() const;
};

// Per-request backoff state. Not thread-safe; cheap to construct.
class Backoff {
 public:
  // `policy` and `random` must outlive this object.
  Backoff(const BackoffPolicy& policy, RandomSource& random);

  // The delay before the next retry; the first call is for retry 1. Within [0, max_delay].
  // REQUIRES: the policy is valid.
  Duration next_delay();
  // The un-jittered, capped delay for retry n >= 1 (for docs, tests and reports). For
  // decorrelated jitter, the upper bound of the draw given `previous == base`.
  Duration nominal_delay(int retry) const;
  // Back to the state before the first retry.
  void reset();
  int retries() const { return retries_; }

 private:
  const BackoffPolicy& policy_;
  RandomSource& random_;
  int retries_ = 0;
  Duration previous_;  // decorrelated jitter's memory
};

}  // namespace sheepdog
