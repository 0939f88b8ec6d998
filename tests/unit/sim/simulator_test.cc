// Tests for the discrete-event simulator: determinism, conservation, and the qualitative
// behaviour each built-in scenario exists to show. Request counts are reduced to keep the suite
// fast under sanitizers; the scenarios' shapes are kept.
#include "sim/simulator.h"

#include <gtest/gtest.h>

#include "sim/runner.h"

namespace sheepdog::sim {
namespace {

Strategy strategy(std::string_view name) {
  std::optional<Strategy> s = builtin_strategy(name);
  EXPECT_TRUE(s.has_value()) << name;
  return *s;
}

Scenario scenario(std::string_view name, int requests) {
  std::optional<Scenario> s = builtin_scenario(name);
  EXPECT_TRUE(s.has_value()) << name;
  s->requests = requests;
  EXPECT_TRUE(s->validate().is_ok()) << s->validate().message();
  return *s;
}

// The outage scenario compressed so that a small run still spans the outage: 40 requests/s for
// 90 s around the primary's [30 s, 60 s) outage.
Scenario short_outage() {
  Scenario s = scenario("outage", 3600);
  s.client.rate_per_second = 40;
  return s;
}

TEST(SimulatorTest, SameSeedGivesIdenticalResults) {
  const Scenario s = scenario("mixed-faults-10k", 2000);
  for (const std::string& name : default_strategy_names()) {
    const Strategy st = strategy(name);
    const RunResult a = simulate(s, st, 7, {.keep_records = true});
    const RunResult b = simulate(s, st, 7, {.keep_records = true});
    EXPECT_EQ(a.metrics.succeeded, b.metrics.succeeded) << name;
    EXPECT_EQ(a.metrics.attempts, b.metrics.attempts) << name;
    EXPECT_EQ(a.metrics.latency_p99_ms, b.metrics.latency_p99_ms) << name;
    EXPECT_EQ(a.metrics.cost_usd, b.metrics.cost_usd) << name;
    EXPECT_EQ(a.metrics.backoff_total_s, b.metrics.backoff_total_s) << name;
    ASSERT_EQ(a.records.size(), b.records.size());
    for (size_t i = 0; i < a.records.size(); ++i) {
      ASSERT_EQ(a.records[i].end, b.records[i].end) << name << " request " << i;
    }
  }
}

TEST(SimulatorTest, WholeReportIsByteIdenticalForASeed) {
  const Scenario s = scenario("flaky", 1000);
  std::vector<Strategy> strategies = {strategy("exponential-jitter"),
                                      strategy("exponential-jitter-breaker+budget")};
  const std::string a =
      format_report(run_comparison(s, strategies, 3, 2, false).report, ReportFormat::kJson);
  const std::string b =
      format_report(run_comparison(s, strategies, 3, 2, false).report, ReportFormat::kJson);
  EXPECT_EQ(a, b);
}

TEST(SimulatorTest, DifferentSeedsDiffer) {
  const Scenario s = scenario("mixed-faults-10k", 2000);
  const Strategy st = strategy("exponential-jitter");
  const RunMetrics a = simulate(s, st, 1).metrics;
  const RunMetrics b = simulate(s, st, 2).metrics;
  EXPECT_NE(a.latency_mean_ms, b.latency_mean_ms);
  EXPECT_NE(a.attempts, b.attempts);
}

TEST(SimulatorTest, EveryRequestEndsExactlyOnce) {
  for (const std::string& scenario_name : builtin_scenario_names()) {
    const Scenario s = scenario(scenario_name, 1500);
    for (const std::string& name : default_strategy_names()) {
      const RunResult r = simulate(s, strategy(name), 11, {.keep_records = true});
      const RunMetrics& m = r.metrics;
      EXPECT_EQ(m.finished, m.requests) << scenario_name << " / " << name;
      EXPECT_GE(m.attempts, 1) << scenario_name << " / " << name;
      long failed = 0;
      for (long g : m.give_ups) {
        failed += g;
      }
      EXPECT_EQ(m.succeeded + failed, m.requests) << scenario_name << " / " << name;
      for (const RequestRecord& rec : r.records) {
        ASSERT_GE(rec.end, rec.start);
      }
      // Breaker refusals are not attempts, so only strategies without a breaker must attempt
      // every request at least once.
      if (!strategy(name).breaker) {
        EXPECT_GE(m.attempts, m.requests) << scenario_name << " / " << name;
      }
    }
  }
}

TEST(SimulatorTest, ClosedLoopClientsFinishEveryRequest) {
  Scenario s = scenario("flaky", 800);
  s.client.mode = ClientMode::kClosedLoop;
  s.client.concurrency = 20;
  s.client.think_time = milliseconds(200);
  ASSERT_TRUE(s.validate().is_ok());
  const RunMetrics m = simulate(s, strategy("exponential-jitter"), 5).metrics;
  EXPECT_EQ(m.finished, 800);
  EXPECT_GE(m.attempts, 800);
  // 20 clients, each request >= ~0.2 s of service on average: 800 requests take far longer
  // than one second, so the clients really waited for each other.
  EXPECT_GT(m.makespan_s, 10.0);
}

TEST(SimulatorTest, NoFaultsMeansFullSuccessAndOneAttemptEach) {
  const Scenario s = scenario("no-faults", 2000);
  for (const std::string& name : default_strategy_names()) {
    const RunMetrics m = simulate(s, strategy(name), 1).metrics;
    EXPECT_EQ(m.succeeded, 2000) << name;
    EXPECT_EQ(m.attempts, 2000) << name;
    EXPECT_DOUBLE_EQ(m.attempts_per_request(), 1.0) << name;
    EXPECT_EQ(m.backoff_total_s, 0.0) << name;
    EXPECT_EQ(m.breaker_trips, 0) << name;
    // Every attempt served by the primary at $0.005.
    EXPECT_NEAR(m.cost_usd, 2000 * 0.005, 1e-9) << name;
  }
}

TEST(SimulatorTest, BreakerWithFallbackBeatsPlainRetriesThroughAnOutage) {
  const Scenario s = short_outage();
  const RunMetrics plain = simulate(s, strategy("exponential-jitter"), 1).metrics;
  const RunMetrics breaker = simulate(s, strategy("exponential-jitter-breaker"), 1).metrics;
  // A third of the requests arrive during the outage. Without fallback, those whose four
  // attempts (5 s connect timeout each, plus backoff) all fall inside it fail.
  EXPECT_LT(plain.success_rate(), 0.9);
  EXPECT_GT(breaker.success_rate(), 0.99);
  EXPECT_GT(breaker.success_rate(), plain.success_rate());
  // Plain retries spend up to 4 x 5 s on the dead primary; the breaker stops that after a few.
  EXPECT_LT(breaker.latency_p99_ms, plain.latency_p99_ms / 2);
  EXPECT_GE(breaker.breaker_trips, 1);
  ASSERT_TRUE(breaker.has_outage);
  ASSERT_TRUE(breaker.recovery_s.has_value());
  ASSERT_TRUE(plain.recovery_s.has_value());
  EXPECT_LE(*breaker.recovery_s, *plain.recovery_s);
}

TEST(SimulatorTest, RetryBudgetCutsAmplificationInARateLimitStorm) {
  const Scenario s = scenario("rate-limit-storm", 4000);
  for (std::string_view base : {"exponential-jitter", "linear"}) {
    const RunMetrics without = simulate(s, strategy(base), 1).metrics;
    const RunMetrics with = simulate(s, strategy(std::string(base) + "+budget"), 1).metrics;
    EXPECT_GT(without.attempts_per_request(), 1.5) << base;
    EXPECT_LT(with.attempts_per_request(), without.attempts_per_request()) << base;
    EXPECT_GT(with.retries_refused, 0) << base;
    EXPECT_EQ(without.retries_refused, 0) << base;
  }
}

TEST(SimulatorTest, FallbackIsUsedOnlyByStrategiesThatEnableIt) {
  Scenario s = scenario("no-faults", 500);
  s.upstreams[0].outages = {{seconds(0), seconds(1000), HardDownMode::kServiceUnavailable}};
  const RunMetrics primary_only = simulate(s, strategy("exponential-jitter"), 1).metrics;
  EXPECT_EQ(primary_only.succeeded, 0);
  // Four attempts each, all refused with 503, nothing served, nothing charged.
  EXPECT_EQ(primary_only.attempts, 4 * 500);
  EXPECT_EQ(primary_only.cost_usd, 0.0);
  const RunMetrics with_fallback = simulate(s, strategy("exponential-jitter-breaker"), 1).metrics;
  EXPECT_EQ(with_fallback.succeeded, 500);
}

}  // namespace
}  // namespace sheepdog::sim
