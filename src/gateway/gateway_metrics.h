// The gateway's metric families, registered once at start-up on a MetricsRegistry and updated
// by the attempt loop (through the Observer). Names are prefixed `sheepdog_`; durations are in
// seconds except the gateway's own overhead, in microseconds because it is that small.
//
//   sheepdog_requests_total{model,deployment,outcome}     finished requests; outcome is
//                                                         "success" or an ErrorKind name
//   sheepdog_attempts_total{model,deployment,outcome}     upstream attempts, likewise
//   sheepdog_retries_total{model,reason}                  retries, by the failure that caused them
//   sheepdog_successes_after_retry_total{model}           requests that succeeded on attempt >= 2
//   sheepdog_give_ups_total{model,reason}                 failed requests by GiveUpReason
//   sheepdog_request_duration_seconds{model}              arrival to response handed over
//   sheepdog_upstream_duration_seconds{deployment}        each attempt's upstream time
//   sheepdog_time_to_first_token_seconds{model}           streams: arrival to first event out
//   sheepdog_gateway_overhead_microseconds                time in sheepdog itself: request time
//                                                         minus upstream, backoff and client
//                                                         write time
//   sheepdog_tokens_total{model,direction}                "prompt" / "completion", as reported
//   sheepdog_in_flight_requests                           requests being handled now
//   sheepdog_breaker_state{deployment}                    0 closed, 1 open, 2 half-open
//   sheepdog_breaker_transitions_total{deployment,from,to}
//   sheepdog_key_requests_total{provider,key}             attempts sent with each API key
//   sheepdog_key_cool_downs_total{provider,key}           429s that rested a key
//   sheepdog_key_cooling{provider,key}                    1 while the key rests (set on scrape)
//   sheepdog_key_waits_total{provider,outcome}            requests that found every key at its
//                                                         limit: "waited" or "refused"
//   sheepdog_idempotent_requests_total{outcome}           requests with an Idempotency-Key:
//                                                         executed, replayed, waited, conflict
//   sheepdog_validation_failures_total{model,kind,reason} invalid answers (tool calls or
//                                                         structured output), by reason
//   sheepdog_validation_retries_total{model,mode}         resample / repair requests sent
//   sheepdog_validation_results_total{model,result}       validated requests: valid, repaired
//                                                         (valid after retries), failed,
//                                                         passed_invalid
//
// Keys are labelled by their fingerprint (core/key_fingerprint.h), never the key.
//
// Thread-safe: every member is a registry family (see telemetry/metrics.h).
#pragma once

#include <string_view>

#include "resilience/circuit_breaker.h"
#include "telemetry/metrics.h"

namespace sheepdog::gateway {

struct GatewayMetrics {
  explicit GatewayMetrics(MetricsRegistry& registry);

  CounterFamily& requests;
  CounterFamily& attempts;
  CounterFamily& retries;
  CounterFamily& successes_after_retry;
  CounterFamily& give_ups;
  HistogramFamily& request_seconds;
  HistogramFamily& upstream_seconds;
  HistogramFamily& time_to_first_token_seconds;
  HistogramFamily& overhead_microseconds;
  CounterFamily& tokens;
  GaugeFamily& in_flight;
  GaugeFamily& breaker_state;
  CounterFamily& breaker_transitions;
  CounterFamily& key_requests;
  CounterFamily& key_cool_downs;
  GaugeFamily& key_cooling;
  CounterFamily& key_waits;
  CounterFamily& idempotent_requests;
  CounterFamily& validation_failures;
  CounterFamily& validation_retries;
  CounterFamily& validation_results;

  // The gauge value for a breaker state: 0 closed, 1 open, 2 half-open.
  static double state_value(BreakerState state);
};

}  // namespace sheepdog::gateway
