// KeyPool: round robin over keys with room; RPM and TPM limits move requests to the next key;
// 429 cool-downs take a key out until they end; usage corrects the up-front token charge; and
// next_available() is exact (acquire fails just before it and succeeds at it).
#include "resilience/key_pool.h"

#include <gtest/gtest.h>

namespace sheepdog {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint kT0 = TimePoint{} + std::chrono::hours(1);  // on a window boundary

TEST(KeyPoolTest, RoundRobinSpreadsRequestsOverKeys) {
  KeyPool pool({{"sk-key-aaaaaaaaaaaa"}, {"sk-key-bbbbbbbbbbbb"}, {"sk-key-cccccccccccc"}});
  std::vector<size_t> order;
  for (int i = 0; i < 5; ++i) {
    order.push_back(*pool.acquire(10, kT0));
  }
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 0, 1}));
}

TEST(KeyPoolTest, RequestsPerMinuteMoveToTheNextKeyThenRunOut) {
  KeyPool pool({{"a-key-000000000000", 2, 0}, {"b-key-000000000000", 1, 0}});
  EXPECT_EQ(pool.acquire(0, kT0), 0u);
  EXPECT_EQ(pool.acquire(0, kT0), 1u);
  EXPECT_EQ(pool.acquire(0, kT0), 0u);  // b is full; a has one left
  EXPECT_EQ(pool.acquire(0, kT0), std::nullopt);
  const std::optional<TimePoint> free_at = pool.next_available(0, kT0);
  ASSERT_TRUE(free_at);
  EXPECT_GT(*free_at, kT0);
  EXPECT_EQ(pool.acquire(0, *free_at - milliseconds(1)), std::nullopt);
  EXPECT_TRUE(pool.acquire(0, *free_at));
}

TEST(KeyPoolTest, CoolDownTakesAKeyOutUntilItEnds) {
  KeyPool pool({{"a-key-000000000000"}, {"b-key-000000000000"}});
  pool.cool_down(0, seconds(5), kT0);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(pool.acquire(0, kT0 + seconds(1)), 1u);
  }
  pool.cool_down(1, seconds(2), kT0 + seconds(1));
  EXPECT_EQ(pool.acquire(0, kT0 + seconds(2)), std::nullopt);
  // Both cooling: the first to end is b, at 3 s.
  EXPECT_EQ(pool.next_available(0, kT0 + seconds(2)), kT0 + seconds(3));
  EXPECT_EQ(pool.acquire(0, kT0 + seconds(3)), 1u);
  EXPECT_EQ(pool.acquire(0, kT0 + seconds(5)), 0u);
}

TEST(KeyPoolTest, AShorterCoolDownDoesNotCutALongerOneShort) {
  KeyPool pool({{"a-key-000000000000"}});
  pool.cool_down(0, seconds(30), kT0);
  pool.cool_down(0, seconds(1), kT0 + seconds(1));
  EXPECT_EQ(pool.next_available(0, kT0 + seconds(2)), kT0 + seconds(30));
  EXPECT_EQ(pool.snapshot(kT0 + seconds(2))[0].cool_downs, 2u);
}

TEST(KeyPoolTest, TokensAreChargedUpFrontAndCorrectedByUsage) {
  KeyPool pool({{"a-key-000000000000", 0, 1000}});
  EXPECT_EQ(pool.acquire(600, kT0), 0u);
  EXPECT_EQ(pool.acquire(600, kT0), std::nullopt);  // 1,200 would pass the 1,000 TPM
  pool.record_usage(0, 600, 100, kT0);              // it used far fewer
  EXPECT_EQ(pool.snapshot(kT0)[0].tokens_in_window, 100);
  EXPECT_EQ(pool.acquire(600, kT0), 0u);
  pool.record_usage(0, 600, 900, kT0);  // and one used more: 100 + 900
  EXPECT_EQ(pool.snapshot(kT0)[0].tokens_in_window, 1000);
}

TEST(KeyPoolTest, AnEstimateAboveEveryLimitNeverFits) {
  KeyPool pool({{"a-key-000000000000", 0, 1000}, {"b-key-000000000000", 0, 2000}});
  EXPECT_EQ(pool.acquire(5000, kT0), std::nullopt);
  EXPECT_EQ(pool.next_available(5000, kT0), std::nullopt);
  EXPECT_EQ(pool.acquire(1500, kT0), 1u);  // only b can take it
}

TEST(KeyPoolTest, SnapshotShowsFingerprintsNeverKeys) {
  KeyPool pool({{"sk-proj-abcdefghijklmnop", 60, 90000}, {"short"}});
  pool.acquire(10, kT0);
  pool.cool_down(0, seconds(7), kT0);
  const std::vector<KeyPool::KeyState> states = pool.snapshot(kT0);
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].fingerprint, "sk-p...mnop");
  EXPECT_EQ(states[0].cooling_for, seconds(7));
  EXPECT_EQ(states[0].requests_in_window, 1);
  EXPECT_EQ(states[0].tokens_in_window, 10);
  EXPECT_EQ(states[0].rpm, 60);
  EXPECT_TRUE(states[1].fingerprint.starts_with("key#"));
  EXPECT_EQ(states[1].fingerprint.find("short"), std::string::npos);
  EXPECT_EQ(states[1].cooling_for, Duration::zero());
  EXPECT_EQ(pool.key(0), "sk-proj-abcdefghijklmnop");
}

}  // namespace
}  // namespace sheepdog
