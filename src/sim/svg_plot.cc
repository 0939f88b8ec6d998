// SVG rendering for `simulate --plot` (why hand-written: see svg_plot.h).
#include "sim/svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace sheepdog::sim {
namespace {

constexpr double kWidth = 960;
constexpr double kBarPanelHeight = 230;
constexpr double kLinePanelHeight = 230;
constexpr double kLegendHeight = 24;
constexpr std::array<const char*, 8> kPalette = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                                 "#59a14f", "#edc948", "#b07aa1", "#9c755f"};

const char* color(size_t i) { return kPalette[i % kPalette.size()]; }

std::string escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A "nice" axis maximum at least `v`: a round multiple of a power of ten that wastes little of
// the axis and divides into four or five readable ticks.
double nice_max(double v) {
  if (!(v > 0)) {
    return 1;
  }
  const double p = std::pow(10, std::floor(std::log10(v)));
  for (double m : {1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0}) {
    if (m * p >= v * (1 - 1e-12)) {
      return m * p;
    }
  }
  return 10 * p;
}

// Plain numbers, never exponent notation: 23000, 1.75, 0.125.
std::string label(double v) {
  if (std::fabs(v) >= 100) {
    return fmt::format("{:.0f}", v);
  }
  std::string s = fmt::format("{:.3f}", v);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') {
    s.pop_back();
  }
  return s;
}

struct Box {
  double x, y, w, h;  // the plotting area, inside the axes
};

// Axes, horizontal grid lines and y tick labels for values in [0, y_max].
std::string axes(const Box& b, double y_max, const std::string& title) {
  std::string out =
      fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="13" font-weight="bold">{}</text>)"
                  "\n",
                  b.x, b.y - 10, escape(title));
  for (int i = 0; i <= 4; ++i) {
    const double y = b.y + b.h - b.h * i / 4;
    out += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#ddd"/>)"
                       R"(<text x="{:.1f}" y="{:.1f}" font-size="10" text-anchor="end">{}</text>)"
                       "\n",
                       b.x, y, b.x + b.w, y, b.x - 4, y + 3, label(y_max * i / 4));
  }
  out += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" )"
                     R"(fill="none" stroke="#888"/>)"
                     "\n",
                     b.x, b.y, b.w, b.h);
  return out;
}

std::string bar_chart(const Box& b, const std::vector<StrategySummary>& strategies, Metric metric,
                      double scale, const std::string& title) {
  double top = 0;
  for (const StrategySummary& s : strategies) {
    if (const std::optional<Stat>& st = s.stats[size_t(metric)]) {
      top = std::max(top, st->mean * scale);
    }
  }
  const double y_max = nice_max(top);
  std::string out = axes(b, y_max, title);
  const double slot = b.w / double(std::max<size_t>(1, strategies.size()));
  for (size_t i = 0; i < strategies.size(); ++i) {
    const std::optional<Stat>& st = strategies[i].stats[size_t(metric)];
    if (!st) {
      continue;
    }
    const double v = st->mean * scale;
    const double h = b.h * v / y_max;
    const double x = b.x + slot * double(i) + slot * 0.15;
    out += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" )"
                       R"(fill="{}"/><text x="{:.1f}" y="{:.1f}" font-size="9" )"
                       R"(text-anchor="middle">{}</text>)"
                       "\n",
                       x, b.y + b.h - h, slot * 0.7, h, color(i), x + slot * 0.35,
                       b.y + b.h - h - 3, label(v));
  }
  return out;
}

// One line chart with a polyline per timeline; NaN values break the line.
std::string line_chart(const Box& b, const PlotData& data, bool error_rate,
                       const std::string& title) {
  double y_top = error_rate ? 1.0 : 0;
  double t_end = 0;
  for (const Timeline& t : data.timelines) {
    const std::vector<double>& v = error_rate ? t.series.error_rate : t.series.in_flight;
    t_end = std::max(t_end, to_seconds(t.series.bucket) * double(v.size()));
    for (double x : v) {
      y_top = std::isfinite(x) ? std::max(y_top, x) : y_top;
    }
  }
  const double y_max = error_rate ? 1.0 : nice_max(y_top);
  const double x_max = nice_max(t_end);
  std::string out = axes(b, y_max, title);
  auto px = [&](double seconds) { return b.x + b.w * seconds / x_max; };
  for (int i = 0; i <= 5; ++i) {
    out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="10" text-anchor="middle">)"
                       "{} s</text>\n",
                       px(x_max * i / 5), b.y + b.h + 14, label(x_max * i / 5));
  }
  if (data.outage) {
    const double x0 = px(to_seconds(data.outage->start));
    const double x1 = px(to_seconds(data.outage->end));
    out += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" )"
                       R"(fill="#e15759" opacity="0.08"/>)"
                       "\n",
                       x0, b.y, x1 - x0, b.h);
  }
  for (size_t i = 0; i < data.timelines.size(); ++i) {
    const TimeSeries& s = data.timelines[i].series;
    const std::vector<double>& v = error_rate ? s.error_rate : s.in_flight;
    std::string points;
    auto flush = [&] {
      if (!points.empty()) {
        out += fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="1.3" )"
                           R"(points="{}"/>)"
                           "\n",
                           color(i), points);
        points.clear();
      }
    };
    for (size_t k = 0; k < v.size(); ++k) {
      if (!std::isfinite(v[k])) {
        flush();
        continue;
      }
      const double t = to_seconds(s.bucket) * (double(k) + 0.5);
      points += fmt::format("{:.1f},{:.1f} ", px(t), b.y + b.h - b.h * v[k] / y_max);
    }
    flush();
  }
  return out;
}

}  // namespace

std::string render_svg(const PlotData& data) {
  const bool lines = !data.timelines.empty();
  const double height = 50 + kLegendHeight + kBarPanelHeight + (lines ? 2 * kLinePanelHeight : 0);
  std::string out = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}" )"
      R"(viewBox="0 0 {:.0f} {:.0f}" font-family="sans-serif">)"
      "\n"
      R"(<rect width="100%" height="100%" fill="white"/>)"
      "\n"
      R"(<text x="20" y="24" font-size="16" font-weight="bold">SIMULATED: scenario {}</text>)"
      R"(<text x="20" y="42" font-size="11" fill="#555">{}</text>)"
      "\n",
      kWidth, height, kWidth, height, escape(data.scenario), escape(data.subtitle));
  double legend_x = 20;
  for (size_t i = 0; i < data.strategies.size(); ++i) {
    out += fmt::format(R"(<rect x="{:.1f}" y="54" width="10" height="10" fill="{}"/>)"
                       R"(<text x="{:.1f}" y="63" font-size="10">{}</text>)"
                       "\n",
                       legend_x, color(i), legend_x + 13, escape(data.strategies[i].strategy));
    legend_x += 20 + 6.0 * double(data.strategies[i].strategy.size());
  }
  const double top = 50 + kLegendHeight + 30;
  const double panel = (kWidth - 40) / 3;
  out += bar_chart({20 + 40, top, panel - 60, kBarPanelHeight - 60}, data.strategies,
                   Metric::kSuccessRate, 100, "success %");
  out += bar_chart({20 + panel + 40, top, panel - 60, kBarPanelHeight - 60}, data.strategies,
                   Metric::kLatencyP99, 1, "p99 latency ms");
  out += bar_chart({20 + 2 * panel + 40, top, panel - 60, kBarPanelHeight - 60}, data.strategies,
                   Metric::kAttemptsPerRequest, 1, "attempts per request");
  if (lines) {
    const double y0 = top + kBarPanelHeight - 20;
    out += line_chart({60, y0, kWidth - 90, kLinePanelHeight - 70}, data, true,
                      "error rate of completing requests over time");
    out += line_chart({60, y0 + kLinePanelHeight, kWidth - 90, kLinePanelHeight - 70}, data, false,
                      "requests in flight over time");
  }
  out += "</svg>\n";
  return out;
}

}  // namespace sheepdog::sim
