// What the attempt loop reports: one metrics update and one JSON log line per attempt and per
// request. The only place where the executor's records become metric labels and log fields.
//
// Log lines carry ids, names, kinds and numbers only: the request id, aliases, deployment
// names, outcome kinds, statuses, durations and token counts. Never a key, a header, a prompt or
// a completion (the logger redacts such fields too, see telemetry/log.h).
// Thread-safe (metrics and the logger are).
#pragma once

#include <optional>
#include <string_view>

#include "core/clock.h"
#include "core/error_kind.h"
#include "gateway/gateway_metrics.h"
#include "providers/provider.h"
#include "resilience/retry_policy.h"
#include "telemetry/log.h"

namespace sheepdog::gateway {

struct AttemptRecord {
  std::string_view request_id;
  std::string_view alias;  // the alias whose deployment was called
  std::string_view deployment;
  int attempt = 0;                 // 1-based, across the whole request
  std::optional<ErrorKind> error;  // nullopt: success
  int status = 0;                  // the upstream's HTTP status; 0 if it never answered
  Duration latency{};              // the attempt's upstream time
  Duration backoff{};              // the wait before this attempt
  bool stream = false;
  std::string_view detail;  // transport or decode problem (no content)
  std::string_view key_id;  // the API key's fingerprint, "" if no pool key was used
  providers::TokenUsage usage;  // what this attempt's answer reported, if it did
};

struct RequestRecord {
  std::string_view request_id;
  std::string_view model;          // what the client asked for (logs)
  std::string_view model_label;    // the same as metrics label it (model_labels.h); "" = model
  std::string_view deployment;     // that answered, or was tried last ("" if none)
  std::optional<ErrorKind> error;  // nullopt: success
  GiveUpReason reason = GiveUpReason::kNone;
  int status = 0;  // sent to the client (0: the client left first)
  int attempts = 0;
  bool stream = false;
  Duration latency{};       // arrival until the response was handed over
  Duration upstream{};      // sum of attempt latencies
  Duration backoff{};       // sum of retry waits
  Duration client_write{};  // time blocked writing to the client (streams)
  std::optional<Duration> time_to_first_token;
  providers::TokenUsage usage;  // summed over every attempt (RequestRun::record_attempt)
  // Answer validation: "valid", "repaired", "failed"; "" when the answer was not validated.
  std::string_view validation;
};

class Observer {
 public:
  // `logger` may be null (no log lines). Both must outlive the observer.
  Observer(GatewayMetrics& metrics, StructuredLogger* logger);

  void request_started();
  void on_attempt(const AttemptRecord& record);
  void on_retry(std::string_view model, ErrorKind cause);
  // Also ends the request for the in-flight gauge.
  void on_request(const RequestRecord& record);

  // latency - upstream - backoff - client_write, floored at 0.
  static Duration overhead(const RequestRecord& record);

 private:
  GatewayMetrics& metrics_;
  StructuredLogger* logger_;
};

}  // namespace sheepdog::gateway
