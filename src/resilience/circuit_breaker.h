// A circuit breaker per deployment: closed -> open -> half-open -> closed.
//
// Closed: calls flow; it trips to open on `consecutive_failures` failures in a row, or when the
// failure rate over a sliding window (the last `window_size` calls, or the calls of the last
// `window_duration`) reaches `failure_rate_threshold` once `minimum_calls` are in the window.
// Open: calls are refused until `open_duration` has passed; each successive trip without a full
// recovery multiplies it by `open_duration_multiplier`, up to `max_open_duration`.
// Half-open: at most `half_open_max_probes` calls are admitted at once; `half_open_successes`
// successes close the breaker (and reset the open duration), any failure reopens it.
//
// Only kinds in `failure_kinds` count as failures; other failures (a client's 400, a cancelled
// call) are neither success nor failure (in half-open they still free their probe slot). A
// disabled policy admits every call and never trips. Time is passed in. Thread-safe.
//
// Precise rules, where the summary above leaves room:
//   - The failure-rate trigger fires when failures / calls >= failure_rate_threshold, with
//     calls >= minimum_calls, over the window: the last `window_size` counted calls (kCount) or
//     the counted calls recorded in (now - window_duration, now] (kTime), checked after every
//     counted record (a success that completes minimum_calls can trip it). The window and the
//     consecutive count start empty whenever the breaker closes or trips.
//   - The first trip opens for open_duration; each reopening from half-open multiplies the
//     previous duration by open_duration_multiplier, capped at max_open_duration; closing resets
//     it to open_duration.
//   - record() while open is ignored (the call was admitted before the trip).
//   - Calls admitted before half-open began may still record() during it, and record() cannot
//     tell them from probes. Their outcomes count like a probe's, but their records are matched
//     to them first, so a probe slot is freed only once every earlier call has recorded: the
//     number of probes truly in flight never exceeds half_open_max_probes.
#pragma once

#include <array>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>

#include "core/clock.h"
#include "core/error_kind.h"
#include "core/status.h"
#include "resilience/outcome.h"

namespace sheepdog {

enum class BreakerState : unsigned char { kClosed, kOpen, kHalfOpen };
std::string_view to_string(BreakerState state);  // "closed", "open", "half_open"

enum class BreakerWindow : unsigned char { kCount, kTime };

struct CircuitBreakerPolicy {
  bool enabled = true;
  int consecutive_failures = 5;         // 0 disables this trigger
  double failure_rate_threshold = 0.5;  // in (0, 1]; 0 disables this trigger
  BreakerWindow window = BreakerWindow::kCount;
  int window_size = 20;                    // calls, for kCount
  Duration window_duration = seconds(30);  // for kTime
  int minimum_calls = 10;
  Duration open_duration = seconds(5);
  double open_duration_multiplier = 2.0;  // >= 1
  Duration max_open_duration = seconds(60);
  int half_open_max_probes = 1;  // >= 1
  int half_open_successes = 1;   // >= 1
  // Indexed by ErrorKind. Default: rate_limited, quota_exhausted, overloaded, server_error,
  // timeout, connect_failed, connection_reset, malformed_response, auth.
  std::array<bool, kErrorKindCount> failure_kinds = default_failure_kinds();

  static std::array<bool, kErrorKindCount> default_failure_kinds();
  // Ok iff every field is in its range above, at least one trigger is on, minimum_calls >= 1
  // (and <= window_size for kCount, else the rate trigger could never fire), window_duration > 0
  // for kTime, 0 < open_duration <= max_open_duration. The message names the offending field.
  // Checked even when disabled, so a config error never hides behind `enabled: false`.
  Status validate() const;
};

class CircuitBreaker {
 public:
  using Listener = std::function<void(BreakerState from, BreakerState to, TimePoint at)>;

  // REQUIRES: policy.validate() is ok.
  explicit CircuitBreaker(const CircuitBreakerPolicy& policy);

  // Admission. True iff a call may go now; in half-open this takes a probe slot. Every admitted
  // call must be followed by exactly one record(). Open turns half-open here, lazily, once
  // open_duration has passed.
  bool try_acquire(TimePoint now);
  // The result of an admitted call.
  void record(const AttemptOutcome& outcome, TimePoint now);
  // Ends an admitted call with no verdict on the upstream's health: the client went away, the
  // call was never made (no key had room), or its key was refused. Frees the call's slot (a
  // half-open probe) and counts as neither success nor failure, whatever failure_kinds says.
  void release(TimePoint now);

  // The state at `now` (an open breaker whose time is up reports half-open).
  BreakerState state(TimePoint now) const;
  // When an open breaker will admit probes; meaningful only while open.
  TimePoint open_until() const;
  int trips() const;
  // Called on every transition, under the breaker's lock: keep it short, never call back in.
  void set_listener(Listener listener);

 private:
  void settle(bool failure, bool counted, TimePoint now);
  void transition(BreakerState to, TimePoint now);  // REQUIRES: mu_ held
  void trip(TimePoint now);                         // REQUIRES: mu_ held
  bool window_trips(TimePoint now);                 // REQUIRES: mu_ held
  void add_to_window(bool failure, TimePoint now);  // REQUIRES: mu_ held
  void expire(TimePoint now);  // drops calls older than the time window; REQUIRES: mu_ held

  const CircuitBreakerPolicy policy_;
  mutable std::mutex mu_;
  BreakerState state_ = BreakerState::kClosed;
  int consecutive_failures_ = 0;
  struct Call {
    TimePoint at;
    bool failure;
  };
  std::deque<Call> window_;
  int window_failures_ = 0;
  TimePoint open_until_{};
  Duration current_open_duration_;
  int in_flight_ = 0;         // admitted, not yet recorded, in every state
  int stale_in_flight_ = 0;   // of those, admitted before the current half-open began
  int probes_in_flight_ = 0;  // upper bound on the probes of this half-open still in flight
  int probe_successes_ = 0;
  int trips_ = 0;
  Listener listener_;
};

}  // namespace sheepdog
