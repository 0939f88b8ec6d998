// Prometheus text exposition format 0.0.4, for GET /metrics.
//
// Hand-written because prometheus-cpp is not packaged in Debian 12, and the format is small:
// https://prometheus.io/docs/instrumenting/exposition_formats/ . Per family, `# HELP` then
// `# TYPE`, then one line per sample; histograms expand to `name_bucket{...,le="b"}` for every
// bound and `le="+Inf"`, then `name_sum` and `name_count`. Label values escape `\`, `"` and
// newline; HELP text escapes `\` and newline. Numbers are the shortest text that reads back as
// the same double ("0.25", "1e+21"), with "+Inf", "-Inf" and "NaN" for the special values.
// Output order is deterministic: families by name, series by label values, which makes the
// text testable against a golden string and diffable between scrapes.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "telemetry/metrics.h"

namespace sheepdog {

// The Content-Type of the output.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

std::string render_prometheus(std::span<const FamilySnapshot> families);
inline std::string render_prometheus(const MetricsRegistry& registry) {
  const std::vector<FamilySnapshot> families = registry.snapshot();
  return render_prometheus(families);
}

// Exposed for tests and for other text formats.
std::string format_prometheus_value(double v);
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);

}  // namespace sheepdog
