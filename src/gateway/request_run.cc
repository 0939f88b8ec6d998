#include "gateway/request_run.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include "gateway/token_estimate.h"

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
    : parts_(parts),
      request_(request),
      sink_(sink),
      clock_(parts.runtime.clock()),
      model_label_(parts.runtime.metric_model(request.model)),
      check_(request.body, model_label_, parts.runtime.metrics(), parts.runtime.validators()) {}

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
  parts_.observer.on_retry(model_label_, cause);
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
  // Admitted by the breaker but never called: released, which frees a half-open probe slot.
  deployment.breaker.release(now);
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

asio::awaitable<RequestRun::AnswerStep> RequestRun::on_answer(AttemptResult& attempt,
                                                              Deployment& deployment,
                                                              providers::EncodeInput& input) {
  const ToolCallPolicy& policy = segment_->alias.policy.tool_calls;
  if (!check_.applies(policy) || (request_.stream && !policy.validate_streams)) {
    co_await answer_success(attempt, deployment);
    co_return AnswerStep::kDone;
  }
  if (request_.stream) {
    co_return co_await answer_gated_stream(attempt, deployment, input);
  }
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(attempt.response.body, ec);
  if (ec || !parsed.is_object()) {
    co_await answer_success(attempt, deployment);  // the provider's decode accepted it
    co_return AnswerStep::kDone;
  }
  const AnswerCheck::Verdict verdict = check_.check(parsed.get_object(), policy, true, input);
  if (verdict == AnswerCheck::Verdict::kAccept) {
    co_await answer_success(attempt, deployment);
    co_return AnswerStep::kDone;
  }
  co_return co_await after_invalid(verdict, attempt, deployment);
}

asio::awaitable<RequestRun::AnswerStep> RequestRun::answer_gated_stream(
    AttemptResult& attempt, Deployment& deployment, providers::EncodeInput& input) {
  StreamGate gate(check_.holds_everything() ? StreamGate::Hold::kEverything
                                            : StreamGate::Hold::kToolCalls);
  GatedRelay gated = co_await relay_gated(
      attempt, gate, static_cast<size_t>(parts_.runtime.server().upstream_max_response_bytes),
      stream_head(), sink_, clock_);
  RelayResult& relay = gated.relay;
  if (gated.started) {
    record_.time_to_first_token = gated.head_sent - start_;
  }
  if (relay.client_gone || (relay.failure && gated.started)) {
    settle_stream(attempt, deployment, relay, gated.started, false);
    co_return AnswerStep::kDone;
  }
  if (relay.failure) {
    // Nothing reached the client: an ordinary failed attempt, which may be retried.
    absorb_relay(attempt, relay);
    attempt.outcome = AttemptOutcome::failure(*relay.failure);
    attempt.detail = std::move(relay.detail);
    co_return AnswerStep::kFailed;
  }
  const ToolCallPolicy& policy = segment_->alias.policy.tool_calls;
  const AnswerCheck::Verdict verdict =
      check_.check(gate.completion(), policy, !gated.started, input);
  if (verdict == AnswerCheck::Verdict::kRetry ||
      (verdict == AnswerCheck::Verdict::kFail && !gated.started)) {
    absorb_relay(attempt, relay);
    attempt.usage = relay.usage;
    co_return co_await after_invalid(verdict, attempt, deployment);
  }
  // The answer goes out: valid, passed flagged, or (head already out) ended with an error event.
  bool sent = true;
  const bool head_was_out = gated.started;
  if (!gated.started) {
    ResponseHead h = stream_head();  // now with x-sheepdog-validation
    gated.head_sent = clock_.now();
    record_.time_to_first_token = gated.head_sent - start_;
    sent = co_await sink_.start_stream(std::move(h));
    gated.started = sent;
  }
  std::string tail;
  if (verdict == AnswerCheck::Verdict::kFail) {
    tail = stream_error_event(check_.error_message(deployment.name), check_.error_type(),
                              check_.error_type());
  } else {
    if (head_was_out && check_.header() == "failed") {
      tail = ": x-sheepdog-validation: failed\n\n";  // the head went out before it was known
    }
    tail += gate.held();
  }
  const TimePoint write_start = clock_.now();
  sent = sent && co_await sink_.write(tail) && co_await sink_.finish();
  relay.client_write += clock_.now() - write_start;
  relay.client_gone = !sent;
  settle_stream(attempt, deployment, relay, gated.started, verdict == AnswerCheck::Verdict::kFail);
  co_return AnswerStep::kDone;
}

void RequestRun::absorb_relay(AttemptResult& attempt, const RelayResult& relay) {
  record_.upstream += relay.upstream;
  record_.client_write += relay.client_write;
  attempt.latency += relay.upstream;
}

asio::awaitable<RequestRun::AnswerStep> RequestRun::after_invalid(AnswerCheck::Verdict verdict,
                                                                  AttemptResult& attempt,
                                                                  Deployment& deployment) {
  note_invalid(attempt, deployment);
  if (verdict == AnswerCheck::Verdict::kFail) {
    co_await answer_invalid(deployment);
    co_return AnswerStep::kDone;
  }
  parts_.observer.on_retry(model_label_, ErrorKind::kInvalidToolCall);
  co_return AnswerStep::kResend;
}

void RequestRun::note_invalid(AttemptResult& attempt, Deployment& deployment) {
  const TimePoint now = clock_.now();
  deployment.breaker.record(AttemptOutcome::success(), now);
  deployment.stats.on_success(attempt.latency);
  segment_->alias.budget.record_success();
  release_retry_slot();
  correct_key_charge(deployment, attempt.usage);
  attempt.detail = check_.log_detail();
  record_attempt(attempt, deployment, ErrorKind::kInvalidToolCall);
  pending_backoff_ = Duration::zero();
}

asio::awaitable<void> RequestRun::answer_invalid(const Deployment& deployment) {
  deployment_ = deployment.name;
  ResponseHead h = head(502);
  h.add("content-type", "application/json");
  record_.latency = clock_.now() - start_;
  const bool sent = co_await sink_.send(
      std::move(h), openai_error_body(check_.error_message(deployment.name), check_.error_type(),
                                      check_.error_type()));
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
  if (!check_.header().empty()) {
    head.add("x-sheepdog-validation", check_.header());
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
  r.usage = attempt.usage;
  record_.usage += attempt.usage;  // every attempt's tokens, the request's sum
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
  record_.validation = check_.header();
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
  record_.model_label = model_label_;
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
    limits.max_response_bytes =
        static_cast<size_t>(request_.operation == providers::Operation::kEmbeddings
                                ? parts_.runtime.server().upstream_max_embeddings_bytes
                                : parts_.runtime.server().upstream_max_response_bytes);
    ++record_.attempts;
    deployment.stats.on_start();
    AttemptResult attempt = co_await run_attempt(parts_.client, deployment, input, limits, clock_);
    record_.upstream += attempt.latency;
    now = clock_.now();

    if (sink_.client_gone() || attempt.outcome.error == ErrorKind::kCancelled) {
      deployment.breaker.release(now);
      deployment.stats.on_abandon();
      release_retry_slot();
      record_attempt(attempt, deployment, ErrorKind::kCancelled);
      finish(ErrorKind::kCancelled, GiveUpReason::kNone, 0);
      co_return;
    }
    if (attempt.outcome.succeeded()) {
      const AnswerStep step = co_await on_answer(attempt, deployment, input);
      if (step == AnswerStep::kDone) {
        co_return;
      }
      if (step == AnswerStep::kResend) {
        want = CandidatePicker::Want::kSame;
        continue;
      }
      // kFailed: a held-back stream broke before the client saw it; handled as a failure below.
    }

    const ErrorKind kind = *attempt.outcome.error;
    // A refused key is that key's limit, not the deployment's health: the key rests (and the
    // pool keeps requests off it), so neither the breaker nor the retry budget counts it.
    const bool key_refused = key_ && ProviderKeys::rests_key(kind);
    if (key_refused) {
      deployment.breaker.release(now);
    } else {
      deployment.breaker.record(attempt.outcome, now);
    }
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
                           std::move(attempt.detail),
                           deployment.target.origin};

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
    parts_.observer.on_retry(model_label_, kind);
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

  const TimePoint head_start = clock_.now();
  record_.time_to_first_token = head_start - start_;
  const bool started = co_await sink_.start_stream(stream_head());
  record_.client_write += clock_.now() - head_start;
  RelayResult relay;
  if (started) {
    relay = co_await relay_stream(attempt, sink_, clock_);
  } else {
    relay.client_gone = true;
    attempt.stream.cancel();
  }
  settle_stream(attempt, deployment, relay, started, false);
}

void RequestRun::settle_stream(AttemptResult& attempt, Deployment& deployment,
                               const RelayResult& relay, bool started, bool invalid) {
  record_.upstream += relay.upstream;
  record_.client_write += relay.client_write;
  attempt.usage = relay.usage;
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
    deployment.breaker.release(now);
    deployment.stats.on_abandon();
  } else {
    deployment.breaker.record(attempt.outcome, now);
    deployment.stats.on_success(attempt.latency);
    segment_->alias.budget.record_success();
    if (invalid) {
      error = ErrorKind::kInvalidToolCall;
    }
  }
  release_retry_slot();
  attempt.latency += relay.upstream;
  if (!relay.detail.empty()) {
    attempt.detail = relay.detail;
  } else if (invalid) {
    attempt.detail = check_.log_detail();
  }
  record_attempt(attempt, deployment, error);
  record_.latency = now - start_;
  finish(error, GiveUpReason::kNone, started ? 200 : 0);
}

ResponseHead RequestRun::stream_head() const {
  ResponseHead h = head(200);
  h.add("content-type", "text/event-stream");
  h.add("cache-control", "no-cache");
  return h;
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
