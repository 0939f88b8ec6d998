// The per-attempt cost of the shared resilience state: one breaker admission plus its record,
// and one retry-budget admission, each uncontended (a mutex lock each).
#include <benchmark/benchmark.h>

#include "resilience/circuit_breaker.h"
#include "resilience/retry_budget.h"

namespace sheepdog {
namespace {

void BM_BreakerAcquireAndRecordClosed(benchmark::State& state) {
  CircuitBreaker breaker{CircuitBreakerPolicy{}};
  TimePoint now{};
  const AttemptOutcome success = AttemptOutcome::success();
  for (auto _ : state) {
    now += microseconds(1);
    const bool admitted = breaker.try_acquire(now);
    benchmark::DoNotOptimize(admitted);
    breaker.record(success, now);
  }
}
BENCHMARK(BM_BreakerAcquireAndRecordClosed);

void BM_RetryBudgetAcquire(benchmark::State& state) {
  RetryBudgetPolicy policy;
  policy.concurrency_cap_enabled = true;
  RetryBudget budget(policy);
  budget.request_started();
  for (auto _ : state) {
    const bool admitted = budget.try_acquire_retry();
    benchmark::DoNotOptimize(admitted);
    if (admitted) {
      budget.retry_finished();
    }
  }
}
BENCHMARK(BM_RetryBudgetAcquire);

}  // namespace
}  // namespace sheepdog
