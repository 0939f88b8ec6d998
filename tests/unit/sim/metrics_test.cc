// Tests for the simulator's metric definitions: percentiles, recovery time, time series and
// cross-run summaries, with exact expected values.
#include "sim/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sheepdog::sim {
namespace {

TimePoint at_ms(double ms) { return TimePoint{} + from_ms(ms); }

TEST(MetricsTest, NearestRankPercentile) {
  std::vector<double> v = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
  EXPECT_EQ(percentile(v, 0.5), 5);
  EXPECT_EQ(percentile(v, 0.99), 10);
  EXPECT_EQ(percentile(v, 0.0), 1);
  EXPECT_EQ(percentile(v, 0.1), 1);
  EXPECT_EQ(percentile(v, 0.11), 2);
  std::vector<double> empty;
  EXPECT_EQ(percentile(empty, 0.5), 0);
}

TEST(MetricsTest, RecoveryIsZeroWhenCompletionsAfterTheOutageAllSucceed) {
  std::vector<RequestRecord> records;
  for (int i = 0; i < 20; ++i) {
    records.push_back({at_ms(0), at_ms(1000 + 100 * i), true});
  }
  EXPECT_EQ(recovery_time(records, at_ms(1000)), Duration::zero());
}

TEST(MetricsTest, RecoveryWaitsForAWindowAtNinetyFivePercent) {
  // Failures complete until 2.45 s, successes from 2.5 s; the outage ended at 1 s. T steps on a
  // 100 ms grid from 1 s; the window is [T, T + 1 s).
  std::vector<RequestRecord> records;
  for (int i = 0; i < 30; ++i) {
    records.push_back({at_ms(0), at_ms(1000 + 50 * i), false});  // 1.00 .. 2.45 s
  }
  for (int i = 0; i < 100; ++i) {
    records.push_back({at_ms(0), at_ms(2500 + 20 * i), true});  // 2.50 .. 4.48 s
  }
  const std::optional<Duration> r = recovery_time(records, at_ms(1000));
  ASSERT_TRUE(r.has_value());
  // At T = 2.3 s: 4 failures, 40 successes (91%). At T = 2.4 s: 2 failures (2.40, 2.45) and 45
  // successes (2.50 .. 3.38 s): 95.7% >= 95%.
  EXPECT_EQ(*r, from_ms(1400));
}

TEST(MetricsTest, RecoveryNeverWhenFailuresLastToTheEnd) {
  std::vector<RequestRecord> records;
  for (int i = 0; i < 10; ++i) {
    records.push_back({at_ms(0), at_ms(1000 + 100 * i), false});
  }
  EXPECT_FALSE(recovery_time(records, at_ms(1000)).has_value());
  EXPECT_FALSE(recovery_time(records, at_ms(5000)).has_value());
}

TEST(MetricsTest, TimeSeriesCountsErrorsAndInFlight) {
  const std::vector<RequestRecord> records = {
      {at_ms(0), at_ms(1500), true},
      {at_ms(500), at_ms(1200), false},
      {at_ms(1100), at_ms(2500), true},
  };
  const TimeSeries s = time_series(records, seconds(1));
  ASSERT_EQ(s.error_rate.size(), 3u);
  EXPECT_TRUE(std::isnan(s.error_rate[0]));  // nothing completed in [0, 1 s)
  EXPECT_DOUBLE_EQ(s.error_rate[1], 0.5);    // 1.2 s failed, 1.5 s succeeded
  EXPECT_DOUBLE_EQ(s.error_rate[2], 0.0);
  EXPECT_EQ(s.in_flight[0], 1);  // at 0 s: the first request
  EXPECT_EQ(s.in_flight[1], 2);  // at 1 s: the first two
  EXPECT_EQ(s.in_flight[2], 1);  // at 2 s: the third
}

TEST(MetricsTest, SummarizeGivesMeanSampleStddevAndRange) {
  const Stat s = summarize({2, 4, 4, 4, 5, 5, 7, 9});
  EXPECT_DOUBLE_EQ(s.mean, 5);
  EXPECT_NEAR(s.stddev, std::sqrt(32.0 / 7.0), 1e-12);
  EXPECT_EQ(s.min, 2);
  EXPECT_EQ(s.max, 9);
  EXPECT_EQ(s.n, 8);
  EXPECT_EQ(summarize({3}).stddev, 0);
}

TEST(MetricsTest, RunSummaryKeepsNeverRecoveredApart) {
  RunMetrics a;
  a.requests = 10;
  a.succeeded = 9;
  a.attempts = 12;
  a.has_outage = true;
  a.recovery_s = 2.0;
  RunMetrics b = a;
  b.succeeded = 7;
  b.recovery_s.reset();
  const StrategySummary s = summarize_runs("x", {a, b});
  EXPECT_EQ(s.runs, 2);
  EXPECT_DOUBLE_EQ(s.stats[size_t(Metric::kSuccessRate)]->mean, 0.8);
  EXPECT_DOUBLE_EQ(s.stats[size_t(Metric::kAttemptsPerRequest)]->mean, 1.2);
  ASSERT_TRUE(s.stats[size_t(Metric::kRecovery)].has_value());
  EXPECT_EQ(s.stats[size_t(Metric::kRecovery)]->n, 1);
  EXPECT_EQ(s.never_recovered, 1);
}

}  // namespace
}  // namespace sheepdog::sim
