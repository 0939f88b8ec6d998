// Tests for the tool-calls scenario: resample vs repair vs pass, driven by the gateway's own
// ToolCallState. Where the outcome is certain (fault rate 0 or 1, repair success 1) the figures
// are exact; elsewhere they are checked against the closed forms within 4 standard deviations
// over 10,000 requests (the run is deterministic per seed, so the check cannot flake).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "sim/runner.h"
#include "sim/scenario_yaml.h"
#include "sim/simulator.h"

namespace sheepdog::sim {
namespace {

Strategy strategy(std::string_view name) {
  std::optional<Strategy> s = builtin_strategy(name);
  EXPECT_TRUE(s.has_value()) << name;
  return *s;
}

// The built-in scenario with `requests` requests, the given tool-call fault rate and repair
// success rate, and no transport faults unless asked for. Service time p99 is lowered from 4 s
// to 2 s so that no attempt comes near the 10 s attempt timeout (z > 6: P < 1e-9): without
// transport faults, every attempt after the first is then a resample or a repair.
Scenario tool_scenario(int requests, double fault_rate, double repair_success,
                       double transport_fault_rate = 0) {
  std::optional<Scenario> s = builtin_scenario("tool-calls");
  EXPECT_TRUE(s.has_value());
  s->requests = requests;
  s->upstreams[0].fault_rate = transport_fault_rate;
  s->upstreams[0].latency_p99 = seconds(2);
  s->tool_calls->fault_rate = fault_rate;
  s->tool_calls->repair_success_rate = repair_success;
  EXPECT_TRUE(s->validate().is_ok()) << s->validate().message();
  return *s;
}

constexpr double kAttemptUsd = 0.005;           // 1,000 + 250 tokens at $2.50 / $10 per Mtok
constexpr double kRepairAttemptUsd = 0.005375;  // prompt 1.15x: 0.0025 * 1.15 + 0.0025

TEST(ToolCallsScenarioTest, BuiltInScenarioIsListedValidAndDescribed) {
  const std::vector<std::string>& names = builtin_scenario_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "tool-calls"), names.end());
  const std::optional<Scenario> s = builtin_scenario("tool-calls");
  ASSERT_TRUE(s.has_value());
  ASSERT_TRUE(s->validate().is_ok()) << s->validate().message();
  ASSERT_TRUE(s->tool_calls.has_value());
  EXPECT_EQ(s->tool_calls->fault_rate, 0.2);
  EXPECT_EQ(s->tool_calls->repair_success_rate, 0.9);
  EXPECT_DOUBLE_EQ(s->tool_calls->repair_cost_factor(), 1.075);
  const std::string text = s->describe();
  EXPECT_NE(text.find("20% of answers to a request or a resample fail validation"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ASSUMED"), std::string::npos) << text;
  EXPECT_EQ(default_strategies_for(*s),
            (std::vector<std::string>{"tool-resample", "tool-repair", "tool-pass"}));
  EXPECT_EQ(default_strategies_for(*builtin_scenario("flaky")), default_strategy_names());
}

TEST(ToolCallsScenarioTest, ToolStrategiesCarryTheirPolicy) {
  for (const std::string& name : tool_call_strategy_names()) {
    const Strategy s = strategy(name);
    ASSERT_TRUE(s.tool_calls.has_value()) << name;
    EXPECT_EQ(s.tool_calls->max_retries, 2) << name;
    EXPECT_FALSE(s.fallback) << name;
    EXPECT_TRUE(s.validate().is_ok()) << name;
  }
  EXPECT_EQ(strategy("tool-resample").tool_calls->mode, ToolRepairMode::kResample);
  EXPECT_EQ(strategy("tool-repair").tool_calls->mode, ToolRepairMode::kRepair);
  EXPECT_EQ(strategy("tool-pass").tool_calls->mode, ToolRepairMode::kPass);
  EXPECT_NE(strategy("tool-repair").describe().find("invalid tool calls: repair, up to 2 times"),
            std::string::npos);
  EXPECT_FALSE(strategy("exponential-jitter").tool_calls.has_value());
  // "+budget" composes with them like with any built-in.
  EXPECT_TRUE(strategy("tool-repair+budget").budget.has_value());
}

TEST(ToolCallsScenarioTest, NoInvalidAnswersMeansFullSuccessAtOneAttempt) {
  const Scenario s = tool_scenario(2000, 0.0, 0.9);
  for (const std::string& name : tool_call_strategy_names()) {
    const RunMetrics m = simulate(s, strategy(name), 1).metrics;
    EXPECT_TRUE(m.has_tool_calls);
    EXPECT_EQ(m.succeeded, 2000) << name;
    EXPECT_EQ(m.attempts, 2000) << name;
    EXPECT_DOUBLE_EQ(m.success_rate(), 1.0) << name;
    EXPECT_DOUBLE_EQ(m.attempts_per_request(), 1.0) << name;
    EXPECT_EQ(m.invalid_answers, 0) << name;
    EXPECT_EQ(m.invalid_passed_rate(), 0.0) << name;
    EXPECT_NEAR(m.cost_usd, 2000 * kAttemptUsd, 1e-9) << name;
  }
}

TEST(ToolCallsScenarioTest, WithoutInvalidAnswersTheRunEqualsPlainRetriesBitForBit) {
  // Fault rate 0 draws nothing for validation, so with transport faults on, each tool strategy
  // makes exactly the run exponential-jitter makes: the tool-call effect is separable.
  const Scenario s = tool_scenario(3000, 0.0, 0.9, 0.05);
  const RunMetrics plain = simulate(s, strategy("exponential-jitter"), 4).metrics;
  EXPECT_GT(plain.attempts, 3000);
  for (const std::string& name : tool_call_strategy_names()) {
    const RunMetrics m = simulate(s, strategy(name), 4).metrics;
    EXPECT_EQ(m.succeeded, plain.succeeded) << name;
    EXPECT_EQ(m.attempts, plain.attempts) << name;
    EXPECT_EQ(m.latency_mean_ms, plain.latency_mean_ms) << name;
    EXPECT_EQ(m.latency_p99_ms, plain.latency_p99_ms) << name;
    EXPECT_EQ(m.cost_usd, plain.cost_usd) << name;
    EXPECT_EQ(m.give_ups, plain.give_ups) << name;
  }
}

TEST(ToolCallsScenarioTest, AlwaysInvalidWithCertainRepair) {
  constexpr int kN = 1000;
  const Scenario s = tool_scenario(kN, 1.0, 1.0);

  // repair: the first answer is invalid, the repair always valid: 2 attempts, 100 %.
  const RunMetrics repair = simulate(s, strategy("tool-repair"), 1).metrics;
  EXPECT_EQ(repair.succeeded, kN);
  EXPECT_EQ(repair.attempts, 2 * kN);
  EXPECT_DOUBLE_EQ(repair.attempts_per_request(), 2.0);
  EXPECT_EQ(repair.invalid_answers, kN);
  EXPECT_NEAR(repair.cost_usd, kN * (kAttemptUsd + kRepairAttemptUsd), 1e-9);

  // resample: 1 + max_retries answers, all invalid, then invalid_tool_call.
  const RunMetrics resample = simulate(s, strategy("tool-resample"), 1).metrics;
  EXPECT_EQ(resample.succeeded, 0);
  EXPECT_EQ(resample.attempts, 3 * kN);
  EXPECT_DOUBLE_EQ(resample.attempts_per_request(), 3.0);
  EXPECT_EQ(resample.give_ups[kInvalidToolCall], kN);
  EXPECT_EQ(resample.give_ups[kInvalidPassed], 0);
  EXPECT_EQ(resample.invalid_answers, 3 * kN);
  EXPECT_NEAR(resample.cost_usd, 3 * kN * kAttemptUsd, 1e-9);

  // pass: one attempt, delivered invalid: no success, all "invalid passed".
  const RunMetrics pass = simulate(s, strategy("tool-pass"), 1).metrics;
  EXPECT_EQ(pass.succeeded, 0);
  EXPECT_EQ(pass.attempts, kN);
  EXPECT_DOUBLE_EQ(pass.attempts_per_request(), 1.0);
  EXPECT_EQ(pass.give_ups[kInvalidPassed], kN);
  EXPECT_DOUBLE_EQ(pass.invalid_passed_rate(), 1.0);
  EXPECT_NEAR(pass.cost_usd, kN * kAttemptUsd, 1e-9);
}

TEST(ToolCallsScenarioTest, RepairThatNeverWorksUsesTheWholeAllowance) {
  const Scenario s = tool_scenario(500, 1.0, 0.0);
  const RunMetrics m = simulate(s, strategy("tool-repair"), 1).metrics;
  EXPECT_EQ(m.succeeded, 0);
  EXPECT_EQ(m.attempts, 3 * 500);
  EXPECT_EQ(m.give_ups[kInvalidToolCall], 500);
  // One original and two repair attempts per request.
  EXPECT_NEAR(m.cost_usd, 500 * (kAttemptUsd + 2 * kRepairAttemptUsd), 1e-9);
}

TEST(ToolCallsScenarioTest, TheAllowanceIsTheToolCallPolicys) {
  const Scenario s = tool_scenario(400, 1.0, 1.0);
  // 5 answers although the transport allows 4 attempts: validation retries have their own
  // allowance.
  Strategy more = strategy("tool-resample");
  more.tool_calls->max_retries = 4;
  EXPECT_EQ(simulate(s, more, 1).metrics.attempts, 5 * 400);
  Strategy none = strategy("tool-repair");
  none.tool_calls->max_retries = 0;
  const RunMetrics m = simulate(s, none, 1).metrics;
  EXPECT_EQ(m.attempts, 400);
  EXPECT_EQ(m.give_ups[kInvalidToolCall], 400);
  // A disabled policy validates nothing: every answer reaches the client as it is.
  Strategy off = strategy("tool-repair");
  off.tool_calls->enabled = false;
  EXPECT_EQ(simulate(s, off, 1).metrics.give_ups[kInvalidPassed], 400);
}

TEST(ToolCallsScenarioTest, ValidationRetriesShareTheRequestDeadline) {
  // Every service takes exactly 1 s (median = p99: no spread); the deadline is 2.5 s.
  Scenario s = tool_scenario(300, 1.0, 1.0);
  s.upstreams[0].latency_median = seconds(1);
  s.upstreams[0].latency_p99 = seconds(1);
  s.client.deadline = milliseconds(2500);
  ASSERT_TRUE(s.validate().is_ok());
  // resample: invalid at 1 s and 2 s; the third attempt gets the 0.5 s left and times out.
  const RunMetrics resample = simulate(s, strategy("tool-resample"), 1).metrics;
  EXPECT_EQ(resample.succeeded, 0);
  EXPECT_EQ(resample.attempts, 3 * 300);
  EXPECT_EQ(resample.give_ups[size_t(GiveUpReason::kDeadline)], 300);
  EXPECT_DOUBLE_EQ(resample.latency_p50_ms, 2500);
  // repair: invalid at 1 s, repaired at 2 s, at once and on the same provider.
  const RunMetrics repair = simulate(s, strategy("tool-repair"), 1).metrics;
  EXPECT_EQ(repair.succeeded, 300);
  EXPECT_EQ(repair.attempts, 2 * 300);
  EXPECT_DOUBLE_EQ(repair.latency_mean_ms, 2000);
  EXPECT_DOUBLE_EQ(repair.latency_p99_ms, 2000);
}

TEST(ToolCallsScenarioTest, StrategiesWithoutAPolicyDeliverInvalidAnswers) {
  const RunMetrics m = simulate(tool_scenario(300, 1.0, 1.0), strategy("linear"), 1).metrics;
  EXPECT_EQ(m.succeeded, 0);
  EXPECT_EQ(m.attempts, 300);
  EXPECT_DOUBLE_EQ(m.invalid_passed_rate(), 1.0);
}

TEST(ToolCallsScenarioTest, MatchesTheClosedFormsOver10kRequests) {
  constexpr int kN = 10000;
  constexpr double p = 0.5;
  constexpr double r = 0.9;
  const Scenario s = tool_scenario(kN, p, r);
  // Within 4 standard deviations of the mean over kN requests.
  auto tolerance = [](double variance) { return 4 * std::sqrt(variance / kN); };

  // resample: success 1 - p^3; extra attempts X in {0, 1, 2} with P = 1 - p, p(1 - p), p^2.
  const RunMetrics resample = simulate(s, strategy("tool-resample"), 1).metrics;
  const double rs = 1 - p * p * p;
  EXPECT_NEAR(resample.success_rate(), rs, tolerance(rs * (1 - rs)));
  const double ra = 1 + p + p * p;
  const double ra2 = p * (1 - p) + 4 * p * p;  // E[X^2]
  EXPECT_NEAR(resample.attempts_per_request(), ra, tolerance(ra2 - (ra - 1) * (ra - 1)));
  EXPECT_EQ(resample.give_ups[kInvalidToolCall], kN - resample.succeeded);

  // repair: success 1 - p(1 - r)^2; X = 0 w.p. 1 - p, 1 w.p. p r, 2 w.p. p (1 - r).
  const RunMetrics repair = simulate(s, strategy("tool-repair"), 1).metrics;
  const double ps = 1 - p * (1 - r) * (1 - r);
  EXPECT_NEAR(repair.success_rate(), ps, tolerance(ps * (1 - ps)));
  const double pa = 1 + p + p * (1 - r);
  const double pa2 = p * r + 4 * p * (1 - r);
  EXPECT_NEAR(repair.attempts_per_request(), pa, tolerance(pa2 - (pa - 1) * (pa - 1)));

  // pass: success 1 - p, the rest passed through, exactly one attempt each.
  const RunMetrics pass = simulate(s, strategy("tool-pass"), 1).metrics;
  EXPECT_NEAR(pass.success_rate(), 1 - p, tolerance(p * (1 - p)));
  EXPECT_EQ(pass.succeeded + pass.give_ups[kInvalidPassed], kN);
  EXPECT_EQ(pass.attempts, kN);
}

TEST(ToolCallsScenarioTest, WithTheDefaultsRepairBeatsResampleAtFewerAttempts) {
  const Scenario s = *builtin_scenario("tool-calls");  // 10,000 requests, 1% transport faults
  for (uint64_t seed : {1, 2, 3}) {
    const RunMetrics resample = simulate(s, strategy("tool-resample"), seed).metrics;
    const RunMetrics repair = simulate(s, strategy("tool-repair"), seed).metrics;
    const RunMetrics pass = simulate(s, strategy("tool-pass"), seed).metrics;
    EXPECT_GT(repair.success_rate(), resample.success_rate()) << "seed " << seed;
    EXPECT_LT(repair.attempts_per_request(), resample.attempts_per_request()) << "seed " << seed;
    // Expected: resample 99.2 % at 1.24 attempts, repair 99.8 % at 1.22, pass 80 % at 1.0
    // (transport faults add about 1 % of attempts).
    EXPECT_GT(repair.success_rate(), 0.995) << "seed " << seed;
    EXPECT_LT(pass.success_rate(), 0.82) << "seed " << seed;
    EXPECT_GT(pass.invalid_passed_rate(), 0.18) << "seed " << seed;
    EXPECT_LT(pass.attempts_per_request(), resample.attempts_per_request()) << "seed " << seed;
    EXPECT_EQ(resample.give_ups[kInvalidPassed], 0) << "seed " << seed;
    for (const RunMetrics* m : {&resample, &repair, &pass}) {
      long failed = 0;
      for (long g : m->give_ups) {
        failed += g;
      }
      EXPECT_EQ(m->succeeded + failed, m->requests) << "seed " << seed;
    }
  }
}

TEST(ToolCallsScenarioTest, IdenticalSeedsGiveIdenticalReports) {
  const Scenario s = tool_scenario(2000, 0.2, 0.9, 0.01);
  std::vector<Strategy> strategies;
  for (const std::string& name : tool_call_strategy_names()) {
    strategies.push_back(strategy(name));
  }
  for (ReportFormat f : {ReportFormat::kMarkdown, ReportFormat::kJson, ReportFormat::kCsv}) {
    const std::string a = format_report(run_comparison(s, strategies, 5, 2, false).report, f);
    const std::string b = format_report(run_comparison(s, strategies, 5, 2, false).report, f);
    EXPECT_EQ(a, b);
    const std::string c = format_report(run_comparison(s, strategies, 6, 2, false).report, f);
    EXPECT_NE(a, c);
  }
}

TEST(ToolCallsScenarioTest, ReportsShowInvalidPassedOnlyForToolCallScenarios) {
  const Scenario s = tool_scenario(200, 1.0, 1.0);
  const Report report =
      run_comparison(s, {strategy("tool-repair"), strategy("tool-pass")}, 1, 1, false).report;
  const std::string md = format_report(report, ReportFormat::kMarkdown);
  EXPECT_NE(md.find("| strategy | success % | invalid passed % | mean ms |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("| tool-repair | 100.00 | 0.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| tool-pass | 0.00 | 100.00 |"), std::string::npos) << md;
  const std::string js = format_report(report, ReportFormat::kJson);
  EXPECT_NE(
      js.find("\"invalid_passed_rate\": {\"mean\": 1, \"stddev\": 0, \"min\": 1, \"max\": 1}"),
      std::string::npos)
      << js;
  EXPECT_NE(js.find("\"invalid_tool_call\": 0, \"invalid_passed\": 200}"), std::string::npos) << js;
  EXPECT_NE(js.find("\"invalid_answers_per_run\": 200,"), std::string::npos) << js;
  const std::string csv = format_report(report, ReportFormat::kCsv);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 2 * long(kMetricCount + 1));
  EXPECT_NE(csv.find("true,tool-calls,1,1,tool-pass,invalid_passed_rate,1,0,1,1\n"),
            std::string::npos)
      << csv;

  // Other scenarios keep their shape.
  Scenario plain = *builtin_scenario("no-faults");
  plain.requests = 100;
  const Report other = run_comparison(plain, {strategy("tool-repair")}, 1, 1, false).report;
  EXPECT_EQ(format_report(other, ReportFormat::kMarkdown).find("invalid"), std::string::npos);
  EXPECT_EQ(format_report(other, ReportFormat::kJson).find("invalid"), std::string::npos);
  EXPECT_EQ(format_report(other, ReportFormat::kCsv).find("invalid"), std::string::npos);
}

TEST(ToolCallsScenarioTest, ScenarioFileConfiguresTheToolCallWorld) {
  const std::string yaml =
      "name: tools\n"
      "upstreams:\n"
      "  - name: a\n"
      "tool_calls:\n"
      "  fault_rate: 0.35\n"
      "  repair_success_rate: 0.8\n"
      "  repair_prompt_multiplier: 1.3\n"
      "  prompt_cost_fraction: 0.6\n";
  ScenarioFile file;
  ASSERT_TRUE(parse_scenario_yaml(yaml, "t.yaml", &file).is_ok());
  ASSERT_TRUE(file.scenario.tool_calls.has_value());
  const ToolCallModel& t = *file.scenario.tool_calls;
  EXPECT_EQ(t.fault_rate, 0.35);
  EXPECT_EQ(t.repair_success_rate, 0.8);
  EXPECT_EQ(t.repair_prompt_multiplier, 1.3);
  EXPECT_DOUBLE_EQ(t.repair_cost_factor(), 1.18);
  EXPECT_EQ(default_strategies_for(file.scenario), tool_call_strategy_names());

  ScenarioFile bad;
  const Status rate = parse_scenario_yaml(
      "upstreams:\n  - name: a\ntool_calls:\n  fault_rate: 1.5\n", "c.yaml", &bad);
  EXPECT_FALSE(rate.is_ok());
  EXPECT_NE(rate.message().find("c.yaml:4:"), std::string::npos) << rate.message();
}

}  // namespace
}  // namespace sheepdog::sim
