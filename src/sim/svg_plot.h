// A small SVG chart writer for `simulate --plot`. Hand-written on purpose: Debian 12 packages no
// C++ plotting library, and three bar charts plus two line charts need about two hundred lines,
// not a dependency. The output is a single self-contained SVG (no scripts, no external fonts).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/metrics.h"
#include "sim/scenario.h"

namespace sheepdog::sim {

struct Timeline {
  std::string strategy;
  TimeSeries series;  // from the first run
};

struct PlotData {
  std::string scenario;
  std::string subtitle;  // e.g. "seed 1, 10000 requests per run" (the title says SIMULATED)
  std::vector<StrategySummary> strategies;
  // For outage scenarios: error rate and requests in flight over time, per strategy.
  std::vector<Timeline> timelines;
  std::optional<OutageWindow> outage;  // shaded on the line charts
};

// Bar charts of success rate, p99 latency and attempts per request per strategy; below them,
// if timelines are present, line charts of error rate and in-flight requests over time.
std::string render_svg(const PlotData& data);

}  // namespace sheepdog::sim
