// A retry budget against retry storms: when everything fails, retries must stop multiplying the
// load. Two limits, both optional, both from production systems:
//   - gRPC retry throttling (proposal A6): a token bucket holding max_tokens; each failed attempt
//     costs 1 token, each success returns token_ratio; retries are allowed only while
//     tokens > max_tokens / 2. Defaults max_tokens 100, token_ratio 0.1.
//   - Envoy's retry budget: retries in flight may not exceed budget_percent of the requests in
//     flight, with a floor of min_retry_concurrency so low traffic can still retry. Exactly:
//     a retry is admitted iff active_retries < max(min_retry_concurrency,
//     floor(budget_percent * active_requests / 100)).
// With both enabled a retry must pass both. Tokens and counts are kept whichever is enabled;
// a refusal by either limit counts once in retries_refused().
// Shared by all requests to one upstream (or one alias): thread-safe.
#pragma once

#include <mutex>

#include "core/status.h"

namespace sheepdog {

struct RetryBudgetPolicy {
  bool token_bucket_enabled = true;
  double max_tokens = 100;
  double token_ratio = 0.1;
  bool concurrency_cap_enabled = false;
  double budget_percent = 20.0;
  int min_retry_concurrency = 3;

  // Ok iff max_tokens > 0, token_ratio in (0, max_tokens], budget_percent in (0, 100],
  // min_retry_concurrency >= 0.
  Status validate() const;
};

class RetryBudget {
 public:
  // Starts with max_tokens. REQUIRES: policy.validate() is ok.
  explicit RetryBudget(const RetryBudgetPolicy& policy);

  // Outcome of every attempt, first attempts and retries alike: a success adds token_ratio
  // (capped at max_tokens), a failure takes 1 (floored at 0).
  void record_success();
  void record_failure();

  // Requests in flight (for the concurrency cap). Pair every started with one finished.
  void request_started();
  void request_finished();

  // True iff a retry may be sent now. On true the caller holds a retry slot and must call
  // retry_finished() when that retry attempt ends.
  bool try_acquire_retry();
  void retry_finished();

  double tokens() const;
  int active_requests() const;
  int active_retries() const;
  long retries_refused() const;

 private:
  const RetryBudgetPolicy policy_;
  mutable std::mutex mu_;
  double tokens_;
  int active_requests_ = 0;
  int active_retries_ = 0;
  long retries_refused_ = 0;
};

}  // namespace sheepdog
