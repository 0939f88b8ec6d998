#include "routing/deployment_stats.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace sheepdog {
namespace {

TEST(DeploymentStatsTest, SnapshotOfAKnownSequenceIsExact) {
  DeploymentStats stats(DeploymentStatsOptions{/*ewma_alpha=*/0.5, /*window_size=*/4});
  EXPECT_FALSE(stats.snapshot().measured());
  for (int i = 0; i < 5; ++i) {
    stats.on_start();
  }
  stats.on_success(milliseconds(100));  // ewma 100 (the first sample seeds it)
  stats.on_success(milliseconds(200));  // 0.5 * 200 + 0.5 * 100 = 150
  stats.on_failure();                   // counted, no latency
  stats.on_success(milliseconds(300));  // 225
  stats.on_success(milliseconds(500));  // 362.5

  DeploymentSnapshot s = stats.snapshot();
  EXPECT_EQ(s.in_flight, 0);
  EXPECT_EQ(s.requests, 5u);
  EXPECT_EQ(s.errors, 1u);
  EXPECT_EQ(s.successes, 4u);
  EXPECT_TRUE(s.measured());
  EXPECT_EQ(s.ewma_latency_ms, 362.5);
  EXPECT_EQ(s.window_count, 4u);
  EXPECT_EQ(s.window_mean_ms, 275);  // (100 + 200 + 300 + 500) / 4
  EXPECT_EQ(s.window_p95_ms, 500);
  EXPECT_EQ(s.error_rate(), 0.2);

  stats.on_start();
  stats.on_success(milliseconds(50));  // ewma 206.25; replaces the oldest sample (100)
  stats.on_start();
  stats.on_start();  // two still in flight
  s = stats.snapshot();
  EXPECT_EQ(s.in_flight, 2);
  EXPECT_EQ(s.requests, 8u);
  EXPECT_EQ(s.ewma_latency_ms, 206.25);
  EXPECT_EQ(s.window_count, 4u);
  EXPECT_EQ(s.window_mean_ms, 262.5);  // (50 + 200 + 300 + 500) / 4
  EXPECT_EQ(s.window_p95_ms, 500);

  stats.on_success(milliseconds(10));  // replaces 200
  stats.on_success(milliseconds(20));  // replaces 300
  s = stats.snapshot();
  EXPECT_EQ(s.in_flight, 0);
  EXPECT_EQ(s.window_mean_ms, 145);  // (50 + 10 + 20 + 500) / 4
  EXPECT_EQ(s.window_p95_ms, 500);
}

TEST(DeploymentStatsTest, FailuresDoNotMoveLatency) {
  DeploymentStats stats;
  stats.on_start();
  stats.on_failure();
  DeploymentSnapshot s = stats.snapshot();
  EXPECT_FALSE(s.measured());
  EXPECT_EQ(s.window_count, 0u);
  EXPECT_EQ(s.window_mean_ms, 0);
  EXPECT_EQ(s.error_rate(), 1.0);
}

TEST(DeploymentStatsTest, NearestRankPercentile) {
  std::vector<double> one_to_twenty;
  for (int i = 20; i >= 1; --i) {
    one_to_twenty.push_back(i);  // unsorted on purpose
  }
  EXPECT_EQ(nearest_rank_percentile(one_to_twenty, 95), 19);
  EXPECT_EQ(nearest_rank_percentile(one_to_twenty, 50), 10);
  EXPECT_EQ(nearest_rank_percentile(one_to_twenty, 100), 20);
  EXPECT_EQ(nearest_rank_percentile(one_to_twenty, 1), 1);
  EXPECT_EQ(nearest_rank_percentile({7}, 95), 7);
  EXPECT_EQ(nearest_rank_percentile({}, 95), 0);
  // 10 samples: rank ceil(9.5) = 10, the maximum.
  EXPECT_EQ(nearest_rank_percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 100}, 95), 100);
}

TEST(DeploymentStatsTest, OptionsValidation) {
  EXPECT_TRUE(DeploymentStatsOptions{}.validate().is_ok());
  EXPECT_TRUE((DeploymentStatsOptions{1.0, 1}).validate().is_ok());
  EXPECT_FALSE((DeploymentStatsOptions{0.0, 10}).validate().is_ok());
  EXPECT_FALSE((DeploymentStatsOptions{1.5, 10}).validate().is_ok());
  EXPECT_FALSE((DeploymentStatsOptions{0.3, 0}).validate().is_ok());
  EXPECT_NE((DeploymentStatsOptions{0.3, 0}).validate().message().find("window_size"),
            std::string::npos);
}

TEST(DeploymentStatsTest, ConcurrentUpdatesCountExactly) {
  DeploymentStats stats(DeploymentStatsOptions{0.5, 8});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&stats] {
      for (int i = 0; i < kPerThread; ++i) {
        stats.on_start();
        if (i % 4 == 0) {
          stats.on_failure();
        } else {
          stats.on_success(milliseconds(40));
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  const DeploymentSnapshot s = stats.snapshot();
  EXPECT_EQ(s.in_flight, 0);
  EXPECT_EQ(s.requests, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(s.errors, static_cast<uint64_t>(kThreads * kPerThread / 4));
  EXPECT_EQ(s.successes, static_cast<uint64_t>(kThreads * kPerThread * 3 / 4));
  EXPECT_EQ(s.ewma_latency_ms, 40);  // every sample was 40 ms
  EXPECT_EQ(s.window_count, 8u);
}

}  // namespace
}  // namespace sheepdog
