#include "telemetry/prometheus.h"

#include <gtest/gtest.h>

#include <limits>

namespace sheepdog {
namespace {

TEST(PrometheusTest, RendersASmallRegistryExactly) {
  MetricsRegistry registry;
  CounterFamily& requests =
      registry.counter("sheepdog_requests_total", "Requests handled.", {"model", "outcome"});
  requests.with({"gpt-4o", "ok"}).inc(3);
  requests.with({"claude", "error"}).inc();
  registry.gauge("sheepdog_in_flight", "Requests in flight.").with({}).set(2);
  Histogram& latency = registry
                           .histogram("sheepdog_latency_seconds",
                                      "Latency.\nSecond line \\ backslash", {"model"}, {0.1, 0.5})
                           .with({"gpt-4o"});
  latency.observe(0.0625);
  latency.observe(0.25);
  latency.observe(1);

  const std::string expected =
      "# HELP sheepdog_in_flight Requests in flight.\n"
      "# TYPE sheepdog_in_flight gauge\n"
      "sheepdog_in_flight 2\n"
      "# HELP sheepdog_latency_seconds Latency.\\nSecond line \\\\ backslash\n"
      "# TYPE sheepdog_latency_seconds histogram\n"
      "sheepdog_latency_seconds_bucket{model=\"gpt-4o\",le=\"0.1\"} 1\n"
      "sheepdog_latency_seconds_bucket{model=\"gpt-4o\",le=\"0.5\"} 2\n"
      "sheepdog_latency_seconds_bucket{model=\"gpt-4o\",le=\"+Inf\"} 3\n"
      "sheepdog_latency_seconds_sum{model=\"gpt-4o\"} 1.3125\n"
      "sheepdog_latency_seconds_count{model=\"gpt-4o\"} 3\n"
      "# HELP sheepdog_requests_total Requests handled.\n"
      "# TYPE sheepdog_requests_total counter\n"
      "sheepdog_requests_total{model=\"claude\",outcome=\"error\"} 1\n"
      "sheepdog_requests_total{model=\"gpt-4o\",outcome=\"ok\"} 3\n";
  EXPECT_EQ(render_prometheus(registry), expected);
}

TEST(PrometheusTest, LabelLessHistogramHasOnlyTheLeLabel) {
  MetricsRegistry registry;
  registry.histogram("h", "H.", {}, {1}).with({}).observe(0.5);
  EXPECT_EQ(render_prometheus(registry),
            "# HELP h H.\n"
            "# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 1\n"
            "h_bucket{le=\"+Inf\"} 1\n"
            "h_sum 0.5\n"
            "h_count 1\n");
}

TEST(PrometheusTest, FamilyWithoutSeriesStillDeclaresItself) {
  MetricsRegistry registry;
  registry.counter("errors_total", "Errors.", {"kind"});
  EXPECT_EQ(render_prometheus(registry),
            "# HELP errors_total Errors.\n# TYPE errors_total counter\n");
}

TEST(PrometheusTest, EscapesLabelValues) {
  EXPECT_EQ(escape_label_value("plain"), "plain");
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_help("say \"hi\"\\\n"), "say \"hi\"\\\\\\n");  // quotes stay in HELP

  MetricsRegistry registry;
  registry.gauge("g", "G.", {"path"}).with({"C:\\dir \"x\"\nnext"}).set(1);
  EXPECT_EQ(render_prometheus(registry),
            "# HELP g G.\n# TYPE g gauge\ng{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 1\n");
}

TEST(PrometheusTest, FormatsValues) {
  EXPECT_EQ(format_prometheus_value(0), "0");
  EXPECT_EQ(format_prometheus_value(100), "100");
  EXPECT_EQ(format_prometheus_value(0.25), "0.25");
  EXPECT_EQ(format_prometheus_value(0.005), "0.005");
  EXPECT_EQ(format_prometheus_value(-1.5), "-1.5");
  EXPECT_EQ(format_prometheus_value(1e21), "1e+21");
  EXPECT_EQ(format_prometheus_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_prometheus_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_prometheus_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(PrometheusTest, SeriesAreSortedByLabelValuesNotInsertionOrder) {
  MetricsRegistry registry;
  CounterFamily& family = registry.counter("c_total", "C.", {"deployment"});
  family.with({"zeta"}).inc();
  family.with({"alpha"}).inc(2);
  family.with({"mid"}).inc(3);
  EXPECT_EQ(render_prometheus(registry),
            "# HELP c_total C.\n# TYPE c_total counter\n"
            "c_total{deployment=\"alpha\"} 2\n"
            "c_total{deployment=\"mid\"} 3\n"
            "c_total{deployment=\"zeta\"} 1\n");
}

}  // namespace
}  // namespace sheepdog
