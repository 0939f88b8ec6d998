// The built-in strategies and their one-line descriptions.
#include "sim/strategy.h"

#include <fmt/format.h>

namespace sheepdog::sim {
namespace {

RetryPolicy base_policy(BackoffKind kind, JitterMode jitter) {
  RetryPolicy p;
  p.max_attempts = 4;
  p.attempt_timeout = seconds(10);
  p.total_timeout = seconds(30);
  p.backoff.kind = kind;
  p.backoff.jitter = jitter;
  p.backoff.base_delay = milliseconds(500);
  p.backoff.max_delay = seconds(8);
  p.backoff.multiplier = 2.0;
  p.honor_pushback = true;
  p.max_pushback = seconds(30);
  return p;
}

// The tool-call strategies differ only in their ToolCallPolicy; transport retries are those of
// exponential-jitter, so that the comparison isolates the validation policy.
Strategy tool_strategy(std::string_view name, ToolRepairMode mode) {
  Strategy s;
  s.name = std::string(name);
  s.retry = base_policy(BackoffKind::kExponential, JitterMode::kFull);
  ToolCallPolicy policy;
  policy.mode = mode;
  policy.max_retries = 2;
  s.tool_calls = policy;
  return s;
}

std::optional<Strategy> base_strategy(std::string_view name) {
  Strategy s;
  s.name = std::string(name);
  if (name == "linear") {
    s.retry = base_policy(BackoffKind::kLinear, JitterMode::kNone);
    s.summary = "linear backoff 0.5 s * n, no jitter";
  } else if (name == "exponential") {
    s.retry = base_policy(BackoffKind::kExponential, JitterMode::kNone);
    s.summary = "exponential backoff 0.5 s * 2^(n-1), no jitter";
  } else if (name == "exponential-jitter") {
    s.retry = base_policy(BackoffKind::kExponential, JitterMode::kFull);
    s.summary = "exponential backoff with full jitter";
  } else if (name == "exponential-jitter-breaker") {
    s.retry = base_policy(BackoffKind::kExponential, JitterMode::kFull);
    s.breaker = CircuitBreakerPolicy{};
    s.fallback = true;
    s.summary = "exponential + full jitter, a circuit breaker per upstream, fallback provider";
  } else if (name == "decorrelated-jitter") {
    s.retry = base_policy(BackoffKind::kDecorrelatedJitter, JitterMode::kNone);
    s.summary = "AWS decorrelated jitter: min(cap, uniform(base, 3 * previous))";
  } else if (name == "tool-resample") {
    s = tool_strategy(name, ToolRepairMode::kResample);
    s.summary = "exponential-jitter; an invalid tool call is resampled, up to 2 times";
  } else if (name == "tool-repair") {
    s = tool_strategy(name, ToolRepairMode::kRepair);
    s.summary = "exponential-jitter; an invalid tool call is repaired (errors fed back), up to 2x";
  } else if (name == "tool-pass") {
    s = tool_strategy(name, ToolRepairMode::kPass);
    s.summary = "exponential-jitter; an invalid tool call is returned as it is, flagged";
  } else {
    return std::nullopt;
  }
  return s;
}

}  // namespace

Status Strategy::validate() const {
  if (Status s = retry.validate(); !s.is_ok()) {
    return Status::error(fmt::format("strategy '{}': retry.{}", name, s.message()));
  }
  if (breaker) {
    if (Status s = breaker->validate(); !s.is_ok()) {
      return Status::error(fmt::format("strategy '{}': breaker.{}", name, s.message()));
    }
  }
  if (budget) {
    if (Status s = budget->validate(); !s.is_ok()) {
      return Status::error(fmt::format("strategy '{}': budget.{}", name, s.message()));
    }
  }
  if (tool_calls) {
    if (Status s = tool_calls->validate(); !s.is_ok()) {
      return Status::error(fmt::format("strategy '{}': {}", name, s.message()));
    }
  }
  return Status::ok();
}

std::string Strategy::describe() const {
  const BackoffPolicy& b = retry.backoff;
  std::string out =
      fmt::format("{}: {} attempts, attempt timeout {:g} s; backoff {} base {:g} ms cap {:g} s",
                  name, retry.max_attempts, to_seconds(retry.attempt_timeout), to_string(b.kind),
                  to_ms(b.base_delay), to_seconds(b.max_delay));
  if (b.kind == BackoffKind::kExponential) {
    out += fmt::format(" x{:g}", b.multiplier);
  }
  if (b.kind != BackoffKind::kDecorrelatedJitter) {
    out += fmt::format(", jitter {}", to_string(b.jitter));
  }
  out += retry.honor_pushback
             ? fmt::format("; Retry-After honoured up to {:g} s", to_seconds(retry.max_pushback))
             : std::string("; Retry-After ignored");
  if (breaker && breaker->enabled) {
    out += fmt::format(
        "; breaker: {} consecutive or {:g}% of last {} (min {}), open {:g} s x{:g} up to {:g} s",
        breaker->consecutive_failures, breaker->failure_rate_threshold * 100, breaker->window_size,
        breaker->minimum_calls, to_seconds(breaker->open_duration),
        breaker->open_duration_multiplier, to_seconds(breaker->max_open_duration));
  }
  if (budget) {
    out += fmt::format("; retry budget: {:g} tokens, ratio {:g}", budget->max_tokens,
                       budget->token_ratio);
    if (budget->concurrency_cap_enabled) {
      out += fmt::format(", retries <= {:g}% of requests in flight (min {})",
                         budget->budget_percent, budget->min_retry_concurrency);
    }
  }
  out += fallback ? "; fallback on" : "; primary only";
  if (tool_calls && tool_calls->enabled) {
    out += tool_calls->mode == ToolRepairMode::kPass
               ? std::string("; invalid tool calls passed through, flagged")
               : fmt::format("; invalid tool calls: {}, up to {} times",
                             to_string(tool_calls->mode), tool_calls->max_retries);
  }
  return out;
}

const std::vector<std::string>& builtin_strategy_names() {
  static const auto* const kNames = new std::vector<std::string>{"linear",
                                                                 "exponential",
                                                                 "exponential-jitter",
                                                                 "exponential-jitter-breaker",
                                                                 "decorrelated-jitter",
                                                                 "tool-resample",
                                                                 "tool-repair",
                                                                 "tool-pass"};
  return *kNames;
}

const std::vector<std::string>& tool_call_strategy_names() {
  static const auto* const kNames =
      new std::vector<std::string>{"tool-resample", "tool-repair", "tool-pass"};
  return *kNames;
}

const std::vector<std::string>& default_strategy_names() {
  static const auto* const kNames =
      new std::vector<std::string>{"linear",
                                   "exponential",
                                   "exponential-jitter",
                                   "exponential-jitter-breaker",
                                   "decorrelated-jitter",
                                   "exponential-jitter-breaker+budget"};
  return *kNames;
}

std::optional<Strategy> builtin_strategy(std::string_view name) {
  const bool with_budget = name.ends_with(kBudgetSuffix);
  std::string_view base = name;
  if (with_budget) {
    base.remove_suffix(kBudgetSuffix.size());
  }
  std::optional<Strategy> s = base_strategy(base);
  if (!s) {
    return std::nullopt;
  }
  if (with_budget) {
    s->name = std::string(name);
    s->budget = RetryBudgetPolicy{};
    s->summary += ", plus a retry budget (token bucket 100, ratio 0.1)";
  }
  return s;
}

}  // namespace sheepdog::sim
