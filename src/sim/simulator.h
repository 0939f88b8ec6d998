// The discrete-event simulator: one Scenario, one Strategy, one seed -> one RunResult.
//
// "One engine, two clocks": each request is driven by the gateway's own attempt loop
// (routing/attempt_loop.h), the same class gateway/request_run interprets, over one alias whose
// deployments are the scenario's upstreams in order (only the primary for strategies without
// fallback), with a CircuitBreaker per upstream (disabled when the strategy has none) and the
// strategy's RetryBudget. The simulator carries out the loop's commands on virtual time: an
// attempt goes to the upstream's model (faults, queue, latency) with the attempt timer the
// command names, a wait is an event, a give-up ends the request with its reason. Replies are
// classified by classify(), as the gateway classifies responses.
// Tool calls (scenarios with a ToolCallModel): each transport success is an answer that may fail
// validation; an invalid one goes to the strategy's ToolCallState::on_invalid(), as in the
// gateway: kResample and kRepair are the loop's resend (the same upstream at once, outside
// max_attempts; the deadline is shared), kPass delivers it flagged, kFail ends the request with
// invalid_tool_call. Validation takes no virtual time; the breaker and the budget see the answer
// as a success.
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
