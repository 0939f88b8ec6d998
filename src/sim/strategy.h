// A retry strategy as the simulator compares them: exactly the policy objects the gateway is
// configured with (RetryPolicy, optional CircuitBreakerPolicy per upstream, optional
// RetryBudgetPolicy shared by the alias) plus whether the fallback provider may be used.
//
// Built-ins (all: 4 attempts in total, 10 s attempt timeout, honour Retry-After up to 30 s,
// base delay 500 ms, cap 8 s):
//   linear                       d = 500 ms * n, no jitter
//   exponential                  d = 500 ms * 2^(n-1), no jitter
//   exponential-jitter           exponential with full jitter
//   exponential-jitter-breaker   exponential-jitter + a breaker per upstream (default
//                                CircuitBreakerPolicy) + fallback to the second provider
//   decorrelated-jitter          AWS's decorrelated jitter
//   tool-resample                exponential-jitter (primary only), plus a ToolCallPolicy that
//                                resamples an answer failing validation, up to 2 times
//   tool-repair                  likewise, repairing (the faulty answer and its errors sent
//                                back) up to 2 times
//   tool-pass                    likewise, returning an invalid answer as it is (flagged)
// Any name may carry the suffix "+budget": the same strategy with the default RetryBudgetPolicy
// (gRPC A6 token bucket, 100 tokens, ratio 0.1).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "resilience/circuit_breaker.h"
#include "resilience/retry_budget.h"
#include "resilience/retry_policy.h"
#include "resilience/tool_call_policy.h"

namespace sheepdog::sim {

struct Strategy {
  std::string name;
  std::string summary;  // one line, for --list
  RetryPolicy retry;
  std::optional<CircuitBreakerPolicy> breaker;  // one breaker per upstream when set
  std::optional<RetryBudgetPolicy> budget;      // one budget per run (the alias) when set
  // Whether attempts may go to upstreams after the primary. Off: only the primary is a
  // candidate, so has_alternative is always false.
  bool fallback = false;
  // What to do with answers that fail validation, in scenarios with tool calls. Unset (or not
  // enabled): answers are not validated, so an invalid one reaches the client unflagged.
  std::optional<ToolCallPolicy> tool_calls;

  // Ok iff the contained policies validate; the message names the field.
  Status validate() const;
  // One line with every parameter that differs between strategies (for --describe).
  std::string describe() const;
};

inline constexpr std::string_view kBudgetSuffix = "+budget";

// Base names, in the order they are listed.
const std::vector<std::string>& builtin_strategy_names();
// The default comparison: the five base strategies plus exponential-jitter-breaker+budget.
const std::vector<std::string>& default_strategy_names();
// The default comparison for scenarios with tool calls: tool-resample, tool-repair, tool-pass.
const std::vector<std::string>& tool_call_strategy_names();
// A built-in by name, with or without the "+budget" suffix; nullopt if unknown.
std::optional<Strategy> builtin_strategy(std::string_view name);

}  // namespace sheepdog::sim
