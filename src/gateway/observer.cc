#include "gateway/observer.h"

namespace sheepdog::gateway {
namespace {

std::string_view outcome_name(const std::optional<ErrorKind>& error) {
  return error ? to_string(*error) : std::string_view("success");
}

double micros(Duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

}  // namespace

Observer::Observer(GatewayMetrics& metrics, StructuredLogger* logger)
    : metrics_(metrics), logger_(logger) {}

void Observer::request_started() { metrics_.in_flight.with({}).inc(); }

Duration Observer::overhead(const RequestRecord& r) {
  const Duration d = r.latency - r.upstream - r.backoff - r.client_write;
  return d < Duration::zero() ? Duration::zero() : d;
}

void Observer::on_attempt(const AttemptRecord& r) {
  metrics_.attempts.with({r.alias, r.deployment, outcome_name(r.error)}).inc();
  metrics_.upstream_seconds.with({r.deployment}).observe(to_seconds(r.latency));
  if (logger_ == nullptr || !logger_->enabled(LogLevel::kInfo)) {
    return;
  }
  LogFields fields;
  fields.str("request_id", r.request_id)
      .str("alias", r.alias)
      .str("deployment", r.deployment)
      .num("attempt", r.attempt)
      .str("outcome", outcome_name(r.error))
      .num("status", r.status)
      .ms("latency_ms", r.latency)
      .ms("backoff_ms", r.backoff)
      .flag("stream", r.stream);
  if (!r.key_id.empty()) {
    fields.str("key_id", r.key_id);
  }
  if (!r.detail.empty()) {
    fields.str("detail", r.detail);
  }
  if (r.usage.reported) {
    fields.num("prompt_tokens", r.usage.prompt_tokens)
        .num("completion_tokens", r.usage.completion_tokens);
  }
  logger_->log(r.error ? LogLevel::kWarn : LogLevel::kInfo, "attempt", fields);
}

void Observer::on_retry(std::string_view model, ErrorKind cause) {
  metrics_.retries.with({model, to_string(cause)}).inc();
}

void Observer::on_request(const RequestRecord& r) {
  const std::string_view model = r.model_label.empty() ? r.model : r.model_label;
  metrics_.in_flight.with({}).dec();
  metrics_.requests.with({model, r.deployment, outcome_name(r.error)}).inc();
  metrics_.request_seconds.with({model}).observe(to_seconds(r.latency));
  const Duration overhead_time = overhead(r);
  metrics_.overhead_microseconds.with({}).observe(micros(overhead_time));
  if (!r.error && r.attempts > 1) {
    metrics_.successes_after_retry.with({model}).inc();
  }
  if (r.error && r.reason != GiveUpReason::kNone) {
    metrics_.give_ups.with({model, to_string(r.reason)}).inc();
  }
  if (r.time_to_first_token) {
    metrics_.time_to_first_token_seconds.with({model}).observe(to_seconds(*r.time_to_first_token));
  }
  if (r.usage.reported) {
    metrics_.tokens.with({model, "prompt"}).inc(static_cast<uint64_t>(r.usage.prompt_tokens));
    metrics_.tokens.with({model, "completion"})
        .inc(static_cast<uint64_t>(r.usage.completion_tokens));
  }
  if (logger_ == nullptr || !logger_->enabled(LogLevel::kInfo)) {
    return;
  }
  LogFields fields;
  fields.str("request_id", r.request_id)
      .str("model", r.model)
      .str("deployment", r.deployment)
      .str("outcome", outcome_name(r.error))
      .num("status", r.status)
      .num("attempts", r.attempts)
      .flag("stream", r.stream)
      .ms("latency_ms", r.latency)
      .ms("upstream_ms", r.upstream)
      .ms("backoff_ms", r.backoff)
      .num("overhead_us", micros(overhead_time));
  if (r.reason != GiveUpReason::kNone) {
    fields.str("give_up", to_string(r.reason));
  }
  if (r.time_to_first_token) {
    fields.ms("ttft_ms", *r.time_to_first_token);
  }
  if (r.usage.reported) {
    fields.num("prompt_tokens", r.usage.prompt_tokens)
        .num("completion_tokens", r.usage.completion_tokens);
  }
  if (!r.validation.empty()) {
    fields.str("validation", r.validation);
  }
  logger_->log(LogLevel::kInfo, "request", fields);
}

}  // namespace sheepdog::gateway
