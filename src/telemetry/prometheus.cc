#include "telemetry/prometheus.h"

#include <charconv>
#include <cmath>
#include <system_error>

namespace sheepdog {
namespace {

void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view le = {}) {
  if (names.empty() && le.empty()) {
    return;
  }
  out += '{';
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (!le.empty()) {
    if (!names.empty()) {
      out += ',';
    }
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const FamilySnapshot& family, const SeriesSnapshot& series, double value,
                   std::string_view le = {}) {
  out += name;
  out += suffix;
  append_labels(out, family.label_names, series.label_values, le);
  out += ' ';
  out += format_prometheus_value(value);
  out += '\n';
}

}  // namespace

std::string format_prometheus_value(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  char buffer[32];
  // Shortest round-trip form, the same text Go's strconv.FormatFloat(v, 'g', -1, 64) gives
  // for the values metrics hold.
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), v);
  if (result.ec != std::errc()) {
    return "NaN";  // unreachable: 32 bytes hold any double
  }
  return std::string(buffer, result.ptr);
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string render_prometheus(std::span<const FamilySnapshot> families) {
  std::string out;
  for (const FamilySnapshot& family : families) {
    out += "# HELP ";
    out += family.name;
    out += ' ';
    out += escape_help(family.help);
    out += "\n# TYPE ";
    out += family.name;
    out += ' ';
    out += to_string(family.type);
    out += '\n';
    for (const SeriesSnapshot& series : family.series) {
      if (family.type != MetricType::kHistogram) {
        append_sample(out, family.name, "", family, series, series.value);
        continue;
      }
      const HistogramSnapshot& h = series.histogram;
      for (size_t i = 0; i < h.bounds.size(); ++i) {
        append_sample(out, family.name, "_bucket", family, series,
                      static_cast<double>(h.cumulative[i]), format_prometheus_value(h.bounds[i]));
      }
      append_sample(out, family.name, "_bucket", family, series, static_cast<double>(h.count),
                    "+Inf");
      append_sample(out, family.name, "_sum", family, series, h.sum);
      append_sample(out, family.name, "_count", family, series, static_cast<double>(h.count));
    }
  }
  return out;
}

}  // namespace sheepdog
