#include "telemetry/metrics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sheepdog {
namespace {

bool is_name_char(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         (allow_colon && c == ':');
}

// Prometheus data model: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*.
bool valid_name(std::string_view name, bool allow_colon) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(),
                     [allow_colon](char c) { return is_name_char(c, allow_colon); });
}

[[noreturn]] void fail(const std::string& message) { throw std::invalid_argument(message); }

void check_label_names(std::string_view metric, const std::vector<std::string>& labels,
                       MetricType type) {
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string& label = labels[i];
    if (!valid_name(label, false) || label.starts_with("__")) {
      fail("metric " + std::string(metric) + ": invalid label name '" + label + "'");
    }
    if (type == MetricType::kHistogram && label == "le") {
      fail("metric " + std::string(metric) + ": label 'le' is reserved in histograms");
    }
    if (std::find(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(i), label) !=
        labels.begin() + static_cast<std::ptrdiff_t>(i)) {
      fail("metric " + std::string(metric) + ": duplicate label name '" + label + "'");
    }
  }
}

template <typename A, typename B>
bool labels_less(const A& a, const B& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](std::string_view x, std::string_view y) { return x < y; });
}

}  // namespace

std::string_view to_string(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// --- Histogram ------------------------------------------------------------------------------

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    buckets_[i].store(0, std::memory_order_relaxed);
  }
}

void Histogram::observe(double v) {
  if (std::isnan(v)) {
    return;
  }
  // A handful of bounds: binary search and linear scan cost the same; lower_bound keeps `le`
  // (inclusive upper bound) semantics obvious.
  const auto index =
      static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.add(v);
}

HistogramSnapshot Histogram::snapshot() const {
  HistogramSnapshot out;
  out.bounds.assign(bounds_.begin(), bounds_.end());
  out.cumulative.resize(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out.cumulative[i] = running;
  }
  out.count = running;
  out.sum = sum_.load();
  return out;
}

std::optional<double> HistogramSnapshot::quantile(double q) const {
  if (count == 0 || !(q >= 0 && q <= 1) || cumulative.size() != bounds.size() + 1) {
    return std::nullopt;
  }
  const double rank = q * static_cast<double>(count);
  size_t bucket = 0;
  while (bucket < bounds.size() && static_cast<double>(cumulative[bucket]) < rank) {
    ++bucket;
  }
  if (bucket == bounds.size()) {
    // In the +Inf bucket: the highest finite bound is the best lower estimate we have.
    return bounds.empty() ? std::nullopt : std::optional<double>(bounds.back());
  }
  const double lower_edge = bucket == 0 ? std::min(0.0, bounds[0]) : bounds[bucket - 1];
  const double below = bucket == 0 ? 0.0 : static_cast<double>(cumulative[bucket - 1]);
  const double in_bucket = static_cast<double>(cumulative[bucket]) - below;
  if (in_bucket == 0) {
    return bounds[bucket];
  }
  return lower_edge + (bounds[bucket] - lower_edge) * ((rank - below) / in_bucket);
}

std::optional<double> HistogramSnapshot::mean() const {
  if (count == 0) {
    return std::nullopt;
  }
  return sum / static_cast<double>(count);
}

// --- Families -------------------------------------------------------------------------------

MetricFamily::MetricFamily(std::string_view name, std::string_view help, MetricType type,
                           std::vector<std::string> label_names, size_t max_series)
    : max_series_(std::max<size_t>(max_series, 1)),
      name_(name),
      help_(help),
      type_(type),
      label_names_(std::move(label_names)) {}

void MetricFamily::check_arity(size_t arity) const {
  if (arity != label_names_.size()) {
    fail("metric " + name_ + ": " + std::to_string(arity) + " label values for " +
         std::to_string(label_names_.size()) + " label names");
  }
}

std::vector<std::string> MetricFamily::overflow_key() const {
  return std::vector<std::string>(label_names_.size(), std::string(kOverflowLabelValue));
}

bool MetricFamily::LabelLess::operator()(const std::vector<std::string>& a,
                                         const std::vector<std::string>& b) const {
  return a < b;
}
bool MetricFamily::LabelLess::operator()(const std::vector<std::string>& a,
                                         std::span<const std::string_view> b) const {
  return labels_less(a, b);
}
bool MetricFamily::LabelLess::operator()(std::span<const std::string_view> a,
                                         const std::vector<std::string>& b) const {
  return labels_less(a, b);
}

CounterFamily::CounterFamily(std::string_view name, std::string_view help,
                             std::vector<std::string> label_names, size_t max_series)
    : TypedFamily(name, help, MetricType::kCounter, std::move(label_names), max_series) {}
std::unique_ptr<Counter> CounterFamily::make_cell() const { return std::make_unique<Counter>(); }
void CounterFamily::fill(const Counter& cell, SeriesSnapshot& out) const {
  out.value = cell.value();
}

GaugeFamily::GaugeFamily(std::string_view name, std::string_view help,
                         std::vector<std::string> label_names, size_t max_series)
    : TypedFamily(name, help, MetricType::kGauge, std::move(label_names), max_series) {}
std::unique_ptr<Gauge> GaugeFamily::make_cell() const { return std::make_unique<Gauge>(); }
void GaugeFamily::fill(const Gauge& cell, SeriesSnapshot& out) const { out.value = cell.value(); }

HistogramFamily::HistogramFamily(std::string_view name, std::string_view help,
                                 std::vector<std::string> label_names, std::vector<double> bounds,
                                 size_t max_series)
    : TypedFamily(name, help, MetricType::kHistogram, std::move(label_names), max_series),
      bounds_(std::move(bounds)) {}
std::unique_ptr<Histogram> HistogramFamily::make_cell() const {
  return std::make_unique<Histogram>(bounds_);
}
void HistogramFamily::fill(const Histogram& cell, SeriesSnapshot& out) const {
  out.histogram = cell.snapshot();
}

std::vector<double> default_latency_buckets_seconds() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

std::vector<double> exponential_buckets(double start, double factor, size_t count) {
  std::vector<double> out;
  out.reserve(count);
  double bound = start;
  for (size_t i = 0; i < count; ++i) {
    out.push_back(bound);
    bound *= factor;
  }
  return out;
}

// --- Registry -------------------------------------------------------------------------------

MetricsRegistry::MetricsRegistry(size_t max_series_per_family)
    : max_series_per_family_(max_series_per_family) {}

MetricsRegistry::~MetricsRegistry() = default;

MetricFamily& MetricsRegistry::add(std::unique_ptr<MetricFamily> family) {
  if (!valid_name(family->name(), true)) {
    fail("invalid metric name '" + family->name() + "'");
  }
  check_label_names(family->name(), family->label_names(), family->type());
  std::lock_guard lock(mu_);
  auto it = families_.find(family->name());
  if (it == families_.end()) {
    it = families_.emplace(family->name(), std::move(family)).first;
    return *it->second;
  }
  const MetricFamily& existing = *it->second;
  bool same = existing.type() == family->type() && existing.help() == family->help() &&
              existing.label_names() == family->label_names();
  if (same && family->type() == MetricType::kHistogram) {
    same = static_cast<const HistogramFamily&>(existing).bounds() ==
           static_cast<const HistogramFamily&>(*family).bounds();
  }
  if (!same) {
    fail("metric " + family->name() + " is already registered with a different definition");
  }
  return *it->second;
}

CounterFamily& MetricsRegistry::counter(std::string_view name, std::string_view help,
                                        std::vector<std::string> label_names) {
  auto& family = static_cast<CounterFamily&>(add(
      std::make_unique<CounterFamily>(name, help, std::move(label_names), max_series_per_family_)));
  if (family.label_names().empty()) {
    family.with({});  // a label-less metric exists, at 0, from registration on
  }
  return family;
}

GaugeFamily& MetricsRegistry::gauge(std::string_view name, std::string_view help,
                                    std::vector<std::string> label_names) {
  auto& family = static_cast<GaugeFamily&>(add(
      std::make_unique<GaugeFamily>(name, help, std::move(label_names), max_series_per_family_)));
  if (family.label_names().empty()) {
    family.with({});
  }
  return family;
}

HistogramFamily& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                            std::vector<std::string> label_names,
                                            std::vector<double> bounds) {
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) {
      fail("metric " + std::string(name) + ": bucket bounds must be finite and increasing");
    }
  }
  auto& family = static_cast<HistogramFamily&>(add(std::make_unique<HistogramFamily>(
      name, help, std::move(label_names), std::move(bounds), max_series_per_family_)));
  if (family.label_names().empty()) {
    family.with({});
  }
  return family;
}

std::vector<FamilySnapshot> MetricsRegistry::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<FamilySnapshot> out;
  out.reserve(families_.size());
  for (const auto& [name, family] : families_) {
    out.push_back(family->snapshot());
  }
  return out;
}

}  // namespace sheepdog
