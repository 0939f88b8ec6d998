#include "resilience/rate_limiter.h"

#include <gtest/gtest.h>

#include <string>

#include "core/random.h"

namespace sheepdog {
namespace {

TimePoint at_ms(int64_t ms) { return TimePoint{} + milliseconds(ms); }
TimePoint at_s(double s) { return TimePoint{} + from_seconds(s); }

int64_t below(RandomSource& random, int64_t n) {
  return static_cast<int64_t>(random.next_u64() % n);
}

TEST(TokenBucketTest, StartsFullAndRefillsAtTheRate) {
  TokenBucket bucket(10, 2, at_ms(0));
  EXPECT_EQ(bucket.available(at_ms(0)), 10);
  EXPECT_TRUE(bucket.try_take(10, at_ms(0)));
  EXPECT_FALSE(bucket.try_take(1, at_ms(0)));
  EXPECT_EQ(bucket.available(at_ms(0)), 0);
  EXPECT_EQ(bucket.available(at_ms(1000)), 2);
  EXPECT_EQ(bucket.available(at_ms(1250)), 2.5);
  EXPECT_EQ(bucket.available(at_ms(3600 * 1000)), 10);  // capped at capacity
}

TEST(TokenBucketTest, TimeUntilIsExact) {
  TokenBucket bucket(10, 2, at_ms(0));
  ASSERT_TRUE(bucket.try_take(10, at_ms(0)));
  EXPECT_EQ(bucket.time_until(3, at_ms(1000)), milliseconds(500));
  EXPECT_FALSE(bucket.try_take(3, at_ms(1500) - nanoseconds(1)));
  EXPECT_EQ(bucket.time_until(3, at_ms(1500) - nanoseconds(1)), nanoseconds(1));
  EXPECT_TRUE(bucket.try_take(3, at_ms(1500)));
  EXPECT_EQ(bucket.available(at_ms(1500)), 0);
  EXPECT_EQ(bucket.time_until(0.5, at_ms(1500)), milliseconds(250));
}

TEST(TokenBucketTest, AskingForMoreThanCapacityNeverSucceeds) {
  TokenBucket bucket(5, 1, at_ms(0));
  EXPECT_FALSE(bucket.try_take(5.5, at_ms(0)));
  EXPECT_EQ(bucket.time_until(5.5, at_ms(0)), Duration::max());
  EXPECT_EQ(bucket.time_until(5, at_ms(0)), Duration::zero());
  EXPECT_EQ(bucket.available(at_ms(0)), 5);
}

TEST(TokenBucketTest, RefusalChangesNothingAndZeroAlwaysSucceeds) {
  TokenBucket bucket(10, 1, at_ms(0));
  ASSERT_TRUE(bucket.try_take(9, at_ms(0)));
  EXPECT_FALSE(bucket.try_take(5, at_ms(1000)));
  EXPECT_EQ(bucket.available(at_ms(1000)), 2);
  EXPECT_EQ(bucket.time_until(5, at_ms(1000)), seconds(3));
  EXPECT_TRUE(bucket.try_take(0, at_ms(1000)));
  EXPECT_EQ(bucket.available(at_ms(1000)), 2);
}

// Random buckets with awkward rates, random takes and time steps: tokens stay in [0, capacity]
// and time_until is exact to the nanosecond (one nanosecond earlier would be refused).
TEST(TokenBucketPropertyTest, TokensStayInRangeAndTimeUntilIsExact) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    SeededRandom random(seed);
    const double capacity = random.uniform(0.5, 100);
    const double rate = random.uniform(0.01, 50);
    TimePoint now = at_ms(static_cast<int64_t>(below(random, 1000000)));
    TokenBucket bucket(capacity, rate, now);
    int exact_waits = 0;
    for (int step = 0; step < 2000; ++step) {
      now += nanoseconds(below(random, static_cast<int64_t>(2e9 / rate)));
      const double n = random.uniform(0, capacity * 1.1);
      const double before = bucket.available(now);
      const bool taken = bucket.try_take(n, now);
      ASSERT_EQ(taken, n <= before) << n << " of " << before;
      const double after = bucket.available(now);
      ASSERT_GE(after, 0);
      ASSERT_LE(after, capacity);
      ASSERT_EQ(after, taken ? before - n : before);

      const double want = random.uniform(0, capacity);
      const Duration wait = bucket.time_until(want, now);
      ASSERT_GE(wait, Duration::zero());
      TokenBucket on_time = bucket;
      ASSERT_TRUE(on_time.try_take(want, now + wait)) << want << " after " << wait.count();
      if (wait > Duration::zero()) {
        TokenBucket early = bucket;
        ASSERT_FALSE(early.try_take(want, now + wait - nanoseconds(1)));
        ++exact_waits;
      }
    }
    EXPECT_GT(exact_waits, 100);
  }
}

TEST(SlidingWindowLimiterTest, CountsUpToTheLimitWithinOneWindow) {
  SlidingWindowLimiter limiter(10, seconds(60));
  EXPECT_EQ(limiter.limit(), 10);
  EXPECT_TRUE(limiter.try_add(4, at_s(0)));
  EXPECT_TRUE(limiter.try_add(6, at_s(30)));
  EXPECT_FALSE(limiter.try_add(1, at_s(59)));
  EXPECT_EQ(limiter.current(at_s(59)), 10);
  EXPECT_FALSE(limiter.try_add(11, at_s(200)));
  EXPECT_EQ(limiter.time_until(11, at_s(200)), Duration::max());
}

TEST(SlidingWindowLimiterTest, PreviousWindowIsWeightedByTheUnelapsedFraction) {
  SlidingWindowLimiter limiter(10, seconds(60));
  ASSERT_TRUE(limiter.try_add(10, at_s(10)));
  EXPECT_EQ(limiter.current(at_s(75)), 7.5);  // 10 * (1 - 15/60)
  EXPECT_TRUE(limiter.try_add(2, at_s(75)));
  EXPECT_FALSE(limiter.try_add(1, at_s(75)));
  EXPECT_EQ(limiter.current(at_s(75)), 9.5);
  EXPECT_EQ(limiter.current(at_s(90)), 7);
  EXPECT_EQ(limiter.current(at_s(120)), 2);  // the window of 10 has aged out entirely
  EXPECT_EQ(limiter.current(at_s(180)), 0);
}

TEST(SlidingWindowLimiterTest, WindowsLieOnAFixedGrid) {
  SlidingWindowLimiter limiter(100, seconds(60));
  ASSERT_TRUE(limiter.try_add(60, at_s(59)));
  // 61 s is in the window [60, 120): 1/60 of the way through it.
  EXPECT_DOUBLE_EQ(limiter.current(at_s(61)), 59);
  // The estimate is continuous across a boundary.
  EXPECT_EQ(limiter.current(at_s(60)), 60);
  EXPECT_EQ(limiter.current(at_s(60) - nanoseconds(1)), 60);
}

TEST(SlidingWindowLimiterTest, TimeUntilWithinTheCurrentWindow) {
  SlidingWindowLimiter limiter(10, seconds(60));
  ASSERT_TRUE(limiter.try_add(10, at_s(10)));
  ASSERT_TRUE(limiter.try_add(2, at_s(75)));
  // 10 * (1 - f) + 2 + 3 <= 10 once f >= 1/2, at 90 s.
  EXPECT_EQ(limiter.time_until(3, at_s(75)), seconds(15));
  EXPECT_EQ(limiter.time_until(0, at_s(75)), Duration::zero());
  SlidingWindowLimiter copy = limiter;
  EXPECT_FALSE(copy.try_add(3, at_s(90) - nanoseconds(1)));
  EXPECT_TRUE(copy.try_add(3, at_s(90)));
}

TEST(SlidingWindowLimiterTest, TimeUntilInTheNextWindow) {
  SlidingWindowLimiter limiter(10, seconds(60));
  ASSERT_TRUE(limiter.try_add(8, at_s(30)));
  // Nothing ages out before 60 s; then 8 * (1 - f) + 5 <= 10 once f >= 3/8, at 82.5 s.
  EXPECT_EQ(limiter.time_until(5, at_s(30)), milliseconds(52500));
  // A full window's worth must wait until both windows have aged out.
  EXPECT_EQ(limiter.time_until(10, at_s(30)), seconds(90));
  ASSERT_TRUE(limiter.try_add(2, at_s(30)));
  EXPECT_EQ(limiter.time_until(10, at_s(30)), seconds(90));
}

TEST(SlidingWindowLimiterTest, AdjustCorrectsAndNeverGoesNegative) {
  SlidingWindowLimiter limiter(10, seconds(60));
  ASSERT_TRUE(limiter.try_add(5, at_s(0)));
  limiter.adjust(7, at_s(1));  // used more than estimated: over the limit now
  EXPECT_EQ(limiter.current(at_s(1)), 12);
  EXPECT_FALSE(limiter.try_add(0, at_s(1)));
  EXPECT_FALSE(limiter.try_add(0, at_s(60)));  // 12 carried into the next window
  EXPECT_TRUE(limiter.try_add(0, at_s(72)));   // 12 * 0.8 = 9.6
  limiter.adjust(-5, at_s(72));  // a refund beyond this window's 0 comes off the previous 12
  EXPECT_DOUBLE_EQ(limiter.current(at_s(72)), 7 * 0.8);
  limiter.adjust(-100, at_s(72));
  EXPECT_EQ(limiter.current(at_s(72)), 0);
  EXPECT_TRUE(limiter.try_add(10, at_s(72)));
}

// Random limiters and traffic: time_until is exact, never more than two windows, and the
// estimate is never negative.
TEST(SlidingWindowLimiterPropertyTest, TimeUntilIsExact) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    SeededRandom random(seed);
    const int64_t limit = 1 + below(random, 1000);
    const Duration window = milliseconds(1000 + below(random, 120000));
    SlidingWindowLimiter limiter(limit, window);
    TimePoint now = at_ms(below(random, 10000000));
    int exact_waits = 0;
    for (int step = 0; step < 2000; ++step) {
      now += nanoseconds(below(random, window.count() / 4));
      if (random.chance(0.1)) {
        limiter.adjust(below(random, limit) - limit / 2, now);
      } else {
        const int64_t n = below(random, limit / 3 + 1);
        const double before = limiter.current(now);
        ASSERT_EQ(limiter.try_add(n, now),
                  before + static_cast<double>(n) <= static_cast<double>(limit));
      }
      ASSERT_GE(limiter.current(now), 0);

      const int64_t want = below(random, limit + 1);
      const Duration wait = limiter.time_until(want, now);
      ASSERT_GE(wait, Duration::zero());
      ASSERT_LE(wait, 2 * window);
      ASSERT_LE(limiter.current(now + wait) + static_cast<double>(want),
                static_cast<double>(limit));
      SlidingWindowLimiter on_time = limiter;
      ASSERT_TRUE(on_time.try_add(want, now + wait));
      if (wait > Duration::zero()) {
        ASSERT_GT(limiter.current(now + wait - nanoseconds(1)) + static_cast<double>(want),
                  static_cast<double>(limit));
        ++exact_waits;
      }
    }
    EXPECT_GT(exact_waits, 100);
  }
}

}  // namespace
}  // namespace sheepdog
