#include "gateway/request_run.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include "gateway/stream_relay.h"
#include "gateway/token_estimate.h"
#include "llm/repair_prompt.h"

namespace sheepdog::gateway {
namespace {

namespace asio = boost::asio;

bool walks_on(GiveUpReason reason) {
  return reason == GiveUpReason::kMaxAttempts || reason == GiveUpReason::kNoAlternative ||
         reason == GiveUpReason::kPushbackTooLong;
}

}  // namespace

// One alias's share of the request: its retry state and deployment choice.
struct RequestRun::Segment {
  Segment(const Alias& a, RetryPolicy p, RandomSource& random, TimePoint start,
          std::vector<size_t> order)
      : alias(a), policy(std::move(p)), retry(policy, random, start), picker(a, std::move(order)) {
    alias.budget.request_started();
  }
  ~Segment() { alias.budget.request_finished(); }

  const Alias& alias;
  const RetryPolicy policy;  // before `retry`, which refers to it
  RetryState retry;
  CandidatePicker picker;
};

RequestRun::RequestRun(ThreadParts parts, const GatewayRequest& request, ClientSink& sink)
    : parts_(parts), request_(request), sink_(sink), clock_(parts.runtime.clock()) {}

RequestRun::~RequestRun() {
  // Only if the coroutine was destroyed mid-way (a forced shutdown): keep the counts balanced.
  release_retry_slot();
  if (started_ && !finished_) {
    finish(ErrorKind::kCancelled, GiveUpReason::kNone, 0);
  }
}

void RequestRun::enter(const Alias& alias) {
  visited_.push_back(&alias);
  RetryPolicy policy = alias.policy.retry;
  policy.total_timeout = total_timeout_;
  policy.attempt_timeout = std::min(policy.attempt_timeout, total_timeout_);
  RouteRequest route;
  if (alias.sticky_by == config::StickyBy::kUser) {
    route.sticky_key = request_.user;
  } else if (alias.sticky_by == config::StickyBy::kHeader && request_.header) {
    route.sticky_key = request_.header(alias.sticky_header);
  }
  std::vector<DeploymentSnapshot> stats;
  if (alias.router.policy().strategy == RoutingStrategy::kLeastLatency) {
    for (const Deployment* d : alias.deployments) {
      stats.push_back(d->stats.snapshot());
    }
    route.stats = stats;
  }
  std::vector<size_t> order = alias.router.plan(route, parts_.random);
  segment_.reset();
  segment_ =
      std::make_unique<Segment>(alias, std::move(policy), parts_.random, start_, std::move(order));
}

bool RequestRun::next_fallback() {
  while (!pending_.empty()) {
    const Alias* alias = pending_.front();
    pending_.pop_front();
    if (std::find(visited_.begin(), visited_.end(), alias) == visited_.end()) {
      enter(*alias);
      return true;
    }
  }
  return false;
}

bool RequestRun::acquire_retry_slot(const Alias& alias) {
  release_retry_slot();
  if (!alias.budget.try_acquire_retry()) {
    return false;
  }
  retry_slot_ = &alias.budget;
  return true;
}

RequestRun::FallbackMove RequestRun::retry_on_fallback(ErrorKind cause) {
  if (!next_fallback()) {
    return FallbackMove::kNone;
  }
  if (!acquire_retry_slot(segment_->alias)) {
    return FallbackMove::kNoBudget;
  }
  parts_.observer.on_retry(request_.model, cause);
  return FallbackMove::kMoved;
}

void RequestRun::release_retry_slot() {
  if (retry_slot_ != nullptr) {
    retry_slot_->retry_finished();
    retry_slot_ = nullptr;
  }
}

int64_t RequestRun::estimated_tokens() {
  if (!estimated_tokens_) {
    estimated_tokens_ = estimate_request_tokens(request_.operation, request_.body);
  }
  return *estimated_tokens_;
}

asio::awaitable<RequestRun::KeyStep> RequestRun::on_no_key(Deployment& deployment, size_t index,
                                                           CandidatePicker::Want& want) {
  TimePoint now = clock_.now();
  // Admitted by the breaker but never called: a neutral record frees a half-open probe slot.
  deployment.breaker.record(AttemptOutcome::failure(ErrorKind::kCancelled), now);
  if (segment_->picker.has_alternative(now)) {
    segment_->picker.exclude(index);
    want = CandidatePicker::Want::kNext;
    co_return KeyStep::kContinue;
  }
  ProviderKeys& keys = *deployment.keys;
  const std::optional<TimePoint> free_at = keys.pool().next_available(estimated_tokens(), now);
  if (free_at && *free_at < segment_->retry.deadline()) {
    keys.count_wait(true);
    const Duration delay = std::max(Duration::zero(), *free_at - now);
    const bool waited = co_await wait(delay);
    if (!waited) {
      finish(ErrorKind::kCancelled, GiveUpReason::kNone, 0);
      co_return KeyStep::kDone;
    }
    record_.backoff += delay;
    pending_backoff_ += delay;
    want = CandidatePicker::Want::kSame;
    co_return KeyStep::kContinue;
  }
  keys.count_wait(false);
  deployment_ = deployment.name;
  now = clock_.now();
  retry_after_ = free_at ? std::optional(*free_at - now) : std::nullopt;
  std::string detail =
      free_at ? "every API key of provider '" + keys.provider() + "' is at its limit"
              : "the request's estimated " + std::to_string(estimated_tokens()) +
                    " tokens exceed the tokens-per-minute limit of every API key of provider '" +
                    keys.provider() + "'";
  last_ = AttemptFailure{ErrorKind::kRateLimited,      deployment.name,  deployment.provider, false,
                         upstream::UpstreamResponse{}, std::move(detail)};
  const FallbackMove move = retry_on_fallback(ErrorKind::kRateLimited);
  if (move == FallbackMove::kMoved) {
    want = CandidatePicker::Want::kFirst;
    co_return KeyStep::kContinue;
  }
  co_await give_up(move == FallbackMove::kNoBudget ? GiveUpReason::kBudgetExhausted
                                                   : GiveUpReason::kKeysExhausted);
  co_return KeyStep::kDone;
}

asio::awaitable<bool> RequestRun::wait(Duration delay) {
  asio::steady_timer timer(parts_.io, delay);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !ec && !sink_.client_gone();
}

RequestRun::Verdict RequestRun::check_answer(const AttemptResult& attempt,
                                             providers::EncodeInput& input) {
  const ToolCallPolicy& policy = segment_->alias.policy.tool_calls;
  if (!policy.enabled) {
    return Verdict::kAccept;
  }
  if (!validator_built_) {
    validator_built_ = true;
    validator_ = llm::AnswerValidator::for_request(request_.body);
  }
  if (!validator_) {
    return Verdict::kAccept;
  }
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(attempt.response.body, ec);
  if (ec || !parsed.is_object()) {
    return Verdict::kAccept;  // the provider's decode accepted it; nothing to validate here
  }
  llm::ValidationReport report = validator_->validate(parsed.get_object());
  GatewayMetrics& metrics = parts_.runtime.metrics();
  if (report.ok) {
    validation_ = tool_state_ && tool_state_->retries_used() > 0 ? "repaired" : "valid";
    metrics.validation_results.with({request_.model, validation_}).inc();
    return Verdict::kAccept;
  }
  const std::string_view kind = llm::to_string(report.kind);
  std::vector<llm::ValidationReason> counted;
  for (const llm::ValidationIssue& issue : report.issues) {
    if (std::find(counted.begin(), counted.end(), issue.reason) == counted.end()) {
      counted.push_back(issue.reason);
      metrics.validation_failures.with({request_.model, kind, llm::to_string(issue.reason)}).inc();
    }
  }
  if (!tool_state_) {
    tool_state_ = std::make_unique<ToolCallState>(policy);
  }
  const ToolCallState::Action action = tool_state_->on_invalid();
  switch (action) {
    case ToolCallState::Action::kPass:
      validation_ = "failed";
      metrics.validation_results.with({request_.model, "passed_invalid"}).inc();
      return Verdict::kAccept;
    case ToolCallState::Action::kFail:
      validation_ = "failed";
      metrics.validation_results.with({request_.model, "failed"}).inc();
      invalid_ = std::move(report);
      return Verdict::kFail;
    case ToolCallState::Action::kResample:
      metrics.validation_retries.with({request_.model, "resample"}).inc();
      input.body = &request_.body;
      break;
    case ToolCallState::Action::kRepair: {
      metrics.validation_retries.with({request_.model, "repair"}).inc();
      const boost::json::object* message =
          llm::choice_message(parsed.get_object(), report.first_failing_choice());
      if (message != nullptr) {
        repair_body_ = llm::repair_request(request_.body, *message, report);
        input.body = &repair_body_;
      }
      break;
    }
  }
  invalid_ = std::move(report);
  return Verdict::kRetry;
}

asio::awaitable<void> RequestRun::answer_invalid(const Deployment& deployment) {
  deployment_ = deployment.name;
  const std::string_view type = llm::error_type(invalid_.kind);
  const int tries = tool_state_ ? tool_state_->retries_used() + 1 : 1;
  const std::string message =
      std::string(invalid_.kind == llm::ValidationKind::kToolCall
                      ? "The model's tool call"
                      : "The model's structured output") +
      " failed validation " +
      (tries == 1 ? "once" : "on all " + std::to_string(tries) + " answers") + " (deployment '" +
      deployment.name + "'). Last errors:\n" + invalid_.summary();
  ResponseHead h = head(502);
  h.add("content-type", "application/json");
  record_.latency = clock_.now() - start_;
  const bool sent = co_await sink_.send(std::move(h), openai_error_body(message, type, type));
  finish(ErrorKind::kInvalidToolCall, GiveUpReason::kNone, sent ? 502 : 0);
}

void RequestRun::correct_key_charge(Deployment& deployment, const providers::TokenUsage& usage) {
  if (key_ && deployment.keys != nullptr && usage.reported) {
    deployment.keys->pool().record_usage(
        *key_, estimated_tokens(), usage.prompt_tokens + usage.completion_tokens, clock_.now());
  }
}

ResponseHead RequestRun::head(int status) const {
  ResponseHead head;
  head.status = status;
  head.add("x-request-id", request_.request_id);
  head.add("x-sheepdog-attempts", std::to_string(record_.attempts));
  if (!deployment_.empty()) {
    head.add("x-sheepdog-deployment", deployment_);
  }
  if (!validation_.empty()) {
    head.add("x-sheepdog-validation", validation_);
  }
  return head;
}

void RequestRun::record_attempt(const AttemptResult& attempt, const Deployment& deployment,
                                std::optional<ErrorKind> error) {
  AttemptRecord r;
  r.request_id = request_.request_id;
  r.alias = segment_->alias.name;
  r.deployment = deployment.name;
  r.attempt = record_.attempts;
  r.error = error;
  r.status = attempt.response.ok() ? attempt.response.status : 0;
  r.latency = attempt.latency;
  r.backoff = pending_backoff_;
  r.stream = request_.stream;
  r.detail = attempt.detail;
  if (key_ && deployment.keys != nullptr) {
    r.key_id = deployment.keys->pool().fingerprint(*key_);
  }
  parts_.observer.on_attempt(r);
}

void RequestRun::finish(std::optional<ErrorKind> error, GiveUpReason reason, int status) {
  finished_ = true;
  record_.deployment = deployment_;
  record_.error = error;
  record_.reason = reason;
  record_.status = status;
  if (record_.latency == Duration::zero()) {
    record_.latency = clock_.now() - start_;
  }
  parts_.observer.on_request(record_);
}

asio::awaitable<void> RequestRun::run(const Alias& alias) {
  started_ = true;
  start_ = clock_.now();
  total_timeout_ = alias.policy.retry.total_timeout;
  record_.request_id = request_.request_id;
  record_.model = request_.model;
  record_.stream = request_.stream;
  parts_.observer.request_started();
  pending_.assign(alias.fallbacks.begin(), alias.fallbacks.end());
  enter(alias);

  providers::EncodeInput input;
  input.operation = request_.operation;
  input.body = &request_.body;
  input.upstream_model = request_.model;
  input.stream = request_.stream;
  input.client_authorization = request_.client_authorization;
  CandidatePicker::Want want = CandidatePicker::Want::kFirst;

  for (;;) {
    if (sink_.client_gone()) {
      finish(ErrorKind::kCancelled, GiveUpReason::kNone, 0);
      co_return;
    }
    TimePoint now = clock_.now();
    if (now >= segment_->retry.deadline()) {
      co_await give_up(GiveUpReason::kDeadline);
      co_return;
    }
    const std::optional<size_t> picked = segment_->picker.acquire(want, now);
    if (!picked) {
      release_retry_slot();
      if (const std::optional<TimePoint> reopen = segment_->picker.earliest_reopen(now)) {
        earliest_reopen_ = earliest_reopen_ ? std::min(*earliest_reopen_, *reopen) : *reopen;
      }
      if (next_fallback()) {
        if (!acquire_retry_slot(segment_->alias)) {
          co_await give_up(GiveUpReason::kBudgetExhausted);
          co_return;
        }
        want = CandidatePicker::Want::kFirst;
        continue;
      }
      co_await give_up(GiveUpReason::kAllCircuitsOpen);
      co_return;
    }

    Deployment& deployment = *segment_->alias.deployments[*picked];
    key_.reset();
    if (deployment.keys != nullptr) {
      key_ = deployment.keys->acquire(estimated_tokens(), now);
      if (!key_) {
        const KeyStep step = co_await on_no_key(deployment, *picked, want);
        if (step == KeyStep::kDone) {
          co_return;
        }
        continue;
      }
      input.api_key = deployment.keys->pool().key(*key_);
    } else {
      input.api_key = {};
    }
    deployment_ = deployment.name;
    const Duration attempt_timeout = segment_->retry.attempt_timeout(now);
    const Duration first_token = segment_->alias.policy.first_token_timeout;
    AttemptLimits limits;
    limits.attempt = attempt_timeout;
    limits.first_token =
        first_token > Duration::zero() ? std::min(first_token, attempt_timeout) : attempt_timeout;
    limits.stream_total = segment_->retry.deadline() - now;
    ++record_.attempts;
    deployment.stats.on_start();
    AttemptResult attempt = co_await run_attempt(parts_.client, deployment, input, limits, clock_);
    record_.upstream += attempt.latency;
    now = clock_.now();

    if (sink_.client_gone() || attempt.outcome.error == ErrorKind::kCancelled) {
      deployment.breaker.record(AttemptOutcome::failure(ErrorKind::kCancelled), now);
      deployment.stats.on_abandon();
      release_retry_slot();
      record_attempt(attempt, deployment, ErrorKind::kCancelled);
      finish(ErrorKind::kCancelled, GiveUpReason::kNone, 0);
      co_return;
    }
    if (attempt.outcome.succeeded()) {
      const Verdict verdict = request_.stream ? Verdict::kAccept : check_answer(attempt, input);
      if (verdict == Verdict::kAccept) {
        co_await answer_success(attempt, deployment);
        co_return;
      }
      // The deployment answered; the answer is wrong. Healthy as far as breakers and budgets
      // are concerned.
      deployment.breaker.record(attempt.outcome, now);
      deployment.stats.on_success(attempt.latency);
      segment_->alias.budget.record_success();
      release_retry_slot();
      correct_key_charge(deployment, attempt.usage);
      // The reasons only: the issues' messages quote the model's output, which logs never hold.
      attempt.detail = "answer failed validation:";
      for (const llm::ValidationIssue& issue : invalid_.issues) {
        attempt.detail += " ";
        attempt.detail += llm::to_string(issue.reason);
      }
      record_attempt(attempt, deployment, ErrorKind::kInvalidToolCall);
      if (verdict == Verdict::kFail) {
        co_await answer_invalid(deployment);
        co_return;
      }
      parts_.observer.on_retry(request_.model, ErrorKind::kInvalidToolCall);
      pending_backoff_ = Duration::zero();
      want = CandidatePicker::Want::kSame;
      continue;
    }

    const ErrorKind kind = *attempt.outcome.error;
    // A refused key is that key's limit, not the deployment's health: the key rests (and the
    // pool keeps requests off it), so neither the breaker nor the retry budget counts it.
    const bool key_refused = key_ && ProviderKeys::rests_key(kind);
    deployment.breaker.record(
        key_refused ? AttemptOutcome::failure(ErrorKind::kCancelled) : attempt.outcome, now);
    deployment.stats.on_failure();
    if (!key_refused) {
      segment_->alias.budget.record_failure();
    }
    release_retry_slot();
    record_attempt(attempt, deployment, kind);
    pending_backoff_ = Duration::zero();
    last_ = AttemptFailure{kind,
                           deployment.name,
                           deployment.provider,
                           deployment.keys == nullptr && deployment.target.api_key.empty() &&
                               deployment.target.forward_client_key &&
                               !request_.client_authorization.empty(),
                           std::move(attempt.response),
                           std::move(attempt.detail)};

    // A refused key rests; if another has room now, the deployment is retried with it at once.
    bool rotate = false;
    if (key_refused) {
      deployment.keys->rest(*key_, kind, attempt.pushback, now);
      rotate = deployment.keys->pool().next_available(estimated_tokens(), now) == now;
    }

    // Too long for this model: only a larger one helps, so go there directly.
    if (kind == ErrorKind::kContextLengthExceeded &&
        segment_->alias.context_window_fallback != nullptr) {
      const Alias* larger = segment_->alias.context_window_fallback;
      pending_.assign(larger->fallbacks.begin(), larger->fallbacks.end());
      pending_.push_front(larger);
      const FallbackMove move = retry_on_fallback(kind);
      if (move == FallbackMove::kNoBudget) {
        co_await give_up(GiveUpReason::kBudgetExhausted);
        co_return;
      }
      if (move == FallbackMove::kMoved) {
        want = CandidatePicker::Want::kFirst;
        continue;
      }
    }

    const bool alternative = segment_->picker.has_alternative(now);
    RetryDecision decision = segment_->retry.on_attempt(
        attempt.outcome, rotate ? std::nullopt : attempt.pushback, now, alternative || rotate);
    if (rotate && decision.reason != GiveUpReason::kMaxAttempts &&
        decision.reason != GiveUpReason::kDeadline) {
      decision.action = RetryDecision::Action::kRetrySame;
      decision.delay = Duration::zero();
      decision.reason = GiveUpReason::kNone;
    }
    if (decision.action == RetryDecision::Action::kGiveUp) {
      retry_after_ = decision.retry_after;
      const FallbackMove move =
          walks_on(decision.reason) ? retry_on_fallback(kind) : FallbackMove::kNone;
      if (move == FallbackMove::kNoBudget) {
        co_await give_up(GiveUpReason::kBudgetExhausted);
        co_return;
      }
      if (move == FallbackMove::kMoved) {
        want = CandidatePicker::Want::kFirst;
        continue;
      }
      co_await give_up(decision.reason);
      co_return;
    }
    if (!rotate && segment_->policy.disposition_for(kind) == Disposition::kFallBack) {
      segment_->picker.exclude(*picked);
    }
    if (!acquire_retry_slot(segment_->alias)) {
      retry_after_ = attempt.pushback;
      co_await give_up(GiveUpReason::kBudgetExhausted);
      co_return;
    }
    parts_.observer.on_retry(request_.model, kind);
    if (decision.delay > Duration::zero()) {
      if (!co_await wait(decision.delay)) {
        release_retry_slot();
        finish(ErrorKind::kCancelled, GiveUpReason::kNone, 0);
        co_return;
      }
      record_.backoff += decision.delay;
    }
    pending_backoff_ = decision.delay;
    want = decision.action == RetryDecision::Action::kRetrySame ? CandidatePicker::Want::kSame
                                                                : CandidatePicker::Want::kNext;
  }
}

asio::awaitable<void> RequestRun::answer_success(AttemptResult& attempt, Deployment& deployment) {
  if (!request_.stream) {
    deployment.breaker.record(attempt.outcome, clock_.now());
    deployment.stats.on_success(attempt.latency);
    segment_->alias.budget.record_success();
    release_retry_slot();
    record_attempt(attempt, deployment, std::nullopt);
    record_.usage = attempt.usage;
    correct_key_charge(deployment, attempt.usage);
    ResponseHead h = head(attempt.response.status);
    const std::string_view type = attempt.response.headers.value("content-type");
    h.add("content-type", type.empty() ? "application/json" : std::string(type));
    record_.latency = clock_.now() - start_;
    const int status = attempt.response.status;
    const bool sent = co_await sink_.send(std::move(h), std::move(attempt.response.body));
    finish(sent ? std::nullopt : std::optional(ErrorKind::kCancelled), GiveUpReason::kNone,
           sent ? status : 0);
    co_return;
  }

  ResponseHead h = head(200);
  h.add("content-type", "text/event-stream");
  h.add("cache-control", "no-cache");
  const TimePoint head_start = clock_.now();
  record_.time_to_first_token = head_start - start_;
  const bool started = co_await sink_.start_stream(std::move(h));
  record_.client_write += clock_.now() - head_start;
  RelayResult relay;
  if (started) {
    relay = co_await relay_stream(attempt, sink_, clock_);
  } else {
    relay.client_gone = true;
    attempt.stream.cancel();
  }
  record_.upstream += relay.upstream;
  record_.client_write += relay.client_write;
  record_.usage = relay.usage;
  correct_key_charge(deployment, relay.usage);
  const TimePoint now = clock_.now();
  std::optional<ErrorKind> error;
  if (relay.failure) {
    error = relay.failure;
    deployment.breaker.record(AttemptOutcome::failure(*relay.failure), now);
    deployment.stats.on_failure();
    segment_->alias.budget.record_failure();
  } else if (relay.client_gone) {
    error = ErrorKind::kCancelled;
    deployment.breaker.record(AttemptOutcome::failure(ErrorKind::kCancelled), now);
    deployment.stats.on_abandon();
  } else {
    deployment.breaker.record(attempt.outcome, now);
    deployment.stats.on_success(attempt.latency);
    segment_->alias.budget.record_success();
  }
  release_retry_slot();
  attempt.latency += relay.upstream;
  if (!relay.detail.empty()) {
    attempt.detail = relay.detail;
  }
  record_attempt(attempt, deployment, error);
  record_.latency = now - start_;
  finish(error, GiveUpReason::kNone, started ? 200 : 0);
}

asio::awaitable<void> RequestRun::give_up(GiveUpReason reason) {
  release_retry_slot();
  const TimePoint now = clock_.now();
  GiveUpContext context;
  context.model = request_.model;
  context.attempts = record_.attempts;
  context.reason = reason;
  context.retry_after = retry_after_;
  context.total_timeout = total_timeout_;
  if (reason == GiveUpReason::kAllCircuitsOpen && earliest_reopen_) {
    context.retry_after = std::max(Duration::zero(), *earliest_reopen_ - now);
  }
  ErrorAnswer answer = map_give_up(last_ ? &*last_ : nullptr, context);
  ResponseHead h = head(answer.status);
  h.add("content-type", "application/json");
  if (answer.retry_after) {
    h.add("retry-after", retry_after_seconds(*answer.retry_after));
    h.add("retry-after-ms",
          std::to_string(std::chrono::ceil<milliseconds>(*answer.retry_after).count()));
  }
  ErrorKind kind = last_ ? last_->kind : ErrorKind::kCircuitOpen;
  if (reason == GiveUpReason::kDeadline) {
    kind = ErrorKind::kDeadlineExceeded;
  } else if (reason == GiveUpReason::kAllCircuitsOpen) {
    kind = ErrorKind::kCircuitOpen;
  }
  record_.latency = now - start_;
  const int status = answer.status;
  const bool sent = co_await sink_.send(std::move(h), std::move(answer.body));
  finish(kind, reason, sent ? status : 0);
}

}  // namespace sheepdog::gateway
