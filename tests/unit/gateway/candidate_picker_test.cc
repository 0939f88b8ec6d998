// CandidatePicker: the walk over one alias's deployments as attempts fail, with breakers that
// trip after one failure so that a test controls them exactly on a manual clock.
#include "gateway/candidate_picker.h"

#include <gtest/gtest.h>

#include "runtime_fixture.h"

namespace sheepdog::gateway {
namespace {

using Want = CandidatePicker::Want;

constexpr std::string_view kYaml = R"(
providers:
  p: {kind: openai, base_url: "http://127.0.0.1:1/v1"}
policies:
  default:
    circuit_breaker: {consecutive_failures: 1, open_duration: 1s}
models:
  m:
    deployments:
      - {provider: p, model: a}
      - {provider: p, model: b}
      - {provider: p, model: c}
)";

class CandidatePickerTest : public ::testing::Test {
 protected:
  CandidatePickerTest() {
    RuntimeOptions options;
    options.ordered_aliases = {"m"};
    runtime_ = testing::build_runtime(kYaml, clock_, options);
  }
  const Alias& alias() { return *runtime_->find("m"); }
  CircuitBreaker& breaker(size_t i) { return alias().deployments[i]->breaker; }
  // Trips deployment i's breaker now (one admitted call that fails).
  void trip(size_t i) {
    ASSERT_TRUE(breaker(i).try_acquire(clock_.now()));
    breaker(i).record(AttemptOutcome::failure(ErrorKind::kServerError), clock_.now());
    ASSERT_EQ(breaker(i).state(clock_.now()), BreakerState::kOpen);
  }
  // Ends an admitted call on i without a verdict, freeing any probe slot.
  void release(size_t i) {
    breaker(i).record(AttemptOutcome::failure(ErrorKind::kCancelled), clock_.now());
  }

  ManualClock clock_{TimePoint{} + seconds(100)};
  std::unique_ptr<Runtime> runtime_;
};

TEST_F(CandidatePickerTest, WalksUntriedThenTriedCyclically) {
  CandidatePicker picker(alias(), {0, 1, 2});
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

TEST_F(CandidatePickerTest, FollowsTheRoutersOrder) {
  CandidatePicker picker(alias(), {2, 0, 1});
  EXPECT_EQ(picker.acquire(Want::kFirst, clock_.now()), 2u);
  release(2);
  EXPECT_EQ(picker.acquire(Want::kNext, clock_.now()), 0u);
  release(0);
}

TEST_F(CandidatePickerTest, SkipsOpenBreakersAndExcludedDeployments) {
  trip(0);
  CandidatePicker picker(alias(), {0, 1, 2});
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

TEST_F(CandidatePickerTest, HasAlternativeIgnoresTheCurrentDeployment) {
  CandidatePicker picker(alias(), {0, 1});
  EXPECT_EQ(picker.acquire(Want::kFirst, clock_.now()), 0u);
  release(0);
  EXPECT_TRUE(picker.has_alternative(clock_.now()));
  trip(1);
  EXPECT_FALSE(picker.has_alternative(clock_.now()));
  clock_.advance(seconds(1));  // 1 half-opens: it may take a probe again
  EXPECT_TRUE(picker.has_alternative(clock_.now()));
}

TEST_F(CandidatePickerTest, EarliestReopenIsTheFirstBreakerToHalfOpen) {
  CandidatePicker picker(alias(), {0, 1, 2});
  EXPECT_EQ(picker.earliest_reopen(clock_.now()), std::nullopt);
  const TimePoint first = clock_.now();
  trip(1);
  clock_.advance(milliseconds(300));
  trip(0);
  EXPECT_EQ(picker.earliest_reopen(clock_.now()), first + seconds(1));
  clock_.advance(milliseconds(700));  // 1 is half-open now; 0 still open
  EXPECT_EQ(picker.earliest_reopen(clock_.now()), first + milliseconds(1300));
}

TEST_F(CandidatePickerTest, HalfOpenBreakerAdmitsOneProbe) {
  trip(0);
  trip(1);
  trip(2);
  clock_.advance(seconds(1));
  CandidatePicker picker(alias(), {0, 1, 2});
  EXPECT_EQ(picker.acquire(Want::kFirst, clock_.now()), 0u);  // 0's probe
  CandidatePicker other(alias(), {0, 1, 2});
  EXPECT_EQ(other.acquire(Want::kFirst, clock_.now()), 1u);  // 0's probe slot is taken
  release(0);
  release(1);
}

}  // namespace
}  // namespace sheepdog::gateway
