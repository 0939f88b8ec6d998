#include "resilience/retry_budget.h"

#include <algorithm>
#include <cmath>

namespace sheepdog {

Status RetryBudgetPolicy::validate() const {
  // Written as !(in range) so that NaN is rejected too.
  if (!(max_tokens > 0.0) || std::isinf(max_tokens)) {
    return Status::error("retry_budget.max_tokens must be > 0 and finite");
  }
  if (!(token_ratio > 0.0 && token_ratio <= max_tokens)) {
    return Status::error("retry_budget.token_ratio must be in (0, max_tokens]");
  }
  if (!(budget_percent > 0.0 && budget_percent <= 100.0)) {
    return Status::error("retry_budget.budget_percent must be in (0, 100]");
  }
  if (min_retry_concurrency < 0) {
    return Status::error("retry_budget.min_retry_concurrency must be >= 0");
  }
  return Status::ok();
}

RetryBudget::RetryBudget(const RetryBudgetPolicy& policy)
    : policy_(policy), tokens_(policy.max_tokens) {}

void RetryBudget::record_success() {
  std::lock_guard lock(mu_);
  tokens_ = std::min(policy_.max_tokens, tokens_ + policy_.token_ratio);
}

void RetryBudget::record_failure() {
  std::lock_guard lock(mu_);
  tokens_ = std::max(0.0, tokens_ - 1.0);
}

void RetryBudget::request_started() {
  std::lock_guard lock(mu_);
  ++active_requests_;
}

void RetryBudget::request_finished() {
  std::lock_guard lock(mu_);
  active_requests_ = std::max(0, active_requests_ - 1);
}

bool RetryBudget::try_acquire_retry() {
  std::lock_guard lock(mu_);
  bool allowed = true;
  if (policy_.token_bucket_enabled) {
    // gRPC A6: "retries are throttled when the token count is at or below max_tokens / 2".
    allowed = tokens_ > policy_.max_tokens / 2;
  }
  if (allowed && policy_.concurrency_cap_enabled) {
    // Envoy truncates percent-of-active to an integer; multiplying before dividing keeps
    // 29% of 100 at exactly 29 rather than 0.29 * 100 = 28.999...
    const auto share = static_cast<long>(policy_.budget_percent * active_requests_ / 100.0);
    const long cap = std::max<long>(policy_.min_retry_concurrency, share);
    allowed = active_retries_ < cap;
  }
  if (!allowed) {
    ++retries_refused_;
    return false;
  }
  ++active_retries_;
  return true;
}

void RetryBudget::retry_finished() {
  std::lock_guard lock(mu_);
  active_retries_ = std::max(0, active_retries_ - 1);
}

double RetryBudget::tokens() const {
  std::lock_guard lock(mu_);
  return tokens_;
}

int RetryBudget::active_requests() const {
  std::lock_guard lock(mu_);
  return active_requests_;
}

int RetryBudget::active_retries() const {
  std::lock_guard lock(mu_);
  return active_retries_;
}

long RetryBudget::retries_refused() const {
  std::lock_guard lock(mu_);
  return retries_refused_;
}

}  // namespace sheepdog
