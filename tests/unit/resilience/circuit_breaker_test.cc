#include "resilience/circuit_breaker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/random.h"

namespace sheepdog {
namespace {

TimePoint at_ms(int64_t ms) { return TimePoint{} + milliseconds(ms); }

const AttemptOutcome kSuccess = AttemptOutcome::success();
const AttemptOutcome kFailure = AttemptOutcome::failure(ErrorKind::kServerError);
const AttemptOutcome kNeutral = AttemptOutcome::failure(ErrorKind::kBadRequest);

// Only the consecutive trigger, so sequences are easy to reason about.
CircuitBreakerPolicy consecutive_policy(int failures) {
  CircuitBreakerPolicy policy;
  policy.consecutive_failures = failures;
  policy.failure_rate_threshold = 0;
  return policy;
}

// Admits and records one call; the call must be admitted.
void call(CircuitBreaker& breaker, const AttemptOutcome& outcome, TimePoint now) {
  ASSERT_TRUE(breaker.try_acquire(now));
  breaker.record(outcome, now);
}

struct Transition {
  BreakerState from;
  BreakerState to;
  TimePoint at;
  bool operator==(const Transition&) const = default;
};

TEST(CircuitBreakerPolicyTest, DefaultsAreValid) {
  EXPECT_TRUE(CircuitBreakerPolicy{}.validate().is_ok());
}

TEST(CircuitBreakerPolicyTest, DefaultFailureKindsAreExactlyTheUpstreamFaults) {
  const auto kinds = CircuitBreakerPolicy::default_failure_kinds();
  std::vector<std::string_view> counted;
  for (ErrorKind kind : all_error_kinds()) {
    if (kinds[static_cast<size_t>(kind)]) {
      counted.push_back(to_string(kind));
    }
  }
  EXPECT_EQ(counted, (std::vector<std::string_view>{
                         "rate_limited", "quota_exhausted", "overloaded", "server_error", "timeout",
                         "connect_failed", "connection_reset", "auth", "malformed_response"}));
  EXPECT_EQ(CircuitBreakerPolicy{}.failure_kinds, kinds);
}

TEST(CircuitBreakerPolicyTest, ValidateNamesTheOffendingField) {
  struct Case {
    void (*mutate)(CircuitBreakerPolicy&);
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](CircuitBreakerPolicy& p) { p.consecutive_failures = -1; }, "consecutive_failures"},
      {[](CircuitBreakerPolicy& p) { p.failure_rate_threshold = 1.5; }, "failure_rate_threshold"},
      {[](CircuitBreakerPolicy& p) { p.failure_rate_threshold = -0.1; }, "failure_rate_threshold"},
      {[](CircuitBreakerPolicy& p) {
         p.consecutive_failures = 0;
         p.failure_rate_threshold = 0;
       },
       "failure_rate_threshold"},
      {[](CircuitBreakerPolicy& p) { p.window_size = 0; }, "window_size"},
      {[](CircuitBreakerPolicy& p) { p.minimum_calls = 0; }, "minimum_calls"},
      {[](CircuitBreakerPolicy& p) { p.minimum_calls = 21; }, "minimum_calls"},
      {[](CircuitBreakerPolicy& p) {
         p.window = BreakerWindow::kTime;
         p.window_duration = Duration::zero();
       },
       "window_duration"},
      {[](CircuitBreakerPolicy& p) { p.open_duration = Duration::zero(); }, "open_duration"},
      {[](CircuitBreakerPolicy& p) { p.open_duration_multiplier = 0.5; },
       "open_duration_multiplier"},
      {[](CircuitBreakerPolicy& p) { p.max_open_duration = seconds(1); }, "max_open_duration"},
      {[](CircuitBreakerPolicy& p) { p.half_open_max_probes = 0; }, "half_open_max_probes"},
      {[](CircuitBreakerPolicy& p) { p.half_open_successes = 0; }, "half_open_successes"},
      {[](CircuitBreakerPolicy& p) {
         p.enabled = false;
         p.half_open_successes = 0;
       },
       "half_open_successes"},
  };
  for (const Case& c : cases) {
    CircuitBreakerPolicy policy;
    c.mutate(policy);
    const Status status = policy.validate();
    EXPECT_FALSE(status.is_ok()) << c.field;
    EXPECT_NE(status.message().find(c.field), std::string::npos) << status.message();
  }
}

TEST(CircuitBreakerPolicyTest, WindowFieldsOfTheUnusedWindowAreNotChecked) {
  CircuitBreakerPolicy policy;
  policy.window = BreakerWindow::kTime;
  policy.window_size = 0;
  policy.minimum_calls = 50;
  EXPECT_TRUE(policy.validate().is_ok());
  policy = consecutive_policy(3);
  policy.window_size = 0;
  EXPECT_TRUE(policy.validate().is_ok());
}

TEST(CircuitBreakerTest, StateNames) {
  EXPECT_EQ(to_string(BreakerState::kClosed), "closed");
  EXPECT_EQ(to_string(BreakerState::kOpen), "open");
  EXPECT_EQ(to_string(BreakerState::kHalfOpen), "half_open");
}

TEST(CircuitBreakerTest, ConsecutiveFailuresTripAndASuccessResetsTheCount) {
  CircuitBreaker breaker(consecutive_policy(3));
  call(breaker, kFailure, at_ms(0));
  call(breaker, kFailure, at_ms(1));
  call(breaker, kSuccess, at_ms(2));
  call(breaker, kFailure, at_ms(3));
  call(breaker, kFailure, at_ms(4));
  EXPECT_EQ(breaker.state(at_ms(4)), BreakerState::kClosed);
  call(breaker, kFailure, at_ms(5));
  EXPECT_EQ(breaker.state(at_ms(5)), BreakerState::kOpen);
  EXPECT_EQ(breaker.trips(), 1);
  EXPECT_EQ(breaker.open_until(), at_ms(5) + seconds(5));
}

TEST(CircuitBreakerTest, OpenRefusesUntilOpenUntilThenAdmitsOneProbe) {
  CircuitBreaker breaker(consecutive_policy(1));
  call(breaker, kFailure, at_ms(0));
  const TimePoint until = breaker.open_until();
  ASSERT_EQ(until, at_ms(5000));
  EXPECT_FALSE(breaker.try_acquire(until - nanoseconds(1)));
  EXPECT_EQ(breaker.state(until - nanoseconds(1)), BreakerState::kOpen);
  EXPECT_EQ(breaker.state(until), BreakerState::kHalfOpen);
  EXPECT_TRUE(breaker.try_acquire(until));
  EXPECT_FALSE(breaker.try_acquire(until));  // one probe at a time by default
  breaker.record(kSuccess, until + milliseconds(10));
  EXPECT_EQ(breaker.state(until + milliseconds(10)), BreakerState::kClosed);
  EXPECT_TRUE(breaker.try_acquire(until + milliseconds(10)));
  EXPECT_TRUE(breaker.try_acquire(until + milliseconds(10)));
}

TEST(CircuitBreakerTest, HalfOpenAdmitsKProbesAndNeedsNSuccesses) {
  CircuitBreakerPolicy policy = consecutive_policy(1);
  policy.half_open_max_probes = 2;
  policy.half_open_successes = 3;
  CircuitBreaker breaker(policy);
  call(breaker, kFailure, at_ms(0));
  const TimePoint t = breaker.open_until();
  EXPECT_TRUE(breaker.try_acquire(t));
  EXPECT_TRUE(breaker.try_acquire(t));
  EXPECT_FALSE(breaker.try_acquire(t));
  breaker.record(kSuccess, t);
  EXPECT_EQ(breaker.state(t), BreakerState::kHalfOpen);
  EXPECT_TRUE(breaker.try_acquire(t));  // the slot came back
  EXPECT_FALSE(breaker.try_acquire(t));
  breaker.record(kSuccess, t);
  EXPECT_EQ(breaker.state(t), BreakerState::kHalfOpen);
  breaker.record(kSuccess, t);
  EXPECT_EQ(breaker.state(t), BreakerState::kClosed);
  EXPECT_EQ(breaker.trips(), 1);
}

// release() is a call with no verdict: it frees a half-open probe slot, never closes or
// reopens, and in closed neither resets nor extends the consecutive count; even when the
// policy lists `cancelled` (config refuses that now), a released call is not a failure.
TEST(CircuitBreakerTest, AReleasedCallFreesItsSlotAndCountsForNothing) {
  CircuitBreakerPolicy policy = consecutive_policy(2);
  policy.failure_kinds[static_cast<size_t>(ErrorKind::kCancelled)] = true;
  policy.half_open_max_probes = 1;
  policy.half_open_successes = 1;
  CircuitBreaker breaker(policy);
  call(breaker, kFailure, at_ms(0));
  ASSERT_TRUE(breaker.try_acquire(at_ms(1)));
  breaker.release(at_ms(1));
  call(breaker, kFailure, at_ms(2));  // the second in a row: the release did not reset it
  EXPECT_EQ(breaker.state(at_ms(2)), BreakerState::kOpen);

  const TimePoint t = breaker.open_until();
  ASSERT_TRUE(breaker.try_acquire(t));
  EXPECT_FALSE(breaker.try_acquire(t));  // the one probe is out
  breaker.release(t);
  EXPECT_EQ(breaker.state(t), BreakerState::kHalfOpen);  // neither closed nor reopened
  ASSERT_TRUE(breaker.try_acquire(t));  // its slot came back
  breaker.record(kSuccess, t);
  EXPECT_EQ(breaker.state(t), BreakerState::kClosed);
  EXPECT_EQ(breaker.trips(), 1);
}

TEST(CircuitBreakerTest, AnyCountedFailureInHalfOpenReopens) {
  CircuitBreakerPolicy policy = consecutive_policy(1);
  policy.half_open_max_probes = 3;
  policy.half_open_successes = 3;
  CircuitBreaker breaker(policy);
  call(breaker, kFailure, at_ms(0));
  const TimePoint t = breaker.open_until();
  ASSERT_TRUE(breaker.try_acquire(t));
  ASSERT_TRUE(breaker.try_acquire(t));
  breaker.record(kSuccess, t);
  breaker.record(AttemptOutcome::failure(ErrorKind::kTimeout), t + seconds(1));
  EXPECT_EQ(breaker.state(t + seconds(1)), BreakerState::kOpen);
  EXPECT_EQ(breaker.trips(), 2);
  EXPECT_EQ(breaker.open_until(), t + seconds(1) + seconds(10));
}

TEST(CircuitBreakerTest, OpenDurationGrowsOnEachReopenIsCappedAndResetsOnClose) {
  CircuitBreakerPolicy policy = consecutive_policy(1);
  policy.open_duration = seconds(5);
  policy.open_duration_multiplier = 2.0;
  policy.max_open_duration = seconds(60);
  CircuitBreaker breaker(policy);
  call(breaker, kFailure, at_ms(0));
  std::vector<Duration> durations = {breaker.open_until() - at_ms(0)};
  for (int i = 0; i < 6; ++i) {
    const TimePoint t = breaker.open_until();
    call(breaker, kFailure, t);  // the probe fails: reopen
    durations.push_back(breaker.open_until() - t);
  }
  EXPECT_EQ(durations, (std::vector<Duration>{seconds(5), seconds(10), seconds(20), seconds(40),
                                              seconds(60), seconds(60), seconds(60)}));
  TimePoint t = breaker.open_until();
  call(breaker, kSuccess, t);
  ASSERT_EQ(breaker.state(t), BreakerState::kClosed);
  call(breaker, kFailure, t);
  EXPECT_EQ(breaker.open_until() - t, seconds(5));
  t = breaker.open_until();
  call(breaker, kFailure, t);
  EXPECT_EQ(breaker.open_until() - t, seconds(10));
  EXPECT_EQ(breaker.trips(), 9);
}

TEST(CircuitBreakerTest, FractionalMultiplierGrowsExactly) {
  CircuitBreakerPolicy policy = consecutive_policy(1);
  policy.open_duration = milliseconds(1000);
  policy.open_duration_multiplier = 1.5;
  policy.max_open_duration = milliseconds(3000);
  CircuitBreaker breaker(policy);
  call(breaker, kFailure, at_ms(0));
  std::vector<Duration> durations;
  for (int i = 0; i < 4; ++i) {
    const TimePoint t = breaker.open_until();
    call(breaker, kFailure, t);
    durations.push_back(breaker.open_until() - t);
  }
  EXPECT_EQ(durations, (std::vector<Duration>{milliseconds(1500), milliseconds(2250),
                                              milliseconds(3000), milliseconds(3000)}));
}

TEST(CircuitBreakerTest, KindsOutsideFailureKindsCountNeitherWay) {
  CircuitBreaker breaker(consecutive_policy(2));
  call(breaker, kFailure, at_ms(0));
  call(breaker, kNeutral, at_ms(1));  // does not reset the run either
  call(breaker, AttemptOutcome::failure(ErrorKind::kCancelled), at_ms(2));
  EXPECT_EQ(breaker.state(at_ms(2)), BreakerState::kClosed);
  call(breaker, kFailure, at_ms(3));
  EXPECT_EQ(breaker.state(at_ms(3)), BreakerState::kOpen);
}

TEST(CircuitBreakerTest, FailureKindsAreConfigurable) {
  CircuitBreakerPolicy policy = consecutive_policy(1);
  policy.failure_kinds[static_cast<size_t>(ErrorKind::kRateLimited)] = false;
  policy.failure_kinds[static_cast<size_t>(ErrorKind::kBadRequest)] = true;
  CircuitBreaker breaker(policy);
  call(breaker, AttemptOutcome::failure(ErrorKind::kRateLimited), at_ms(0));
  EXPECT_EQ(breaker.state(at_ms(0)), BreakerState::kClosed);
  call(breaker, AttemptOutcome::failure(ErrorKind::kBadRequest), at_ms(1));
  EXPECT_EQ(breaker.state(at_ms(1)), BreakerState::kOpen);
}

TEST(CircuitBreakerTest, NeutralOutcomeInHalfOpenFreesTheSlotOnly) {
  CircuitBreakerPolicy policy = consecutive_policy(1);
  policy.half_open_successes = 2;
  CircuitBreaker breaker(policy);
  call(breaker, kFailure, at_ms(0));
  const TimePoint t = breaker.open_until();
  call(breaker, kNeutral, t);
  EXPECT_EQ(breaker.state(t), BreakerState::kHalfOpen);
  call(breaker, kSuccess, t);
  call(breaker, kNeutral, t);
  EXPECT_EQ(breaker.state(t), BreakerState::kHalfOpen);
  call(breaker, kSuccess, t);
  EXPECT_EQ(breaker.state(t), BreakerState::kClosed);
}

TEST(CircuitBreakerTest, RecordWhileOpenIsIgnored) {
  CircuitBreaker breaker(consecutive_policy(1));
  ASSERT_TRUE(breaker.try_acquire(at_ms(0)));
  ASSERT_TRUE(breaker.try_acquire(at_ms(0)));
  ASSERT_TRUE(breaker.try_acquire(at_ms(0)));
  breaker.record(kFailure, at_ms(1));
  breaker.record(kSuccess, at_ms(2));
  breaker.record(kFailure, at_ms(3));
  EXPECT_EQ(breaker.state(at_ms(3)), BreakerState::kOpen);
  EXPECT_EQ(breaker.trips(), 1);
  EXPECT_EQ(breaker.open_until(), at_ms(5001));
}

TEST(CircuitBreakerTest, CallsFromBeforeHalfOpenNeverFreeAProbeSlot) {
  CircuitBreakerPolicy policy = consecutive_policy(1);
  policy.half_open_successes = 2;
  CircuitBreaker breaker(policy);
  ASSERT_TRUE(breaker.try_acquire(at_ms(0)));  // A
  ASSERT_TRUE(breaker.try_acquire(at_ms(0)));  // B, still running at the trip
  ASSERT_TRUE(breaker.try_acquire(at_ms(0)));  // C, likewise
  breaker.record(kFailure, at_ms(0));          // A trips the breaker
  const TimePoint t = breaker.open_until();
  ASSERT_TRUE(breaker.try_acquire(t));  // the probe
  breaker.record(kNeutral, t);          // B ends: its record must not free the probe's slot
  EXPECT_FALSE(breaker.try_acquire(t));
  breaker.record(kSuccess, t);  // C ends well: counts as evidence, still frees no slot
  EXPECT_EQ(breaker.state(t), BreakerState::kHalfOpen);
  EXPECT_FALSE(breaker.try_acquire(t));
  breaker.record(kSuccess, t);  // the probe: second success closes
  EXPECT_EQ(breaker.state(t), BreakerState::kClosed);
}

TEST(CircuitBreakerTest, CountWindowTripsOnRateOnceMinimumCallsAreIn) {
  CircuitBreakerPolicy policy;
  policy.consecutive_failures = 0;
  policy.failure_rate_threshold = 0.5;
  policy.window_size = 10;
  policy.minimum_calls = 5;
  CircuitBreaker breaker(policy);
  // 2 of 4 is 50%, but below minimum_calls; 2 of 5 is 40%; 3 of 6 is 50%.
  int ms = 0;
  for (const AttemptOutcome& o : {kSuccess, kFailure, kSuccess, kFailure, kSuccess}) {
    call(breaker, o, at_ms(ms++));
    EXPECT_EQ(breaker.state(at_ms(ms)), BreakerState::kClosed);
  }
  call(breaker, kFailure, at_ms(ms));
  EXPECT_EQ(breaker.state(at_ms(ms)), BreakerState::kOpen);
}

TEST(CircuitBreakerTest, CountWindowForgetsCallsBeyondWindowSize) {
  CircuitBreakerPolicy policy;
  policy.consecutive_failures = 0;
  policy.failure_rate_threshold = 0.5;
  policy.window_size = 4;
  policy.minimum_calls = 4;
  CircuitBreaker breaker(policy);
  // The first failure falls out of the window (F S S S -> S S S S); at the end F S S F is 50%.
  int ms = 0;
  for (const AttemptOutcome& o :
       {kFailure, kSuccess, kSuccess, kSuccess, kSuccess, kFailure, kSuccess, kSuccess}) {
    call(breaker, o, at_ms(ms++));
    EXPECT_EQ(breaker.state(at_ms(ms)), BreakerState::kClosed) << ms;
  }
  call(breaker, kFailure, at_ms(ms));
  EXPECT_EQ(breaker.state(at_ms(ms)), BreakerState::kOpen);
}

TEST(CircuitBreakerTest, ASuccessThatCompletesMinimumCallsCanTrip) {
  CircuitBreakerPolicy policy;
  policy.consecutive_failures = 0;
  policy.failure_rate_threshold = 0.3;  // 3 / 10 must count as reaching it
  policy.window_size = 10;
  policy.minimum_calls = 10;
  CircuitBreaker breaker(policy);
  for (int i = 0; i < 3; ++i) {
    call(breaker, kFailure, at_ms(i));
  }
  for (int i = 3; i < 9; ++i) {
    call(breaker, kSuccess, at_ms(i));
  }
  EXPECT_EQ(breaker.state(at_ms(9)), BreakerState::kClosed);
  call(breaker, kSuccess, at_ms(9));
  EXPECT_EQ(breaker.state(at_ms(9)), BreakerState::kOpen);
}

CircuitBreakerPolicy time_window_policy(Duration window, int minimum_calls) {
  CircuitBreakerPolicy policy;
  policy.consecutive_failures = 0;
  policy.failure_rate_threshold = 0.5;
  policy.window = BreakerWindow::kTime;
  policy.window_duration = window;
  policy.minimum_calls = minimum_calls;
  return policy;
}

TEST(CircuitBreakerTest, TimeWindowExpiresOldCalls) {
  CircuitBreaker breaker(time_window_policy(seconds(10), 4));
  call(breaker, kSuccess, at_ms(0));
  call(breaker, kSuccess, at_ms(1000));
  call(breaker, kFailure, at_ms(2000));
  // At 10.5 s the call at 0 has expired: 3 calls in the window, below minimum_calls (with it,
  // 2 of 4 would have tripped).
  call(breaker, kFailure, at_ms(10500));
  EXPECT_EQ(breaker.state(at_ms(10500)), BreakerState::kClosed);
  // At 11 s the call at exactly 1 s has expired too (the window is (now - 10 s, now]).
  call(breaker, kFailure, at_ms(11000));
  EXPECT_EQ(breaker.state(at_ms(11000)), BreakerState::kClosed);
  call(breaker, kFailure, at_ms(11500));
  EXPECT_EQ(breaker.state(at_ms(11500)), BreakerState::kOpen);
}

TEST(CircuitBreakerTest, TimeWindowBoundaryIsExclusiveOfItsStart) {
  CircuitBreaker inside(time_window_policy(seconds(10), 2));
  call(inside, kSuccess, at_ms(0));
  call(inside, kFailure, at_ms(10000) - nanoseconds(1));
  EXPECT_EQ(inside.state(at_ms(10000)), BreakerState::kOpen);

  CircuitBreaker outside(time_window_policy(seconds(10), 2));
  call(outside, kSuccess, at_ms(0));
  call(outside, kFailure, at_ms(10000));
  EXPECT_EQ(outside.state(at_ms(10000)), BreakerState::kClosed);
}

TEST(CircuitBreakerTest, ClosingStartsAFreshWindow) {
  CircuitBreakerPolicy policy;
  policy.consecutive_failures = 0;
  policy.window_size = 4;
  policy.minimum_calls = 4;
  CircuitBreaker breaker(policy);
  for (int i = 0; i < 4; ++i) {
    call(breaker, kFailure, at_ms(i));
  }
  ASSERT_EQ(breaker.state(at_ms(4)), BreakerState::kOpen);
  const TimePoint t = breaker.open_until();
  call(breaker, kSuccess, t);
  ASSERT_EQ(breaker.state(t), BreakerState::kClosed);
  // Three failures: only three calls in the fresh window, below minimum_calls.
  for (int i = 0; i < 3; ++i) {
    call(breaker, kFailure, t);
  }
  EXPECT_EQ(breaker.state(t), BreakerState::kClosed);
  call(breaker, kSuccess, t);  // 3 of 4
  EXPECT_EQ(breaker.state(t), BreakerState::kOpen);
}

TEST(CircuitBreakerTest, ListenerSeesEveryTransitionInOrder) {
  CircuitBreaker breaker(consecutive_policy(2));
  std::vector<Transition> seen;
  breaker.set_listener([&](BreakerState from, BreakerState to, TimePoint at) {
    seen.push_back({from, to, at});
  });
  call(breaker, kFailure, at_ms(0));
  call(breaker, kFailure, at_ms(100));                             // -> open until 5.1 s
  EXPECT_EQ(breaker.state(at_ms(6000)), BreakerState::kHalfOpen);  // a query is no transition
  ASSERT_EQ(seen.size(), 1u);
  call(breaker, kFailure, at_ms(6000));   // -> half-open, -> open until 16 s
  call(breaker, kSuccess, at_ms(20000));  // -> half-open, -> closed
  using S = BreakerState;
  EXPECT_EQ(seen, (std::vector<Transition>{{S::kClosed, S::kOpen, at_ms(100)},
                                           {S::kOpen, S::kHalfOpen, at_ms(6000)},
                                           {S::kHalfOpen, S::kOpen, at_ms(6000)},
                                           {S::kOpen, S::kHalfOpen, at_ms(20000)},
                                           {S::kHalfOpen, S::kClosed, at_ms(20000)}}));
}

TEST(CircuitBreakerTest, DisabledAdmitsEverythingAndNeverTrips) {
  CircuitBreakerPolicy policy = consecutive_policy(1);
  policy.enabled = false;
  CircuitBreaker breaker(policy);
  int transitions = 0;
  breaker.set_listener([&](BreakerState, BreakerState, TimePoint) { ++transitions; });
  for (int i = 0; i < 100; ++i) {
    call(breaker, kFailure, at_ms(i));
  }
  EXPECT_EQ(breaker.state(at_ms(100)), BreakerState::kClosed);
  EXPECT_EQ(breaker.trips(), 0);
  EXPECT_EQ(transitions, 0);
}

int64_t below(RandomSource& random, int64_t n) {
  return static_cast<int64_t>(random.next_u64() % n);
}

CircuitBreakerPolicy random_policy(RandomSource& random) {
  CircuitBreakerPolicy policy;
  policy.consecutive_failures = static_cast<int>(below(random, 6));  // 0 (off) .. 5
  policy.failure_rate_threshold =
      policy.consecutive_failures == 0 || random.chance(0.7) ? random.uniform(0.2, 1.0) : 0.0;
  policy.window = random.chance(0.5) ? BreakerWindow::kCount : BreakerWindow::kTime;
  policy.window_size = static_cast<int>(2 + below(random, 20));
  policy.minimum_calls = static_cast<int>(1 + below(random, policy.window_size));
  policy.window_duration = milliseconds(500 + below(random, 20000));
  policy.open_duration = milliseconds(100 + below(random, 5000));
  policy.open_duration_multiplier = random.uniform(1.0, 3.0);
  policy.max_open_duration = policy.open_duration * (1 + below(random, 20));
  policy.half_open_max_probes = static_cast<int>(1 + below(random, 3));
  policy.half_open_successes = static_cast<int>(1 + below(random, 3));
  return policy;
}

AttemptOutcome random_outcome(RandomSource& random) {
  if (random.chance(0.5)) {
    return kSuccess;
  }
  return AttemptOutcome::failure(all_error_kinds()[below(random, kErrorKindCount)]);
}

// Thousands of random interleavings of admissions, outcomes and time steps, with calls that
// outlive trips and half-open episodes, against the contract's invariants.
TEST(CircuitBreakerPropertyTest, RandomSequencesKeepTheInvariants) {
  using S = BreakerState;
  int probes_admitted = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    SeededRandom random(seed);
    const CircuitBreakerPolicy policy = random_policy(random);
    ASSERT_TRUE(policy.validate().is_ok()) << policy.validate().message();
    CircuitBreaker breaker(policy);
    std::vector<Transition> transitions;
    int episode = 0;  // half-open episodes begun so far
    breaker.set_listener([&](S from, S to, TimePoint at) {
      transitions.push_back({from, to, at});
      episode += to == S::kHalfOpen ? 1 : 0;
    });
    std::vector<int> in_flight;  // per admitted call: its half-open episode, or -1
    size_t checked = 0;
    Duration last_open = Duration::zero();
    int opens = 0;
    TimePoint now{};
    for (int step = 0; step < 2500; ++step) {
      if (random.chance(0.4)) {
        now += nanoseconds(below(random, 2 * policy.open_duration.count()));
      } else if (random.chance(0.1) && breaker.state(now) == S::kOpen) {
        now = breaker.open_until() - nanoseconds(below(random, 2));  // the boundary, exactly
      }
      if (in_flight.empty() || random.chance(0.5)) {
        const int attempts = static_cast<int>(1 + below(random, 4));  // concurrent callers
        for (int a = 0; a < attempts; ++a) {
          const S before = breaker.state(now);
          const TimePoint until = breaker.open_until();
          const bool admitted = breaker.try_acquire(now);
          if (before == S::kOpen) {
            ASSERT_FALSE(admitted);
            ASSERT_LT(now, until);
          }
          if (before == S::kClosed) {
            ASSERT_TRUE(admitted);
          }
          if (admitted) {
            const bool probe = breaker.state(now) == S::kHalfOpen;
            in_flight.push_back(probe ? episode : -1);
            probes_admitted += probe ? 1 : 0;
          }
          if (breaker.state(now) == S::kHalfOpen) {
            ASSERT_LE(std::count(in_flight.begin(), in_flight.end(), episode),
                      policy.half_open_max_probes);
          }
        }
      } else {
        const auto i = static_cast<size_t>(below(random, static_cast<int64_t>(in_flight.size())));
        in_flight.erase(in_flight.begin() + static_cast<std::ptrdiff_t>(i));
        breaker.record(random_outcome(random), now);
      }
      for (; checked < transitions.size(); ++checked) {
        const Transition& t = transitions[checked];
        const S previous = checked == 0 ? S::kClosed : transitions[checked - 1].to;
        ASSERT_EQ(t.from, previous);
        ASSERT_EQ(t.at, now);
        const bool legal = (t.from == S::kClosed && t.to == S::kOpen) ||
                           (t.from == S::kOpen && t.to == S::kHalfOpen) ||
                           (t.from == S::kHalfOpen && t.to != S::kHalfOpen);
        ASSERT_TRUE(legal) << to_string(t.from) << " -> " << to_string(t.to);
        if (t.to == S::kOpen) {
          ++opens;
          const Duration expected =
              t.from == S::kClosed
                  ? policy.open_duration
                  : std::min(
                        policy.max_open_duration,
                        Duration(static_cast<Duration::rep>(static_cast<double>(last_open.count()) *
                                                            policy.open_duration_multiplier)));
          ASSERT_EQ(breaker.open_until() - t.at, expected);
          ASSERT_GE(expected, policy.open_duration);
          ASSERT_LE(expected, policy.max_open_duration);
          last_open = expected;
        }
      }
      ASSERT_EQ(breaker.trips(), opens);
    }
  }
  EXPECT_GT(probes_admitted, 1000);  // the half-open paths were exercised, not skipped
}

// Four threads on one breaker at a fixed time: exactly one trip, then exactly one recovery.
TEST(CircuitBreakerThreadTest, ConcurrentCallersTripOnceAndRecoverOnce) {
  constexpr int kThreads = 4;
  constexpr int kIterations = 500;
  CircuitBreaker breaker(consecutive_policy(5));
  std::atomic<int> transitions{0};
  breaker.set_listener([&](BreakerState, BreakerState, TimePoint) { ++transitions; });
  std::atomic<int> admitted{0};
  auto hammer = [&](const AttemptOutcome& outcome, TimePoint now) {
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&] {
        for (int j = 0; j < kIterations; ++j) {
          if (breaker.try_acquire(now)) {
            ++admitted;
            breaker.record(outcome, now);
          }
        }
      });
    }
    for (std::thread& thread : threads) {
      thread.join();
    }
  };
  hammer(kFailure, at_ms(0));
  EXPECT_EQ(breaker.trips(), 1);
  EXPECT_EQ(breaker.state(at_ms(0)), BreakerState::kOpen);
  // Five failures trip it; at most one call per other thread was admitted before the trip.
  EXPECT_GE(admitted.load(), 5);
  EXPECT_LE(admitted.load(), 5 + kThreads - 1);

  admitted = 0;
  hammer(kSuccess, breaker.open_until());
  EXPECT_EQ(breaker.state(breaker.open_until()), BreakerState::kClosed);
  EXPECT_EQ(breaker.trips(), 1);
  EXPECT_EQ(transitions.load(), 3);
  EXPECT_GE(admitted.load(), kIterations);  // the probe's thread, at least, never waits
}

}  // namespace
}  // namespace sheepdog
