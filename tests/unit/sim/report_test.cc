// Tests for the report writers and the SVG plot: the SIMULATED label, the shape of each format,
// escaping, and the outage-only line charts.
#include "sim/report.h"

#include <gtest/gtest.h>

#include "sim/runner.h"
#include "sim/svg_plot.h"

namespace sheepdog::sim {
namespace {

Report sample_report(int runs) {
  Report r;
  r.scenario = "demo";
  r.seed = 4;
  r.runs = runs;
  r.requests = 10;
  RunMetrics m;
  m.requests = 10;
  m.succeeded = 9;
  m.attempts = 15;
  m.latency_p99_ms = 1234;
  std::vector<RunMetrics> all(size_t(runs), m);
  r.strategies.push_back(summarize_runs("a,b", all));
  return r;
}

TEST(ReportTest, MarkdownSaysSimulatedAndShowsValues) {
  const std::string md = format_report(sample_report(1), ReportFormat::kMarkdown);
  EXPECT_EQ(md.rfind("## SIMULATED results: scenario `demo`, seed 4, 10 requests per run", 0), 0u)
      << md;
  EXPECT_NE(md.find("| a,b | 90.00 | 0 | 0 | 1234 | 0 | 1.500 | 0.00 | 0.0 | n/a |"),
            std::string::npos)
      << md;
}

TEST(ReportTest, MarkdownWithRunsShowsSpread) {
  const std::string md = format_report(sample_report(3), ReportFormat::kMarkdown);
  EXPECT_NE(md.find("seeds 4..6 (3 runs, mean ± sample stddev)"), std::string::npos) << md;
  EXPECT_NE(md.find("90.00 ± 0.00"), std::string::npos) << md;
}

TEST(ReportTest, JsonHasEveryMetricAndNullForMissingOnes) {
  const std::string js = format_report(sample_report(1), ReportFormat::kJson);
  EXPECT_NE(js.find("\"simulated\": true"), std::string::npos);
  EXPECT_NE(js.find("\"name\": \"a,b\""), std::string::npos);
  EXPECT_NE(js.find("\"success_rate\": {\"mean\": 0.9, \"stddev\": 0, \"min\": 0.9, \"max\": 0.9}"),
            std::string::npos)
      << js;
  EXPECT_NE(js.find("\"recovery_s\": null"), std::string::npos);
  EXPECT_NE(js.find("\"budget_exhausted\": 0"), std::string::npos);
}

TEST(ReportTest, CsvIsLongFormatWithQuotedNames) {
  const std::string csv = format_report(sample_report(1), ReportFormat::kCsv);
  EXPECT_EQ(csv.rfind("simulated,scenario,seed,runs,strategy,metric,mean,stddev,min,max\n", 0), 0u);
  EXPECT_NE(csv.find("true,demo,4,1,\"a,b\",attempts_per_request,1.5,0,1.5,1.5\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("true,demo,4,1,\"a,b\",recovery_s,,,,\n"), std::string::npos) << csv;
  // Header + one line per metric.
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + long(kMetricCount));
}

TEST(ReportTest, JsonQuoteEscapes) {
  EXPECT_EQ(json_quote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(ReportTest, ContentionTableComparesWithFullJitter) {
  ContentionConfig config;
  config.clients = 20;
  config.net_delay_sd = Duration::zero();  // lockstep: no jitter means one winner per round
  const ContentionReport r = run_contention_comparison(config, 1, 1);
  ASSERT_EQ(r.rows.size(), 4u);
  const std::string md = format_contention(r, ReportFormat::kMarkdown);
  EXPECT_EQ(md.rfind("## SIMULATED results: scenario `aws-contention`, seed 1", 0), 0u);
  EXPECT_NE(md.find("| full-jitter |"), std::string::npos);
  EXPECT_NE(md.find(" 1.00x | 1.00x |"), std::string::npos) << md;
  // No jitter with 20 clients in lockstep: 20 + 19 + ... + 1 calls.
  EXPECT_NE(md.find("| no-jitter | 210 |"), std::string::npos) << md;
}

TEST(SvgPlotTest, BarChartsAlwaysLineChartsOnlyWithTimelines) {
  PlotData data;
  data.scenario = "demo <&>";
  data.strategies = sample_report(1).strategies;
  const std::string bars = render_svg(data);
  EXPECT_EQ(bars.rfind("<svg", 0), 0u);
  EXPECT_NE(bars.find("demo &lt;&amp;&gt;"), std::string::npos);
  EXPECT_NE(bars.find("attempts per request"), std::string::npos);
  EXPECT_EQ(bars.find("<polyline"), std::string::npos);
  EXPECT_EQ(bars.substr(bars.size() - 7), "</svg>\n");

  Scenario s = *builtin_scenario("outage");
  s.requests = 600;
  s.client.rate_per_second = 8;  // 75 s, across the outage
  const Comparison c = run_comparison(s, {*builtin_strategy("exponential-jitter")}, 1, 1, true);
  ASSERT_EQ(c.timelines.size(), 1u);
  data.timelines = c.timelines;
  data.outage = s.measured_outage();
  const std::string lines = render_svg(data);
  EXPECT_NE(lines.find("<polyline"), std::string::npos);
  EXPECT_NE(lines.find("requests in flight over time"), std::string::npos);
}

}  // namespace
}  // namespace sheepdog::sim
