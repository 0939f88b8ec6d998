// The discrete-event simulator: one Scenario, one Strategy, one seed -> one RunResult.
//
// "One engine, two clocks": each request is driven by the same policy objects as the gateway's
// executor (RetryState, Backoff inside it, a CircuitBreaker per upstream, a shared RetryBudget,
// classify() for every reply) through the same attempt loop:
//   pick the candidate by gateway::CandidatePicker's rule (first: the first upstream in order
//     whose breaker admits; "same": the current one, else as "next"; "next": an untried upstream
//     in order, then tried ones cyclically after the current); none admits -> fail
//     (all_circuits_open). The rule is mirrored here, not shared: the picker lives in gateway/,
//     above sim/ in the dependency order;
//   attempt with RetryState::attempt_timeout(now); classify the reply; record it into the
//     breaker and the budget; decision = RetryState::on_attempt(outcome, Retry-After, now,
//     has_alternative); a retry must pass RetryBudget::try_acquire_retry(), else the request
//     fails (budget_exhausted); wait decision.delay on virtual time; kRetrySame asks for the
//     same upstream, kRetryNext for the next. The retry budget is one per run, as the gateway
//     keeps one per alias.
// Strategies without fallback have only the primary as a candidate.
// Tool calls (scenarios with a ToolCallModel): each transport success is an answer that may fail
// validation; an invalid one goes to the strategy's ToolCallState::on_invalid(), as in the
// gateway: kResample and kRepair attempt again at once on the same upstream without reporting
// the answer to the RetryState (the validation allowance is separate from max_attempts; the
// deadline is shared), kPass delivers it flagged, kFail ends the request with invalid_tool_call.
// Validation takes no virtual time; the breaker and the budget see the answer as a success.
//
// Time is virtual: an event queue keyed by (TimePoint, sequence number); nothing reads a real
// clock. One SeededRandom per run draws everything, in event order, so the same seed gives the
// same result bit for bit. Open-loop arrival times are drawn first, so every strategy sees the
// same arrivals for a given seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/metrics.h"
#include "sim/scenario.h"
#include "sim/strategy.h"

namespace sheepdog::sim {

struct SimOptions {
  bool keep_records = false;  // fill RunResult::records (for plots)
};

struct RunResult {
  std::string strategy;
  uint64_t seed = 0;
  RunMetrics metrics;
  std::vector<RequestRecord> records;  // by request id; empty unless keep_records
};

// REQUIRES: scenario.validate() and strategy.validate() are ok.
RunResult simulate(const Scenario& scenario, const Strategy& strategy, uint64_t seed,
                   const SimOptions& options = {});

}  // namespace sheepdog::sim
