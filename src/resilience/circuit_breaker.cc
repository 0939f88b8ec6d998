#include "resilience/circuit_breaker.h"

#include <algorithm>
#include <string>
#include <utility>

namespace sheepdog {
namespace {

Status field_error(std::string_view field, std::string_view requirement) {
  return Status::error("circuit_breaker." + std::string(field) + " " + std::string(requirement));
}

// current * multiplier, computed in double nanoseconds so a large product cannot overflow the
// integer representation before the cap applies.
Duration grow(Duration current, double multiplier, Duration cap) {
  const double grown = static_cast<double>(current.count()) * multiplier;
  if (grown >= static_cast<double>(cap.count())) {
    return cap;
  }
  return Duration(static_cast<Duration::rep>(grown));
}

}  // namespace

std::string_view to_string(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

std::array<bool, kErrorKindCount> CircuitBreakerPolicy::default_failure_kinds() {
  std::array<bool, kErrorKindCount> kinds{};
  for (ErrorKind kind :
       {ErrorKind::kRateLimited, ErrorKind::kQuotaExhausted, ErrorKind::kOverloaded,
        ErrorKind::kServerError, ErrorKind::kTimeout, ErrorKind::kConnectFailed,
        ErrorKind::kConnectionReset, ErrorKind::kMalformedResponse, ErrorKind::kAuth}) {
    kinds[static_cast<size_t>(kind)] = true;
  }
  return kinds;
}

Status CircuitBreakerPolicy::validate() const {
  if (consecutive_failures < 0) {
    return field_error("consecutive_failures", "must be >= 0 (0 disables it)");
  }
  // Written as !(in range) so that NaN is rejected too.
  if (!(failure_rate_threshold >= 0.0 && failure_rate_threshold <= 1.0)) {
    return field_error("failure_rate_threshold", "must be in (0, 1], or 0 to disable it");
  }
  if (consecutive_failures == 0 && failure_rate_threshold == 0.0) {
    return field_error("consecutive_failures",
                       "and failure_rate_threshold are both 0: the breaker could never trip "
                       "(set enabled: false instead)");
  }
  if (failure_rate_threshold > 0.0) {
    if (minimum_calls < 1) {
      return field_error("minimum_calls", "must be >= 1");
    }
    if (window == BreakerWindow::kCount) {
      if (window_size < 1) {
        return field_error("window_size", "must be >= 1");
      }
      if (minimum_calls > window_size) {
        return field_error("minimum_calls",
                           "must be <= window_size, else the failure rate never trips");
      }
    } else if (window_duration <= Duration::zero()) {
      return field_error("window_duration", "must be > 0");
    }
  }
  if (open_duration <= Duration::zero()) {
    return field_error("open_duration", "must be > 0");
  }
  if (!(open_duration_multiplier >= 1.0)) {
    return field_error("open_duration_multiplier", "must be >= 1");
  }
  if (max_open_duration < open_duration) {
    return field_error("max_open_duration", "must be >= open_duration");
  }
  if (half_open_max_probes < 1) {
    return field_error("half_open_max_probes", "must be >= 1");
  }
  if (half_open_successes < 1) {
    return field_error("half_open_successes", "must be >= 1");
  }
  return Status::ok();
}

CircuitBreaker::CircuitBreaker(const CircuitBreakerPolicy& policy)
    : policy_(policy), current_open_duration_(policy.open_duration) {}

bool CircuitBreaker::try_acquire(TimePoint now) {
  if (!policy_.enabled) {
    return true;
  }
  std::lock_guard lock(mu_);
  if (state_ == BreakerState::kOpen) {
    if (now < open_until_) {
      return false;
    }
    transition(BreakerState::kHalfOpen, now);
  }
  if (state_ == BreakerState::kHalfOpen) {
    if (probes_in_flight_ >= policy_.half_open_max_probes) {
      return false;
    }
    ++probes_in_flight_;
  }
  ++in_flight_;
  return true;
}

void CircuitBreaker::record(const AttemptOutcome& outcome, TimePoint now) {
  const bool failure =
      !outcome.succeeded() && policy_.failure_kinds[static_cast<size_t>(*outcome.error)];
  settle(failure, outcome.succeeded() || failure, now);
}

void CircuitBreaker::release(TimePoint now) { settle(false, false, now); }

void CircuitBreaker::settle(bool failure, bool counted, TimePoint now) {
  if (!policy_.enabled) {
    return;
  }
  std::lock_guard lock(mu_);
  in_flight_ = std::max(0, in_flight_ - 1);

  switch (state_) {
    case BreakerState::kOpen:
      return;
    case BreakerState::kHalfOpen:
      // Match the record to a call from before this half-open first (see the header).
      if (stale_in_flight_ > 0) {
        --stale_in_flight_;
      } else if (probes_in_flight_ > 0) {
        --probes_in_flight_;
      }
      if (failure) {
        trip(now);
      } else if (counted && ++probe_successes_ >= policy_.half_open_successes) {
        transition(BreakerState::kClosed, now);
      }
      return;
    case BreakerState::kClosed:
      if (!counted) {
        return;
      }
      consecutive_failures_ = failure ? consecutive_failures_ + 1 : 0;
      add_to_window(failure, now);
      // The rate is checked after successes too: the success that brings the window up to
      // minimum_calls can be the call that reveals a rate over the threshold.
      if ((policy_.consecutive_failures > 0 &&
           consecutive_failures_ >= policy_.consecutive_failures) ||
          window_trips(now)) {
        trip(now);
      }
      return;
  }
}

BreakerState CircuitBreaker::state(TimePoint now) const {
  if (!policy_.enabled) {
    return BreakerState::kClosed;
  }
  std::lock_guard lock(mu_);
  if (state_ == BreakerState::kOpen && now >= open_until_) {
    return BreakerState::kHalfOpen;
  }
  return state_;
}

TimePoint CircuitBreaker::open_until() const {
  std::lock_guard lock(mu_);
  return open_until_;
}

int CircuitBreaker::trips() const {
  std::lock_guard lock(mu_);
  return trips_;
}

void CircuitBreaker::set_listener(Listener listener) {
  std::lock_guard lock(mu_);
  listener_ = std::move(listener);
}

void CircuitBreaker::transition(BreakerState to, TimePoint now) {
  const BreakerState from = state_;
  if (from == to) {
    return;
  }
  state_ = to;
  switch (to) {
    case BreakerState::kClosed:
      current_open_duration_ = policy_.open_duration;
      consecutive_failures_ = 0;
      window_.clear();
      window_failures_ = 0;
      break;
    case BreakerState::kHalfOpen:
      stale_in_flight_ = in_flight_;
      probes_in_flight_ = 0;
      probe_successes_ = 0;
      break;
    case BreakerState::kOpen:
      break;
  }
  if (listener_) {
    listener_(from, to, now);
  }
}

void CircuitBreaker::trip(TimePoint now) {
  if (state_ == BreakerState::kHalfOpen) {
    current_open_duration_ =
        grow(current_open_duration_, policy_.open_duration_multiplier, policy_.max_open_duration);
  } else {
    current_open_duration_ = policy_.open_duration;
  }
  open_until_ = now + current_open_duration_;
  ++trips_;
  consecutive_failures_ = 0;
  window_.clear();
  window_failures_ = 0;
  transition(BreakerState::kOpen, now);
}

bool CircuitBreaker::window_trips(TimePoint now) {
  if (policy_.failure_rate_threshold <= 0.0) {
    return false;
  }
  if (policy_.window == BreakerWindow::kTime) {
    expire(now);
  }
  const auto calls = static_cast<int>(window_.size());
  if (calls == 0 || calls < policy_.minimum_calls) {
    return false;
  }
  // Division, not threshold * calls: a / b rounds to the same double as the threshold literal
  // when the two are equal as rationals (3 / 10 == 0.3, but 0.3 * 10 > 3).
  return static_cast<double>(window_failures_) / calls >= policy_.failure_rate_threshold;
}

void CircuitBreaker::add_to_window(bool failure, TimePoint now) {
  if (policy_.failure_rate_threshold <= 0.0) {
    return;  // no rate trigger: keep no window
  }
  window_.push_back(Call{now, failure});
  window_failures_ += failure ? 1 : 0;
  if (policy_.window == BreakerWindow::kCount) {
    while (static_cast<int>(window_.size()) > policy_.window_size) {
      window_failures_ -= window_.front().failure ? 1 : 0;
      window_.pop_front();
    }
  }
  // A time window is trimmed by window_trips(), which follows every add.
}

void CircuitBreaker::expire(TimePoint now) {
  while (!window_.empty() && window_.front().at <= now - policy_.window_duration) {
    window_failures_ -= window_.front().failure ? 1 : 0;
    window_.pop_front();
  }
}

}  // namespace sheepdog
