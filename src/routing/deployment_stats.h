// Live statistics of one deployment, fed by the attempt loop and read by the least-latency
// strategy and the /health/deployments view.
//
// Counts are relaxed atomics. Latency (an EWMA plus a ring buffer of the last `window_size`
// samples for mean and p95) sits behind a small mutex: one short critical section per finished
// attempt, never held across I/O.
//
// Only successful attempts feed latency. A failure's duration says little about how fast the
// deployment answers (a refused connection fails in microseconds, a timeout takes exactly the
// timeout), and letting fast failures lower the EWMA would steer traffic to a broken
// deployment; failures are counted in `errors` and left to the circuit breaker.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace sheepdog {

struct DeploymentStatsOptions {
  // Weight of the newest sample: ewma = alpha * sample + (1 - alpha) * ewma. 0.3 forgets a
  // sample's influence to under 3% after 10 more, quick enough to notice a slowdown within a
  // few requests without chasing every outlier.
  double ewma_alpha = 0.3;
  size_t window_size = 100;  // latencies kept for the windowed mean and p95

  // Ok iff 0 < ewma_alpha <= 1 and window_size >= 1.
  Status validate() const;
};

// A consistent-enough copy for decisions and display: each number is exact, but counts and
// latency are read one after the other, not atomically together.
struct DeploymentSnapshot {
  int64_t in_flight = 0;       // started, not finished
  uint64_t requests = 0;       // attempts started
  uint64_t errors = 0;         // attempts finished with a failure
  uint64_t successes = 0;      // attempts finished successfully (= latency samples ever)
  double ewma_latency_ms = 0;  // meaningful iff measured()
  size_t window_count = 0;     // samples in the window, <= window_size
  double window_mean_ms = 0;   // over the window; 0 iff window_count == 0
  double window_p95_ms = 0;    // nearest-rank p95 over the window; 0 iff window_count == 0

  bool measured() const { return successes > 0; }
  // errors / finished attempts; 0 when none finished.
  double error_rate() const;
};

class DeploymentStats {
 public:
  // REQUIRES: options.validate() is ok.
  explicit DeploymentStats(const DeploymentStatsOptions& options = {});

  // Every started attempt is followed by exactly one on_success(), on_failure() or
  // on_abandon().
  void on_start();
  void on_success(Duration latency);
  void on_failure();
  // The attempt ended without a verdict on the deployment (the client went away mid-call): it
  // leaves in_flight and counts neither as an error nor as a latency sample.
  void on_abandon();

  DeploymentSnapshot snapshot() const;

 private:
  const double alpha_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> errors_{0};

  mutable std::mutex mu_;
  uint64_t successes_ = 0;    // guarded by mu_
  double ewma_ms_ = 0;        // guarded by mu_
  std::vector<double> ring_;  // guarded by mu_; capacity window_size, filled up to it
  size_t next_ = 0;           // guarded by mu_; where the next sample goes once ring_ is full
  const size_t window_size_;
};

// Nearest-rank percentile (0 < p <= 100) of unsorted samples: the smallest sample with at least
// p% of the samples <= it. 0 for no samples. Exposed for tests.
double nearest_rank_percentile(std::vector<double> samples, int p);

}  // namespace sheepdog
