// Speed of the strategy simulator: the default comparison (10,000 requests x 6 strategies) must
// take well under a second in a release build, since `sheepdog simulate --runs K` multiplies it.
// Also one strategy alone per scenario, and the AWS contention model.
#include <benchmark/benchmark.h>

#include "sim/aws_contention.h"
#include "sim/runner.h"
#include "sim/simulator.h"

namespace sheepdog::sim {
namespace {

std::vector<Strategy> default_strategies() {
  std::vector<Strategy> out;
  for (const std::string& name : default_strategy_names()) {
    out.push_back(*builtin_strategy(name));
  }
  return out;
}

// The whole default comparison on one scenario: what `sheepdog simulate --scenario X` does.
void BM_DefaultComparison(benchmark::State& state, const char* scenario_name) {
  const Scenario scenario = *builtin_scenario(scenario_name);
  const std::vector<Strategy> strategies = default_strategies();
  uint64_t seed = 1;
  for (auto _ : state) {
    Comparison c = run_comparison(scenario, strategies, seed++, 1, false);
    benchmark::DoNotOptimize(c);
  }
  state.counters["requests/s"] = benchmark::Counter(
      double(scenario.requests) * double(strategies.size()) * double(state.iterations()),
      benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_DefaultComparison, mixed_faults_10k, "mixed-faults-10k")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DefaultComparison, outage, "outage")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DefaultComparison, rate_limit_storm, "rate-limit-storm")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DefaultComparison, flaky, "flaky")->Unit(benchmark::kMillisecond);

// One run of one strategy: the unit the comparison repeats.
void BM_SingleRun(benchmark::State& state) {
  const Scenario scenario = *builtin_scenario("mixed-faults-10k");
  const Strategy strategy = *builtin_strategy("exponential-jitter-breaker+budget");
  uint64_t seed = 1;
  for (auto _ : state) {
    RunResult r = simulate(scenario, strategy, seed++);
    benchmark::DoNotOptimize(r);
  }
  state.counters["requests/s"] = benchmark::Counter(
      double(scenario.requests) * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SingleRun)->Unit(benchmark::kMillisecond);

// The AWS contention model, all four variants, 100 clients.
void BM_AwsContention(benchmark::State& state) {
  const ContentionConfig config;
  uint64_t seed = 1;
  for (auto _ : state) {
    ContentionReport r = run_contention_comparison(config, seed++, 1);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_AwsContention)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sheepdog::sim
