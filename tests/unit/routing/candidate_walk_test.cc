// CandidateWalk: the walk over one alias's deployments as attempts fail, with breakers that
// trip after one failure so that a test controls them exactly on a manual clock.
#include "routing/candidate_walk.h"

#include <gtest/gtest.h>

#include <deque>

#include "core/clock.h"

namespace sheepdog {
namespace {

using Want = CandidateWalk::Want;

CircuitBreakerPolicy one_failure_trips() {
  CircuitBreakerPolicy policy;
  policy.consecutive_failures = 1;
  policy.open_duration = seconds(1);
  return policy;
}

class CandidateWalkTest : public ::testing::Test {
 protected:
  CandidateWalkTest() {
    for (int i = 0; i < 3; ++i) {
      breakers_.emplace_back(one_failure_trips());
      alias_.targets.push_back(LoopTarget{&breakers_.back(), nullptr, nullptr});
    }
  }
  const LoopAlias& alias() { return alias_; }
  CircuitBreaker& breaker(size_t i) { return breakers_[i]; }
  // Trips deployment i's breaker now (one admitted call that fails).
  void trip(size_t i) {
    ASSERT_TRUE(breaker(i).try_acquire(clock_.now()));
    breaker(i).record(AttemptOutcome::failure(ErrorKind::kServerError), clock_.now());
    ASSERT_EQ(breaker(i).state(clock_.now()), BreakerState::kOpen);
  }
  // Ends an admitted call on i without a verdict, freeing any probe slot.
  void release(size_t i) { breaker(i).release(clock_.now()); }

  ManualClock clock_{TimePoint{} + seconds(100)};
  std::deque<CircuitBreaker> breakers_;
  LoopAlias alias_;
};

TEST_F(CandidateWalkTest, WalksUntriedThenTriedCyclically) {
  CandidateWalk picker(alias(), {0, 1, 2});
  const TimePoint now = clock_.now();
  EXPECT_EQ(picker.acquire(Want::kFirst, now), 0u);
  release(0);
  EXPECT_EQ(picker.acquire(Want::kNext, now), 1u);
  release(1);
  EXPECT_EQ(picker.acquire(Want::kSame, now), 1u);
  release(1);
  EXPECT_EQ(picker.acquire(Want::kNext, now), 2u);
  release(2);
  // All tried: cyclically after the current one (2), so 0, then 1.
  EXPECT_EQ(picker.acquire(Want::kNext, now), 0u);
  release(0);
  EXPECT_EQ(picker.acquire(Want::kNext, now), 1u);
  release(1);
}

TEST_F(CandidateWalkTest, FollowsTheRoutersOrder) {
  CandidateWalk picker(alias(), {2, 0, 1});
  EXPECT_EQ(picker.acquire(Want::kFirst, clock_.now()), 2u);
  release(2);
  EXPECT_EQ(picker.acquire(Want::kNext, clock_.now()), 0u);
  release(0);
}

TEST_F(CandidateWalkTest, SkipsOpenBreakersAndExcludedDeployments) {
  trip(0);
  CandidateWalk picker(alias(), {0, 1, 2});
  EXPECT_EQ(picker.acquire(Want::kFirst, clock_.now()), 1u);
  release(1);
  picker.exclude(1);
  // "Same" on an excluded deployment moves on.
  EXPECT_EQ(picker.acquire(Want::kSame, clock_.now()), 2u);
  release(2);
  EXPECT_FALSE(picker.has_alternative(clock_.now()));  // 0 open, 1 excluded
  trip(2);
  EXPECT_EQ(picker.acquire(Want::kNext, clock_.now()), std::nullopt);
}

TEST_F(CandidateWalkTest, HasAlternativeIgnoresTheCurrentDeployment) {
  CandidateWalk picker(alias(), {0, 1});
  EXPECT_EQ(picker.acquire(Want::kFirst, clock_.now()), 0u);
  release(0);
  EXPECT_TRUE(picker.has_alternative(clock_.now()));
  trip(1);
  EXPECT_FALSE(picker.has_alternative(clock_.now()));
  clock_.advance(seconds(1));  // 1 half-opens: it may take a probe again
  EXPECT_TRUE(picker.has_alternative(clock_.now()));
}

TEST_F(CandidateWalkTest, EarliestReopenIsTheFirstBreakerToHalfOpen) {
  CandidateWalk picker(alias(), {0, 1, 2});
  EXPECT_EQ(picker.earliest_reopen(clock_.now()), std::nullopt);
  const TimePoint first = clock_.now();
  trip(1);
  clock_.advance(milliseconds(300));
  trip(0);
  EXPECT_EQ(picker.earliest_reopen(clock_.now()), first + seconds(1));
  clock_.advance(milliseconds(700));  // 1 is half-open now; 0 still open
  EXPECT_EQ(picker.earliest_reopen(clock_.now()), first + milliseconds(1300));
}

TEST_F(CandidateWalkTest, HalfOpenBreakerAdmitsOneProbe) {
  trip(0);
  trip(1);
  trip(2);
  clock_.advance(seconds(1));
  CandidateWalk picker(alias(), {0, 1, 2});
  EXPECT_EQ(picker.acquire(Want::kFirst, clock_.now()), 0u);  // 0's probe
  CandidateWalk other(alias(), {0, 1, 2});
  EXPECT_EQ(other.acquire(Want::kFirst, clock_.now()), 1u);  // 0's probe slot is taken
  release(0);
  release(1);
}

}  // namespace
}  // namespace sheepdog
