// Percentiles, recovery time, time series and cross-run summaries (definitions in metrics.h).
#include "sim/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sheepdog::sim {
namespace {

struct Completion {
  TimePoint at;
  bool success;
};

std::vector<Completion> completions_by_time(const std::vector<RequestRecord>& records) {
  std::vector<Completion> out;
  out.reserve(records.size());
  for (const RequestRecord& r : records) {
    out.push_back({r.end, r.success});
  }
  std::sort(out.begin(), out.end(),
            [](const Completion& a, const Completion& b) { return a.at < b.at; });
  return out;
}

}  // namespace

double percentile(std::vector<double>& values, double q) {
  if (values.empty()) {
    return 0;
  }
  // Nearest rank: the smallest value with at least q of the values at or below it.
  const double rank = std::ceil(std::clamp(q, 0.0, 1.0) * double(values.size()));
  const size_t index = rank < 1 ? 0 : size_t(rank) - 1;
  std::nth_element(values.begin(), values.begin() + long(index), values.end());
  return values[index];
}

std::optional<Duration> recovery_time(const std::vector<RequestRecord>& records,
                                      TimePoint outage_end) {
  const std::vector<Completion> done = completions_by_time(records);
  if (done.empty() || done.back().at < outage_end) {
    return std::nullopt;
  }
  // Two pointers over the sorted completions: [lo, hi) are those inside [t, t + window).
  size_t lo = 0;
  size_t hi = 0;
  long successes = 0;
  for (TimePoint t = outage_end; t <= done.back().at; t += kRecoveryStep) {
    while (hi < done.size() && done[hi].at < t + kRecoveryWindow) {
      successes += done[hi].success ? 1 : 0;
      ++hi;
    }
    while (lo < hi && done[lo].at < t) {
      successes -= done[lo].success ? 1 : 0;
      ++lo;
    }
    const size_t count = hi - lo;
    if (count > 0 && double(successes) >= kRecoveryThreshold * double(count)) {
      return t - outage_end;
    }
  }
  return std::nullopt;
}

TimeSeries time_series(const std::vector<RequestRecord>& records, Duration bucket) {
  TimeSeries series;
  series.bucket = bucket;
  if (records.empty() || bucket <= Duration::zero()) {
    return series;
  }
  TimePoint last{};
  std::vector<TimePoint> starts;
  std::vector<TimePoint> ends;
  starts.reserve(records.size());
  ends.reserve(records.size());
  for (const RequestRecord& r : records) {
    last = std::max(last, r.end);
    starts.push_back(r.start);
    ends.push_back(r.end);
  }
  std::sort(starts.begin(), starts.end());
  std::sort(ends.begin(), ends.end());
  const size_t buckets = size_t((last - TimePoint{}) / bucket) + 1;
  std::vector<long> completed(buckets, 0);
  std::vector<long> failed(buckets, 0);
  for (const RequestRecord& r : records) {
    const size_t b = std::min(buckets - 1, size_t((r.end - TimePoint{}) / bucket));
    ++completed[b];
    failed[b] += r.success ? 0 : 1;
  }
  series.error_rate.resize(buckets);
  series.in_flight.resize(buckets);
  size_t started = 0;
  size_t ended = 0;
  for (size_t b = 0; b < buckets; ++b) {
    const TimePoint t = TimePoint{} + bucket * long(b);
    series.error_rate[b] = completed[b] > 0 ? double(failed[b]) / double(completed[b])
                                            : std::numeric_limits<double>::quiet_NaN();
    while (started < starts.size() && starts[started] <= t) {
      ++started;
    }
    while (ended < ends.size() && ends[ended] <= t) {
      ++ended;
    }
    series.in_flight[b] = double(started - ended);
  }
  return series;
}

std::string_view give_up_name(size_t index) {
  if (index == kInvalidToolCall) {
    return "invalid_tool_call";
  }
  if (index == kInvalidPassed) {
    return "invalid_passed";
  }
  return to_string(GiveUpReason(index));
}

const std::array<MetricInfo, kMetricCount>& all_metrics() {
  static constexpr std::array<MetricInfo, kMetricCount> kMetrics = {{
      {Metric::kSuccessRate, "success_rate", "success %", 2},
      {Metric::kLatencyMean, "latency_mean_ms", "mean ms", 0},
      {Metric::kLatencyP50, "latency_p50_ms", "p50 ms", 0},
      {Metric::kLatencyP99, "latency_p99_ms", "p99 ms", 0},
      {Metric::kBackoff, "backoff_total_s", "backoff s", 0},
      {Metric::kAttemptsPerRequest, "attempts_per_request", "attempts/req", 3},
      {Metric::kCost, "cost_usd", "cost $", 2},
      {Metric::kBreakerTrips, "breaker_trips", "trips", 1},
      {Metric::kRecovery, "recovery_s", "recovery s", 1},
  }};
  return kMetrics;
}

std::optional<double> metric_value(const RunMetrics& run, Metric metric) {
  switch (metric) {
    case Metric::kSuccessRate:
      return run.success_rate();
    case Metric::kLatencyMean:
      return run.latency_mean_ms;
    case Metric::kLatencyP50:
      return run.latency_p50_ms;
    case Metric::kLatencyP99:
      return run.latency_p99_ms;
    case Metric::kBackoff:
      return run.backoff_total_s;
    case Metric::kAttemptsPerRequest:
      return run.attempts_per_request();
    case Metric::kCost:
      return run.cost_usd;
    case Metric::kBreakerTrips:
      return double(run.breaker_trips);
    case Metric::kRecovery:
      return run.has_outage ? run.recovery_s : std::nullopt;
  }
  return std::nullopt;
}

Stat summarize(const std::vector<double>& values) {
  Stat s;
  s.n = int(values.size());
  if (values.empty()) {
    return s;
  }
  double sum = 0;
  s.min = values[0];
  s.max = values[0];
  for (double v : values) {
    sum += v;
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
  }
  s.mean = sum / double(values.size());
  if (values.size() > 1) {
    double squares = 0;
    for (double v : values) {
      squares += (v - s.mean) * (v - s.mean);
    }
    s.stddev = std::sqrt(squares / double(values.size() - 1));
  }
  return s;
}

StrategySummary summarize_runs(std::string strategy, const std::vector<RunMetrics>& runs) {
  StrategySummary summary;
  summary.strategy = std::move(strategy);
  summary.runs = int(runs.size());
  for (const MetricInfo& info : all_metrics()) {
    std::vector<double> values;
    for (const RunMetrics& run : runs) {
      if (std::optional<double> v = metric_value(run, info.metric)) {
        values.push_back(*v);
      }
    }
    if (!values.empty()) {
      summary.stats[size_t(info.metric)] = summarize(values);
    }
  }
  std::vector<double> invalid_passed;
  for (const RunMetrics& run : runs) {
    if (run.has_tool_calls) {
      summary.has_tool_calls = true;
      invalid_passed.push_back(run.invalid_passed_rate());
      summary.invalid_answers_mean += double(run.invalid_answers) / double(runs.size());
    }
  }
  if (!invalid_passed.empty()) {
    summary.invalid_passed = summarize(invalid_passed);
  }
  for (const RunMetrics& run : runs) {
    summary.has_outage = summary.has_outage || run.has_outage;
    summary.never_recovered += run.has_outage && !run.recovery_s ? 1 : 0;
    summary.retries_refused += run.retries_refused;
    for (size_t i = 0; i < kGiveUpReasonCount; ++i) {
      summary.give_ups_mean[i] += double(run.give_ups[i]) / double(runs.size());
    }
  }
  return summary;
}

}  // namespace sheepdog::sim
