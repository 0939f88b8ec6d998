#include "routing/deployment_stats.h"

#include <algorithm>
#include <numeric>

namespace sheepdog {

Status DeploymentStatsOptions::validate() const {
  if (!(ewma_alpha > 0 && ewma_alpha <= 1)) {
    return Status::error("ewma_alpha must be in (0, 1]");
  }
  if (window_size < 1) {
    return Status::error("window_size must be >= 1");
  }
  return Status::ok();
}

double DeploymentSnapshot::error_rate() const {
  const uint64_t finished = errors + successes;
  return finished == 0 ? 0.0 : static_cast<double>(errors) / static_cast<double>(finished);
}

DeploymentStats::DeploymentStats(const DeploymentStatsOptions& options)
    : alpha_(options.ewma_alpha), window_size_(options.window_size) {
  ring_.reserve(window_size_);
}

void DeploymentStats::on_start() {
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  requests_.fetch_add(1, std::memory_order_relaxed);
}

void DeploymentStats::on_success(Duration latency) {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  const double ms = to_ms(latency);
  std::lock_guard lock(mu_);
  // The first sample seeds the average; starting from 0 would make a new deployment look
  // fast for its first several requests.
  ewma_ms_ = successes_ == 0 ? ms : alpha_ * ms + (1 - alpha_) * ewma_ms_;
  ++successes_;
  if (ring_.size() < window_size_) {
    ring_.push_back(ms);
  } else {
    ring_[next_] = ms;
    next_ = (next_ + 1) % window_size_;
  }
}

void DeploymentStats::on_failure() {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  errors_.fetch_add(1, std::memory_order_relaxed);
}

void DeploymentStats::on_abandon() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }

DeploymentSnapshot DeploymentStats::snapshot() const {
  DeploymentSnapshot out;
  out.in_flight = in_flight_.load(std::memory_order_relaxed);
  out.requests = requests_.load(std::memory_order_relaxed);
  out.errors = errors_.load(std::memory_order_relaxed);
  std::vector<double> window;
  {
    std::lock_guard lock(mu_);
    out.successes = successes_;
    out.ewma_latency_ms = ewma_ms_;
    window = ring_;
  }
  out.window_count = window.size();
  if (!window.empty()) {
    out.window_mean_ms =
        std::accumulate(window.begin(), window.end(), 0.0) / static_cast<double>(window.size());
    out.window_p95_ms = nearest_rank_percentile(std::move(window), 95);
  }
  return out;
}

double nearest_rank_percentile(std::vector<double> samples, int p) {
  if (samples.empty()) {
    return 0;
  }
  // rank = ceil(p * n / 100), in integers so 95% of 20 is exactly 19.
  const size_t n = samples.size();
  size_t rank = (static_cast<size_t>(p) * n + 99) / 100;
  rank = std::clamp<size_t>(rank, 1, n);
  auto nth = samples.begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(samples.begin(), nth, samples.end());
  return *nth;
}

}  // namespace sheepdog
