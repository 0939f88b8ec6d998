// Runs a whole comparison: every strategy x `runs` seeds (seed, seed + 1, ...), summarised per
// strategy; likewise for the AWS contention model. What `sheepdog simulate` prints, minus the
// command line. Single-threaded and deterministic: the output depends only on the inputs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "sim/aws_contention.h"
#include "sim/report.h"
#include "sim/scenario.h"
#include "sim/strategy.h"
#include "sim/svg_plot.h"

namespace sheepdog::sim {

// Called after each simulated run with (runs done, runs in total).
using Progress = std::function<void(int done, int total)>;

struct Comparison {
  Report report;
  // Error rate and in-flight series from each strategy's first run; filled iff asked for.
  std::vector<Timeline> timelines;
};

// REQUIRES: scenario and strategies validate; runs >= 1.
Comparison run_comparison(const Scenario& scenario, const std::vector<Strategy>& strategies,
                          uint64_t seed, int runs, bool with_timelines,
                          const Progress& progress = {});

// REQUIRES: runs >= 1.
ContentionReport run_contention_comparison(const ContentionConfig& config, uint64_t seed, int runs,
                                           const Progress& progress = {});

// A strategy by name: one of `custom` (from a scenario file) first, else a built-in.
std::optional<Strategy> find_strategy(std::string_view name, const std::vector<Strategy>& custom);

// The built-in strategies compared when none are named: tool_call_strategy_names() for a
// scenario with tool calls, else default_strategy_names().
const std::vector<std::string>& default_strategies_for(const Scenario& scenario);

// The bucket width used for plotted time series: about 150 buckets over `span`, a multiple of
// 100 ms.
Duration timeline_bucket(Duration span);

}  // namespace sheepdog::sim
