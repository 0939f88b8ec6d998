// Strategy x seed loops and their summaries (see runner.h).
#include "sim/runner.h"

#include <algorithm>

#include "sim/simulator.h"

namespace sheepdog::sim {

Duration timeline_bucket(Duration span) {
  const auto step = milliseconds(100);
  const long steps = std::max<long>(1, long(span / step / 150));
  return step * steps;
}

Comparison run_comparison(const Scenario& scenario, const std::vector<Strategy>& strategies,
                          uint64_t seed, int runs, bool with_timelines, const Progress& progress) {
  Comparison out;
  out.report.scenario = scenario.name;
  out.report.seed = seed;
  out.report.runs = runs;
  out.report.requests = scenario.requests;
  const int total = int(strategies.size()) * runs;
  int done = 0;
  std::vector<std::vector<RequestRecord>> first_runs;  // for the timelines
  Duration span{};
  for (const Strategy& strategy : strategies) {
    std::vector<RunMetrics> metrics;
    metrics.reserve(size_t(runs));
    for (int k = 0; k < runs; ++k) {
      SimOptions options;
      options.keep_records = with_timelines && k == 0;
      RunResult result = simulate(scenario, strategy, seed + uint64_t(k), options);
      if (options.keep_records) {
        span = std::max(span, from_seconds(result.metrics.makespan_s));
        first_runs.push_back(std::move(result.records));
      }
      metrics.push_back(result.metrics);
      if (progress) {
        progress(++done, total);
      }
    }
    out.report.strategies.push_back(summarize_runs(strategy.name, metrics));
  }
  // One bucket width for every strategy, so the lines share an x axis.
  const Duration bucket = timeline_bucket(span);
  for (size_t i = 0; i < first_runs.size(); ++i) {
    out.timelines.push_back({strategies[i].name, time_series(first_runs[i], bucket)});
  }
  return out;
}

ContentionReport run_contention_comparison(const ContentionConfig& config, uint64_t seed, int runs,
                                           const Progress& progress) {
  ContentionReport out;
  out.config = config;
  out.seed = seed;
  out.runs = runs;
  const std::vector<ContentionVariant> variants = aws_variants(config);
  const int total = int(variants.size()) * runs;
  int done = 0;
  for (const ContentionVariant& variant : variants) {
    std::vector<double> calls;
    std::vector<double> completion_ms;
    ContentionRow row;
    row.variant = variant.name;
    for (int k = 0; k < runs; ++k) {
      const ContentionResult r = run_contention(config, variant, seed + uint64_t(k));
      calls.push_back(double(r.calls));
      completion_ms.push_back(to_ms(r.completion));
      row.incomplete_runs += r.all_succeeded ? 0 : 1;
      if (progress) {
        progress(++done, total);
      }
    }
    row.calls = summarize(calls);
    row.completion_ms = summarize(completion_ms);
    out.rows.push_back(row);
  }
  return out;
}

const std::vector<std::string>& default_strategies_for(const Scenario& scenario) {
  return scenario.tool_calls ? tool_call_strategy_names() : default_strategy_names();
}

std::optional<Strategy> find_strategy(std::string_view name, const std::vector<Strategy>& custom) {
  for (const Strategy& s : custom) {
    if (s.name == name) {
      return s;
    }
  }
  return builtin_strategy(name);
}

}  // namespace sheepdog::sim
