// The metrics registry: counters, gauges and histograms in labelled families, read out by the
// Prometheus exposition (telemetry/prometheus.h) and the health views.
//
// Cost model. Registration and label lookup take the family's lock and may allocate; they are
// meant to run once (at start-up, or the first time a label tuple is seen) and the caller keeps
// the returned reference. Updating a cell (inc, add, set, observe) takes no lock: relaxed atomics
// only, so any number of io threads may update the same cell. Relaxed is enough because a
// scrape needs each number to be some recent value, never an ordering between two numbers.
//
// Doubles are kept as their bit pattern in std::atomic<uint64_t> and added with a
// compare-exchange loop. std::atomic<double>::fetch_add (C++20) is the same loop in libstdc++;
// the explicit form keeps the lock-free guarantee visible. Counters also keep an integer part
// updated by fetch_add: counts (requests, tokens, retries) are the common case, and fetch_add
// is wait-free and exact where a contended compare-exchange loop retries.
//
// Lifetime: families live as long as the registry, cells as long as their family; references
// handed out stay valid (cells are never moved or freed before the registry).
// Thread safety: everything here is thread-safe.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sheepdog {

// A double updated without locks (see the file comment).
class AtomicDouble {
 public:
  double load() const { return std::bit_cast<double>(bits_.load(std::memory_order_relaxed)); }
  void store(double v) { bits_.store(std::bit_cast<uint64_t>(v), std::memory_order_relaxed); }
  void add(double delta) {
    uint64_t old_bits = bits_.load(std::memory_order_relaxed);
    while (!bits_.compare_exchange_weak(
        old_bits, std::bit_cast<uint64_t>(std::bit_cast<double>(old_bits) + delta),
        std::memory_order_relaxed)) {
    }
  }

 private:
  std::atomic<uint64_t> bits_{0};  // the bit pattern of +0.0
  static_assert(std::atomic<uint64_t>::is_always_lock_free);
};

// Cells are cache-line aligned so two series bumped by different threads never share a line.
inline constexpr size_t kCellAlignment = 64;

// Only goes up. Reset only by restarting the process (Prometheus handles that).
class alignas(kCellAlignment) Counter {
 public:
  void inc(uint64_t n = 1) { integral_.fetch_add(n, std::memory_order_relaxed); }
  // For fractional totals (cost in dollars, seconds). Negative and NaN deltas are ignored: a
  // counter that went down would read as a reset.
  void add(double delta) {
    if (delta > 0) {
      fractional_.add(delta);
    }
  }
  double value() const {
    return static_cast<double>(integral_.load(std::memory_order_relaxed)) + fractional_.load();
  }

 private:
  std::atomic<uint64_t> integral_{0};
  AtomicDouble fractional_;
};

// Goes up and down (in-flight requests, open connections, breaker state).
class alignas(kCellAlignment) Gauge {
 public:
  void set(double v) { value_.store(v); }
  void add(double delta) { value_.add(delta); }
  void inc() { value_.add(1); }
  void dec() { value_.add(-1); }
  double value() const { return value_.load(); }

 private:
  AtomicDouble value_;
};

// A point-in-time copy of one histogram series. Its quantile() is the approximate p50/p95 since
// start-up, e.g. per deployment on /health/deployments. For recent latency (the last N calls)
// see DeploymentStats in routing/deployment_stats.h, which keeps a ring buffer instead: a
// cumulative histogram cannot forget, and the router must react to a slowdown now.
struct HistogramSnapshot {
  std::vector<double> bounds;        // finite upper bounds, ascending; +Inf is implied
  std::vector<uint64_t> cumulative;  // size bounds.size() + 1: observations <= bounds[i]; last
                                     // is the +Inf bucket and equals `count`
  double sum = 0;
  uint64_t count = 0;

  // An estimate of the q-quantile (0 <= q <= 1), the way Prometheus' histogram_quantile()
  // computes it: find the bucket holding rank q * count and interpolate linearly inside it,
  // taking 0 as the lower edge of the first bucket (latencies are never negative). A rank in
  // the +Inf bucket returns the highest finite bound, since nothing better is known. nullopt
  // iff count == 0, q is outside [0, 1], or the rank is in +Inf and there are no finite bounds.
  std::optional<double> quantile(double q) const;
  // sum / count; nullopt iff count == 0.
  std::optional<double> mean() const;
};

// Observations fall in the first bucket whose bound is >= the value (Prometheus' `le`).
class alignas(kCellAlignment) Histogram {
 public:
  // `bounds` must outlive the histogram (the family owns them).
  explicit Histogram(std::span<const double> bounds);

  // NaN is dropped (it would poison the sum forever). +-Inf land in the first / +Inf bucket.
  void observe(double v);
  HistogramSnapshot snapshot() const;

 private:
  std::span<const double> bounds_;
  // Per-bucket (not cumulative) counts, bounds_.size() + 1 of them. The total count is their
  // sum, so a scrape always sees `_count` equal to the +Inf bucket.
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  AtomicDouble sum_;
};

enum class MetricType : unsigned char { kCounter, kGauge, kHistogram };
std::string_view to_string(MetricType type);  // "counter", "gauge", "histogram"

// A point-in-time copy of one family, the input of every exposition format.
struct SeriesSnapshot {
  std::vector<std::string> label_values;  // in the family's label_names order
  double value = 0;                       // counters and gauges
  HistogramSnapshot histogram;            // histograms
};
struct FamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::kCounter;
  std::vector<std::string> label_names;
  std::vector<SeriesSnapshot> series;  // sorted by label_values, lexicographically
};

// Label values given to with() once a family holds max_series series: every new tuple maps to
// one shared overflow series with this value in every label, so a caller that labels by
// something unbounded (a client-chosen model name) costs bounded memory, and shows up.
inline constexpr std::string_view kOverflowLabelValue = "__overflow__";

// What every family has: a name, help text and label names. Reading only; see TypedFamily.
class MetricFamily {
 public:
  virtual ~MetricFamily() = default;
  MetricFamily(const MetricFamily&) = delete;
  MetricFamily& operator=(const MetricFamily&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Series created so far, the overflow series included.
  virtual size_t series_count() const = 0;
  virtual FamilySnapshot snapshot() const = 0;

 protected:
  MetricFamily(std::string_view name, std::string_view help, MetricType type,
               std::vector<std::string> label_names, size_t max_series);

  // Throws std::invalid_argument unless arity == label_names().size(): a programming error,
  // since the label arity is fixed at the call site.
  void check_arity(size_t arity) const;
  // The key of the shared overflow series.
  std::vector<std::string> overflow_key() const;

  // Heterogeneous comparison so a lookup with string_views allocates nothing on a hit.
  struct LabelLess {
    using is_transparent = void;
    bool operator()(const std::vector<std::string>& a, const std::vector<std::string>& b) const;
    bool operator()(const std::vector<std::string>& a, std::span<const std::string_view> b) const;
    bool operator()(std::span<const std::string_view> a, const std::vector<std::string>& b) const;
  };

  const size_t max_series_;

 private:
  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

// A family of cells of one kind. with() returns the cell for one tuple of label values, given
// in label_names() order; keep the reference, it is stable.
template <typename Cell>
class TypedFamily : public MetricFamily {
 public:
  Cell& with(std::initializer_list<std::string_view> values) {
    return with(std::span<const std::string_view>(values.begin(), values.size()));
  }
  Cell& with(std::span<const std::string_view> values) {
    check_arity(values.size());
    std::lock_guard lock(mu_);
    if (auto it = series_.find(values); it != series_.end()) {
      return *it->second;
    }
    std::vector<std::string> key;
    if (series_.size() >= max_series_) {
      key = overflow_key();
      if (auto it = series_.find(key); it != series_.end()) {
        return *it->second;
      }
    } else {
      key.assign(values.begin(), values.end());
    }
    return *series_.emplace(std::move(key), make_cell()).first->second;
  }

  size_t series_count() const override {
    std::lock_guard lock(mu_);
    return series_.size();
  }

  FamilySnapshot snapshot() const override {
    FamilySnapshot out{name(), help(), type(), label_names(), {}};
    std::lock_guard lock(mu_);
    out.series.reserve(series_.size());
    for (const auto& [labels, cell] : series_) {
      SeriesSnapshot& series = out.series.emplace_back();
      series.label_values = labels;
      fill(*cell, series);
    }
    return out;
  }

 protected:
  using MetricFamily::MetricFamily;
  virtual std::unique_ptr<Cell> make_cell() const = 0;
  virtual void fill(const Cell& cell, SeriesSnapshot& out) const = 0;

 private:
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Cell>, LabelLess> series_;
};

class CounterFamily final : public TypedFamily<Counter> {
 public:
  CounterFamily(std::string_view name, std::string_view help, std::vector<std::string> label_names,
                size_t max_series);

 private:
  std::unique_ptr<Counter> make_cell() const override;
  void fill(const Counter& cell, SeriesSnapshot& out) const override;
};

class GaugeFamily final : public TypedFamily<Gauge> {
 public:
  GaugeFamily(std::string_view name, std::string_view help, std::vector<std::string> label_names,
              size_t max_series);

 private:
  std::unique_ptr<Gauge> make_cell() const override;
  void fill(const Gauge& cell, SeriesSnapshot& out) const override;
};

class HistogramFamily final : public TypedFamily<Histogram> {
 public:
  HistogramFamily(std::string_view name, std::string_view help,
                  std::vector<std::string> label_names, std::vector<double> bounds,
                  size_t max_series);
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::unique_ptr<Histogram> make_cell() const override;
  void fill(const Histogram& cell, SeriesSnapshot& out) const override;
  const std::vector<double> bounds_;
};

// Bucket bounds for request latencies in seconds, 5 ms to 60 s: LLM calls span that range
// (a cached embedding to a long streamed completion).
std::vector<double> default_latency_buckets_seconds();
// start, start * factor, ... (count bounds). REQUIRES: start > 0, factor > 1, count >= 1.
std::vector<double> exponential_buckets(double start, double factor, size_t count);

// Owns the families. Registering the same name again with the same type, help, label names
// (and bounds) returns the existing family, so two components may both declare a metric they
// share. Anything else is a programming error and throws std::invalid_argument: an invalid
// metric or label name (Prometheus: [a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]*, label
// names not starting "__"; `le` is reserved in histograms), a name already registered
// differently, or bounds that are not finite and strictly increasing. Registration happens at
// start-up, never on a request path.
class MetricsRegistry {
 public:
  static constexpr size_t kDefaultMaxSeriesPerFamily = 10000;

  explicit MetricsRegistry(size_t max_series_per_family = kDefaultMaxSeriesPerFamily);
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;
  ~MetricsRegistry();

  CounterFamily& counter(std::string_view name, std::string_view help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string_view name, std::string_view help,
                     std::vector<std::string> label_names = {});
  HistogramFamily& histogram(std::string_view name, std::string_view help,
                             std::vector<std::string> label_names, std::vector<double> bounds);

  // Every family, sorted by name, each with its series sorted by label values.
  std::vector<FamilySnapshot> snapshot() const;

 private:
  // Returns the registered family of that name: `family` itself, or an identical earlier one.
  MetricFamily& add(std::unique_ptr<MetricFamily> family);

  const size_t max_series_per_family_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<MetricFamily>, std::less<>> families_;
};

}  // namespace sheepdog
