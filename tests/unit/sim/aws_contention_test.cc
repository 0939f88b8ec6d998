// The AWS "Exponential Backoff and Jitter" (2015) finding, reproduced with the engine's own
// Backoff objects: no jitter does far more work and takes far longer than full jitter, and full
// jitter does the least work of the four.
#include "sim/aws_contention.h"

#include <gtest/gtest.h>

#include <map>

namespace sheepdog::sim {
namespace {

// Mean calls and completion (ms) per variant over seeds first..first+n-1. The post averaged
// 100 runs; single runs of full and equal jitter are within a few percent of each other.
struct Means {
  double calls = 0;
  double completion_ms = 0;
};
std::map<std::string, Means> means(const ContentionConfig& config, uint64_t first, int n) {
  std::map<std::string, Means> out;
  for (const ContentionVariant& v : aws_variants(config)) {
    for (int k = 0; k < n; ++k) {
      const ContentionResult r = run_contention(config, v, first + uint64_t(k));
      EXPECT_TRUE(r.all_succeeded) << v.name;
      out[v.name].calls += double(r.calls) / n;
      out[v.name].completion_ms += to_ms(r.completion) / n;
    }
  }
  return out;
}

TEST(AwsContentionTest, WithoutNetworkVarianceNoJitterIsOneWinnerPerRound) {
  // Every message takes exactly 10 ms, so clients without jitter stay in lockstep: each round
  // one write is accepted and the rest retry together, 100 + 99 + ... + 1 writes in all.
  ContentionConfig config;
  config.net_delay_sd = Duration::zero();
  const ContentionResult r = run_contention(config, aws_variants(config)[0], 1);
  EXPECT_EQ(r.variant, "no-jitter");
  EXPECT_TRUE(r.all_succeeded);
  EXPECT_EQ(r.calls, 100 * 101 / 2);
}

TEST(AwsContentionTest, NoJitterDoesFarMoreWorkAndTakesFarLongerThanFullJitter) {
  const ContentionConfig config;
  const std::vector<ContentionVariant> variants = aws_variants(config);
  ASSERT_EQ(variants[0].name, "no-jitter");
  ASSERT_EQ(variants[1].name, "full-jitter");
  for (uint64_t seed : {1, 2, 3, 4, 5}) {
    const ContentionResult none = run_contention(config, variants[0], seed);
    const ContentionResult full = run_contention(config, variants[1], seed);
    EXPECT_GT(none.calls, 2 * full.calls) << "seed " << seed;
    EXPECT_GT(none.completion, 3 * full.completion) << "seed " << seed;
  }
}

TEST(AwsContentionTest, FullJitterDoesTheLeastWorkOnAverage) {
  const auto m = means(ContentionConfig{}, 1, 10);
  ASSERT_EQ(m.size(), 4u);
  for (const auto& [name, v] : m) {
    if (name != "full-jitter") {
      EXPECT_LT(m.at("full-jitter").calls, v.calls) << name;
    }
  }
  // The post's other observations: equal jitter is slower than full jitter, and decorrelated
  // jitter trades more work for less time.
  EXPECT_GT(m.at("equal-jitter").completion_ms, m.at("full-jitter").completion_ms);
  EXPECT_LT(m.at("decorrelated-jitter").completion_ms, m.at("full-jitter").completion_ms);
}

TEST(AwsContentionTest, DeterministicPerSeed) {
  const ContentionConfig config;
  const ContentionVariant v = aws_variants(config)[3];
  const ContentionResult a = run_contention(config, v, 9);
  const ContentionResult b = run_contention(config, v, 9);
  EXPECT_EQ(a.calls, b.calls);
  EXPECT_EQ(a.completion, b.completion);
  EXPECT_NE(a.completion, run_contention(config, v, 10).completion);
}

TEST(AwsContentionTest, SingleClientSucceedsFirstTime) {
  ContentionConfig config;
  config.clients = 1;
  config.net_delay_sd = Duration::zero();
  for (const ContentionVariant& v : aws_variants(config)) {
    const ContentionResult r = run_contention(config, v, 1);
    EXPECT_EQ(r.calls, 1) << v.name;
    // Read out and back, write out and back: four 10 ms messages.
    EXPECT_EQ(r.completion, milliseconds(40)) << v.name;
  }
}

}  // namespace
}  // namespace sheepdog::sim
