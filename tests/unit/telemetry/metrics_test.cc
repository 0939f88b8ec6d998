#include "telemetry/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

namespace sheepdog {
namespace {

TEST(MetricsTest, CounterCountsIntegersAndFractions) {
  MetricsRegistry registry;
  Counter& c = registry.counter("requests_total", "Requests.").with({});
  EXPECT_EQ(c.value(), 0);
  c.inc();
  c.inc(4);
  c.add(0.25);
  c.add(-3);  // ignored: counters never go down
  c.add(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(c.value(), 5.25);
}

TEST(MetricsTest, GaugeGoesUpAndDown) {
  MetricsRegistry registry;
  Gauge& g = registry.gauge("in_flight", "In flight.").with({});
  g.inc();
  g.inc();
  g.dec();
  EXPECT_EQ(g.value(), 1);
  g.add(-2.5);
  EXPECT_EQ(g.value(), -1.5);
  g.set(7);
  EXPECT_EQ(g.value(), 7);
}

TEST(MetricsTest, LabelTuplesAreSeparateSeriesAndStable) {
  MetricsRegistry registry;
  CounterFamily& family = registry.counter("attempts_total", "Attempts.", {"model", "outcome"});
  Counter& ok = family.with({"gpt", "ok"});
  Counter& error = family.with({"gpt", "error"});
  Counter& other_model = family.with({"claude", "ok"});
  EXPECT_NE(&ok, &error);
  EXPECT_NE(&ok, &other_model);
  EXPECT_EQ(&ok, &family.with({"gpt", "ok"}));  // same tuple, same cell
  ok.inc(3);
  error.inc();
  EXPECT_EQ(family.with({"gpt", "ok"}).value(), 3);
  EXPECT_EQ(family.with({"gpt", "error"}).value(), 1);
  EXPECT_EQ(other_model.value(), 0);
  EXPECT_EQ(family.series_count(), 3u);
}

TEST(MetricsTest, WrongLabelArityThrows) {
  MetricsRegistry registry;
  CounterFamily& family = registry.counter("x_total", "X.", {"a", "b"});
  EXPECT_THROW(family.with({"only_one"}), std::invalid_argument);
  EXPECT_THROW(family.with({"1", "2", "3"}), std::invalid_argument);
}

TEST(MetricsTest, ReRegisteringTheSameDefinitionReturnsTheSameFamily) {
  MetricsRegistry registry;
  CounterFamily& a = registry.counter("x_total", "X.", {"model"});
  CounterFamily& b = registry.counter("x_total", "X.", {"model"});
  EXPECT_EQ(&a, &b);
  HistogramFamily& h1 = registry.histogram("h", "H.", {}, {1, 2});
  HistogramFamily& h2 = registry.histogram("h", "H.", {}, {1, 2});
  EXPECT_EQ(&h1, &h2);
}

TEST(MetricsTest, ConflictingOrInvalidRegistrationThrows) {
  MetricsRegistry registry;
  registry.counter("x_total", "X.", {"model"});
  EXPECT_THROW(registry.gauge("x_total", "X.", {"model"}), std::invalid_argument);
  EXPECT_THROW(registry.counter("x_total", "X.", {"deployment"}), std::invalid_argument);
  EXPECT_THROW(registry.counter("x_total", "Other help.", {"model"}), std::invalid_argument);
  registry.histogram("h", "H.", {}, {1, 2});
  EXPECT_THROW(registry.histogram("h", "H.", {}, {1, 3}), std::invalid_argument);

  EXPECT_THROW(registry.counter("", "Empty."), std::invalid_argument);
  EXPECT_THROW(registry.counter("1abc", "Digit first."), std::invalid_argument);
  EXPECT_THROW(registry.counter("a-b", "Dash."), std::invalid_argument);
  EXPECT_NO_THROW(registry.counter("ns:sub_total", "Colons are allowed in metric names."));
  EXPECT_THROW(registry.counter("y", "Y.", {"bad-label"}), std::invalid_argument);
  EXPECT_THROW(registry.counter("y", "Y.", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.counter("y", "Y.", {"a:b"}), std::invalid_argument);
  EXPECT_THROW(registry.counter("y", "Y.", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("z", "Z.", {"le"}, {1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("z", "Z.", {}, {2, 1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("z", "Z.", {}, {1, 1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("z", "Z.", {}, {1, std::numeric_limits<double>::infinity()}),
               std::invalid_argument);
  EXPECT_NO_THROW(registry.gauge("le_label_ok_in_gauges", "G.", {"le"}));
}

TEST(MetricsTest, LabelLessFamiliesExistFromRegistration) {
  MetricsRegistry registry;
  registry.counter("a_total", "A.");
  registry.counter("b_total", "B.", {"model"});
  const std::vector<FamilySnapshot> snapshot = registry.snapshot();
  ASSERT_EQ(snapshot.size(), 2u);
  EXPECT_EQ(snapshot[0].name, "a_total");
  ASSERT_EQ(snapshot[0].series.size(), 1u);
  EXPECT_EQ(snapshot[0].series[0].value, 0);
  EXPECT_EQ(snapshot[1].name, "b_total");
  EXPECT_TRUE(snapshot[1].series.empty());
}

TEST(MetricsTest, SeriesBeyondTheCapShareTheOverflowSeries) {
  MetricsRegistry registry(/*max_series_per_family=*/2);
  CounterFamily& family = registry.counter("c_total", "C.", {"model", "outcome"});
  family.with({"a", "ok"}).inc();
  family.with({"b", "ok"}).inc();
  family.with({"c", "ok"}).inc();    // third tuple: overflow
  family.with({"d", "fail"}).inc();  // also overflow
  family.with({"a", "ok"}).inc();    // existing tuples still resolve to themselves
  EXPECT_EQ(family.series_count(), 3u);
  const FamilySnapshot snapshot = family.snapshot();
  ASSERT_EQ(snapshot.series.size(), 3u);
  EXPECT_EQ(snapshot.series[0].label_values,
            (std::vector<std::string>{"__overflow__", "__overflow__"}));
  EXPECT_EQ(snapshot.series[0].value, 2);
  EXPECT_EQ(snapshot.series[1].label_values, (std::vector<std::string>{"a", "ok"}));
  EXPECT_EQ(snapshot.series[1].value, 2);
  EXPECT_EQ(snapshot.series[2].value, 1);
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInclusiveBounds) {
  MetricsRegistry registry;
  Histogram& h = registry.histogram("latency_seconds", "L.", {}, {0.25, 0.5, 1}).with({});
  h.observe(0.125);
  h.observe(0.25);  // == bound: belongs to le="0.25"
  h.observe(0.375);
  h.observe(2);
  h.observe(std::numeric_limits<double>::quiet_NaN());  // dropped
  const HistogramSnapshot s = h.snapshot();
  EXPECT_EQ(s.bounds, (std::vector<double>{0.25, 0.5, 1}));
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 3, 3, 4}));
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.sum, 2.75);
  EXPECT_EQ(s.mean(), 0.6875);
}

TEST(MetricsTest, HistogramQuantileInterpolatesInsideTheBucket) {
  MetricsRegistry registry;
  Histogram& h = registry.histogram("q", "Q.", {}, {1, 2, 4}).with({});
  EXPECT_EQ(h.snapshot().quantile(0.5), std::nullopt);  // empty
  EXPECT_EQ(h.snapshot().mean(), std::nullopt);
  for (int i = 0; i < 10; ++i) {
    h.observe(0.5);  // (0, 1]
    h.observe(1.5);  // (1, 2]
  }
  HistogramSnapshot s = h.snapshot();
  EXPECT_EQ(s.quantile(0.5), 1.0);   // rank 10: the top of the first bucket
  EXPECT_EQ(s.quantile(0.75), 1.5);  // rank 15: halfway through (1, 2]
  EXPECT_DOUBLE_EQ(*s.quantile(0.95), 1.9);
  EXPECT_EQ(s.quantile(0.25), 0.5);  // rank 5 of 10 in (0, 1]
  EXPECT_EQ(s.quantile(-0.1), std::nullopt);
  EXPECT_EQ(s.quantile(1.1), std::nullopt);

  h.observe(100);  // +Inf bucket
  s = h.snapshot();
  EXPECT_EQ(s.quantile(0.99), 4.0);  // nothing above the highest finite bound is known
}

TEST(MetricsTest, BucketHelpers) {
  EXPECT_EQ(exponential_buckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  const std::vector<double> latency = default_latency_buckets_seconds();
  ASSERT_FALSE(latency.empty());
  EXPECT_EQ(latency.front(), 0.005);
  EXPECT_EQ(latency.back(), 60);
  EXPECT_TRUE(std::is_sorted(latency.begin(), latency.end()));
}

TEST(MetricsTest, ConcurrentUpdatesFromThreadsSumExactly) {
  MetricsRegistry registry;
  CounterFamily& counters = registry.counter("c_total", "C.", {"thread_group"});
  Gauge& gauge = registry.gauge("g", "G.").with({});
  Histogram& histogram = registry.histogram("h", "H.", {}, {1, 2}).with({});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Lookups race too: every thread resolves the shared tuple itself.
      Counter& shared = counters.with({"shared"});
      Counter& own = counters.with({t % 2 == 0 ? "even" : "odd"});
      for (int i = 0; i < kPerThread; ++i) {
        shared.inc();
        shared.add(0.5);  // multiples of 0.5 are exact in a double up to 2^52
        own.inc();
        gauge.add(1);
        histogram.observe(i % 2 == 0 ? 0.5 : 1.5);
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(counters.with({"shared"}).value(), kThreads * kPerThread * 1.5);
  EXPECT_EQ(counters.with({"even"}).value(), kThreads / 2 * kPerThread);
  EXPECT_EQ(counters.with({"odd"}).value(), kThreads / 2 * kPerThread);
  EXPECT_EQ(gauge.value(), kThreads * kPerThread);
  const HistogramSnapshot s = histogram.snapshot();
  EXPECT_EQ(s.count, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{kThreads * kPerThread / 2, kThreads * kPerThread,
                                                 kThreads * kPerThread}));
  EXPECT_EQ(s.sum, kThreads * kPerThread / 2 * 2.0);
}

}  // namespace
}  // namespace sheepdog
