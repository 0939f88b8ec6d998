// Key rotation: which refusals of a provider key rest that key, for how long, and whether the
// attempt loop then retries at once with another key of the same deployment. A policy object,
// so the gateway and the simulator rotate alike and a simulation can turn rotation off.
//
//   rate_limited (429)        rests the key for the provider's Retry-After, or
//                             default_cool_down when it gave none;
//   quota_exhausted, auth     (an account out of credit; a revoked or mistyped key: 401/403)
//                             rest it for at least quota_cool_down, since neither comes back
//                             within a request's lifetime.
// A refused key is the key's problem, not the deployment's: such an attempt counts neither
// against the breaker nor against the retry budget (attempt_ledger.h). With `rotate`, when
// another key has room at once, the next attempt goes to the same deployment with it, without
// backoff; without it, the refusal is handled like any failure of its kind (next deployment,
// backoff), though the key still rests.
#pragma once

#include <optional>

#include "core/clock.h"
#include "core/error_kind.h"

namespace sheepdog {

struct KeyRotationPolicy {
  bool rotate = true;
  Duration default_cool_down = seconds(1);
  Duration quota_cool_down = seconds(60);

  // Whether a failure of `kind` rests the key it was made with.
  static bool rests_key(ErrorKind kind) {
    return kind == ErrorKind::kRateLimited || kind == ErrorKind::kQuotaExhausted ||
           kind == ErrorKind::kAuth;
  }

  // How long a key refused with `kind` rests; `pushback` is the provider's requested wait.
  // REQUIRES: rests_key(kind).
  Duration rest_for(ErrorKind kind, std::optional<Duration> pushback) const {
    const Duration asked = pushback.value_or(Duration::zero());
    if (kind == ErrorKind::kQuotaExhausted || kind == ErrorKind::kAuth) {
      return asked > quota_cool_down ? asked : quota_cool_down;
    }
    return asked > Duration::zero() ? asked : default_cool_down;
  }
};

}  // namespace sheepdog
