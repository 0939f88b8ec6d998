#include "gateway/gateway_metrics.h"

namespace sheepdog::gateway {

GatewayMetrics::GatewayMetrics(MetricsRegistry& registry)
    : requests(registry.counter("sheepdog_requests_total",
                                "Finished client requests, by model alias, the deployment that "
                                "answered (or was tried last) and outcome.",
                                {"model", "deployment", "outcome"})),
      attempts(registry.counter("sheepdog_attempts_total",
                                "Upstream attempts, by model alias, deployment and outcome.",
                                {"model", "deployment", "outcome"})),
      retries(registry.counter("sheepdog_retries_total",
                               "Retries (same or another deployment or alias), by the error "
                               "kind of the attempt that caused them.",
                               {"model", "reason"})),
      successes_after_retry(
          registry.counter("sheepdog_successes_after_retry_total",
                           "Requests that succeeded on a second or later attempt.", {"model"})),
      give_ups(registry.counter("sheepdog_give_ups_total",
                                "Requests that failed, by why the gateway stopped trying.",
                                {"model", "reason"})),
      request_seconds(registry.histogram(
          "sheepdog_request_duration_seconds",
          "Time from a request's arrival until its response was handed to the client.", {"model"},
          default_latency_buckets_seconds())),
      upstream_seconds(registry.histogram("sheepdog_upstream_duration_seconds",
                                          "Duration of each upstream attempt.", {"deployment"},
                                          default_latency_buckets_seconds())),
      time_to_first_token_seconds(registry.histogram(
          "sheepdog_time_to_first_token_seconds",
          "Streams: time from a request's arrival until its first event reached the client.",
          {"model"}, default_latency_buckets_seconds())),
      // 1 us to ~16 ms in doublings: the overhead target is tens of microseconds.
      overhead_microseconds(registry.histogram(
          "sheepdog_gateway_overhead_microseconds",
          "Time spent in sheepdog itself per request: total time minus upstream time, backoff "
          "waits and time spent writing to the client.",
          {}, exponential_buckets(1, 2, 15))),
      tokens(registry.counter("sheepdog_tokens_total",
                              "Tokens as reported by the upstreams, by direction (prompt or "
                              "completion).",
                              {"model", "direction"})),
      in_flight(
          registry.gauge("sheepdog_in_flight_requests", "Client requests being handled now.")),
      breaker_state(registry.gauge("sheepdog_breaker_state",
                                   "Circuit breaker state per deployment: 0 closed, 1 open, 2 "
                                   "half-open.",
                                   {"deployment"})),
      breaker_transitions(registry.counter("sheepdog_breaker_transitions_total",
                                           "Circuit breaker state changes per deployment.",
                                           {"deployment", "from", "to"})),
      key_requests(registry.counter("sheepdog_key_requests_total",
                                    "Upstream attempts per provider API key (a fingerprint).",
                                    {"provider", "key"})),
      key_cool_downs(registry.counter("sheepdog_key_cool_downs_total",
                                      "Times a provider refused an API key (429) and it was "
                                      "rested.",
                                      {"provider", "key"})),
      key_cooling(registry.gauge("sheepdog_key_cooling",
                                 "1 while a provider API key is resting after a 429, else 0.",
                                 {"provider", "key"})),
      key_waits(registry.counter("sheepdog_key_waits_total",
                                 "Requests that found every API key of a provider at its limit, "
                                 "by what followed: waited (for a key to free up) or refused.",
                                 {"provider", "outcome"})),
      idempotent_requests(registry.counter(
          "sheepdog_idempotent_requests_total",
          "Requests carrying an Idempotency-Key, by what happened: executed, replayed (a stored "
          "answer), waited (for a concurrent duplicate, then replayed) or conflict (422).",
          {"outcome"})),
      validation_failures(registry.counter(
          "sheepdog_validation_failures_total",
          "Answers that failed validation: tool calls (unknown tool, arguments not JSON or "
          "breaking the tool's schema) or structured output breaking its response_format.",
          {"model", "kind", "reason"})),
      validation_retries(registry.counter(
          "sheepdog_validation_retries_total",
          "Requests sent again because the answer failed validation, by mode (resample or "
          "repair).",
          {"model", "mode"})),
      validation_results(registry.counter(
          "sheepdog_validation_results_total",
          "Validated requests by result: valid, repaired (valid after validation retries), "
          "failed (answered with an error), passed_invalid (mode pass).",
          {"model", "result"})) {}

double GatewayMetrics::state_value(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return 0;
    case BreakerState::kOpen:
      return 1;
    case BreakerState::kHalfOpen:
      return 2;
  }
  return 0;
}

}  // namespace sheepdog::gateway
