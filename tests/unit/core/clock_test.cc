#include "core/clock.h"

#include <gtest/gtest.h>

namespace sheepdog {
namespace {

TEST(ManualClockTest, StartsWhereToldAndMovesOnlyWhenTold) {
  const TimePoint start = TimePoint{} + seconds(10);
  ManualClock clock(start);
  EXPECT_EQ(clock.now(), start);
  EXPECT_EQ(clock.now(), start);
  clock.advance(milliseconds(250));
  EXPECT_EQ(clock.now(), start + milliseconds(250));
  clock.set(start + seconds(5));
  EXPECT_EQ(clock.now(), start + seconds(5));
}

TEST(ManualClockTest, DefaultStartsAtZero) {
  ManualClock clock;
  EXPECT_EQ(clock.now(), TimePoint{});
  EXPECT_EQ(clock.wall_now(), WallTime{});
}

TEST(ManualClockTest, WallTimeMovesWithMonotonicTime) {
  const WallTime wall_start = WallTime{} + seconds(784111777);
  ManualClock clock(TimePoint{} + hours(1), wall_start);
  EXPECT_EQ(clock.wall_now(), wall_start);
  clock.advance(seconds(30));
  EXPECT_EQ(clock.wall_now(), wall_start + seconds(30));
  clock.set(TimePoint{} + hours(2));
  EXPECT_EQ(clock.wall_now(), wall_start + hours(1));
}

TEST(ManualClockTest, UsableThroughTheInterface) {
  ManualClock manual(TimePoint{} + seconds(1));
  const Clock& clock = manual;
  manual.advance(seconds(1));
  EXPECT_EQ(clock.now(), TimePoint{} + seconds(2));
}

TEST(SteadyClockTest, NeverRunsBackwards) {
  SteadyClock clock;
  const TimePoint a = clock.now();
  const TimePoint b = clock.now();
  EXPECT_LE(a, b);
}

TEST(ClockConversionsTest, ExactValues) {
  EXPECT_DOUBLE_EQ(to_ms(milliseconds(1500)), 1500.0);
  EXPECT_DOUBLE_EQ(to_ms(microseconds(250)), 0.25);
  EXPECT_DOUBLE_EQ(to_seconds(milliseconds(2500)), 2.5);
  EXPECT_EQ(from_ms(1.5), microseconds(1500));
  EXPECT_EQ(from_ms(0), Duration::zero());
  EXPECT_EQ(from_seconds(0.25), milliseconds(250));
  EXPECT_EQ(from_seconds(to_seconds(seconds(42))), seconds(42));
}

}  // namespace
}  // namespace sheepdog
