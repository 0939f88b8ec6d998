// Rendering simulation results as Markdown (for people), JSON and CSV (for tools). Every format
// says the figures are SIMULATED and names the scenario and seed, so a table pasted elsewhere
// cannot be mistaken for a measurement.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/aws_contention.h"
#include "sim/metrics.h"

namespace sheepdog::sim {

enum class ReportFormat : unsigned char { kMarkdown, kJson, kCsv };

struct Report {
  std::string scenario;
  uint64_t seed = 1;  // runs use seed, seed + 1, ..., seed + runs - 1
  int runs = 1;
  int requests = 0;
  std::vector<StrategySummary> strategies;
};

std::string format_report(const Report& report, ReportFormat format);

struct ContentionRow {
  std::string variant;
  Stat calls;
  Stat completion_ms;
  int incomplete_runs = 0;  // runs where some client hit max_calls_per_client
};

struct ContentionReport {
  ContentionConfig config;
  uint64_t seed = 1;
  int runs = 1;
  std::vector<ContentionRow> rows;
};

std::string format_contention(const ContentionReport& report, ReportFormat format);

// Exposed for tests: a JSON string literal with quotes and escapes.
std::string json_quote(std::string_view text);

}  // namespace sheepdog::sim
