#include "gateway/request_run.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include "gateway/token_estimate.h"

namespace sheepdog::gateway {
namespace {

namespace asio = boost::asio;

AttemptEnd end_of(const AttemptResult& attempt, Verdict verdict, bool final) {
  AttemptEnd end;
  end.verdict = verdict;
  end.outcome = attempt.outcome;
  end.pushback = attempt.pushback;
  end.usage = attempt.usage;
  end.latency = attempt.latency;
  end.final = final;
  return end;
}

}  // namespace

RequestRun::RequestRun(ThreadParts parts, const GatewayRequest& request, ClientSink& sink)
    : parts_(parts),
      request_(request),
      sink_(sink),
      clock_(parts.runtime.clock()),
      model_label_(parts.runtime.metric_model(request.model)),
      check_(request.body, model_label_, parts.runtime.metrics(), parts.runtime.validators()) {}

RequestRun::~RequestRun() {
  // Only if the coroutine was destroyed mid-way (a forced shutdown): keep the counts balanced.
  if (loop_) {
    loop_->cancel(clock_.now());
  }
  if (started_ && !finished_) {
    finish(ErrorKind::kCancelled, GiveUpReason::kNone, 0);
  }
}

Deployment& RequestRun::deployment_of(const LoopAlias& alias, size_t target) const {
  return *parts_.runtime.aliases()[alias.id]->deployments[target];
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

  LoopRequest loop_request;
  loop_request.estimate_tokens = [this] {
    return estimate_request_tokens(request_.operation, request_.body);
  };
  loop_request.user = request_.user;
  loop_request.header = &request_.header;
  loop_request.observer = this;
  loop_.emplace(alias.loop, std::move(loop_request), parts_.random, start_);

  providers::EncodeInput input;
  input.operation = request_.operation;
  input.body = &request_.body;
  input.upstream_model = request_.model;
  input.stream = request_.stream;
  input.client_authorization = request_.client_authorization;

  LoopCommand command = loop_->start(start_);
  for (;;) {
    switch (command.kind) {
      case LoopCommand::Kind::kDone:
        co_return;
      case LoopCommand::Kind::kGiveUp:
        co_await give_up(command);
        co_return;
      case LoopCommand::Kind::kWait:
        if (!co_await wait(command.delay)) {
          loop_->cancel(clock_.now());
          finish(ErrorKind::kCancelled, GiveUpReason::kNone, 0);
          co_return;
        }
        record_.backoff += command.delay;
        command = loop_->on_wait_finished(clock_.now());
        break;
      case LoopCommand::Kind::kAttempt:
        if (sink_.client_gone()) {
          loop_->cancel(clock_.now());
          finish(ErrorKind::kCancelled, GiveUpReason::kNone, 0);
          co_return;
        }
        command = co_await attempt(command, input);
        break;
    }
  }
}

asio::awaitable<LoopCommand> RequestRun::attempt(const LoopCommand& command,
                                                 providers::EncodeInput& input) {
  Deployment& deployment = deployment_of(*command.alias, command.target);
  const Alias& alias = *parts_.runtime.aliases()[command.alias->id];
  input.api_key = command.key ? std::string_view(deployment.keys->pool().key(*command.key))
                              : std::string_view();
  deployment_ = deployment.name;
  const Duration first_token = alias.policy.first_token_timeout;
  AttemptLimits limits;
  limits.attempt = command.attempt_timeout;
  limits.first_token = first_token > Duration::zero()
                           ? std::min(first_token, command.attempt_timeout)
                           : command.attempt_timeout;
  limits.stream_total = command.deadline - clock_.now();
  limits.max_response_bytes =
      static_cast<size_t>(request_.operation == providers::Operation::kEmbeddings
                              ? parts_.runtime.server().upstream_max_embeddings_bytes
                              : parts_.runtime.server().upstream_max_response_bytes);
  if (!request_.prepare.empty()) {
    const PreparedAttempt where{alias.name, deployment.name,
                                deployment.upstream_model.empty()
                                    ? std::string_view(request_.model)
                                    : std::string_view(deployment.upstream_model),
                                deployment.provider->kind(), command.resend};
    for (AttemptPrepare* hook : request_.prepare) {
      hook->prepare(where, input);
    }
  }
  ++record_.attempts;
  AttemptResult attempt = co_await run_attempt(parts_.transport, deployment, input, limits, clock_);
  record_.upstream += attempt.latency;

  if (sink_.client_gone() || attempt.outcome.error == ErrorKind::kCancelled) {
    LoopCommand done = settle(attempt, end_of(attempt, Verdict::kNeutral, true));
    finish(ErrorKind::kCancelled, GiveUpReason::kNone, 0);
    co_return done;
  }
  if (attempt.outcome.succeeded()) {
    co_return co_await on_answer(attempt, deployment, input);
  }
  co_return settle_failure(attempt, deployment);
}

LoopCommand RequestRun::settle(AttemptResult& attempt, const AttemptEnd& end) {
  settling_ = &attempt;
  LoopCommand next = loop_->on_attempt_ended(end, clock_.now());
  settling_ = nullptr;
  return next;
}

LoopCommand RequestRun::settle_failure(AttemptResult& attempt, const Deployment& deployment) {
  const ErrorKind kind = *attempt.outcome.error;
  const bool client_key = deployment.keys == nullptr && deployment.target.api_key.empty() &&
                          deployment.target.forward_client_key &&
                          !request_.client_authorization.empty();
  LoopCommand next = settle(attempt, end_of(attempt, Verdict::kFailure, false));
  last_ = AttemptFailure{kind,
                         deployment.name,
                         deployment.provider,
                         client_key,
                         std::move(attempt.response),
                         std::move(attempt.detail),
                         deployment.target.origin};
  return next;
}

asio::awaitable<bool> RequestRun::wait(Duration delay) {
  const bool waited = co_await parts_.timer.wait(delay);
  co_return waited && !sink_.client_gone();
}

asio::awaitable<LoopCommand> RequestRun::on_answer(AttemptResult& attempt, Deployment& deployment,
                                                   providers::EncodeInput& input) {
  const ToolCallPolicy& policy = parts_.runtime.aliases()[loop_->alias().id]->policy.tool_calls;
  if (!check_.applies(policy) || (request_.stream && !policy.validate_streams)) {
    co_return co_await answer_success(attempt);
  }
  if (request_.stream) {
    co_return co_await answer_gated_stream(attempt, deployment, input);
  }
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(attempt.response.body, ec);
  if (ec || !parsed.is_object()) {
    co_return co_await answer_success(attempt);  // the provider's decode accepted it
  }
  const AnswerCheck::Verdict verdict = check_.check(parsed.get_object(), policy, true, input);
  if (verdict == AnswerCheck::Verdict::kAccept) {
    co_return co_await answer_success(attempt);
  }
  co_return co_await after_invalid(verdict, attempt, deployment);
}

asio::awaitable<LoopCommand> RequestRun::answer_gated_stream(AttemptResult& attempt,
                                                             Deployment& deployment,
                                                             providers::EncodeInput& input) {
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
    settle_stream(attempt, relay, gated.started, false);
    co_return LoopCommand{};
  }
  if (relay.failure) {
    // Nothing reached the client: an ordinary failed attempt, which may be retried.
    absorb_relay(attempt, relay);
    attempt.outcome = AttemptOutcome::failure(*relay.failure);
    attempt.detail = std::move(relay.detail);
    co_return settle_failure(attempt, deployment);
  }
  const ToolCallPolicy& policy = parts_.runtime.aliases()[loop_->alias().id]->policy.tool_calls;
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
  settle_stream(attempt, relay, gated.started, verdict == AnswerCheck::Verdict::kFail);
  co_return LoopCommand{};
}

void RequestRun::absorb_relay(AttemptResult& attempt, const RelayResult& relay) {
  record_.upstream += relay.upstream;
  record_.client_write += relay.client_write;
  attempt.latency += relay.upstream;
}

asio::awaitable<LoopCommand> RequestRun::after_invalid(AnswerCheck::Verdict verdict,
                                                       AttemptResult& attempt,
                                                       Deployment& deployment) {
  attempt.detail = check_.log_detail();
  AttemptEnd end = end_of(attempt, Verdict::kInvalid, false);
  end.resend = verdict != AnswerCheck::Verdict::kFail;
  LoopCommand next = settle(attempt, end);
  if (verdict == AnswerCheck::Verdict::kFail) {
    co_await answer_invalid(deployment);
  }
  co_return next;
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

void RequestRun::finish(std::optional<ErrorKind> error, GiveUpReason reason, int status) {
  finished_ = true;
  record_.deployment = deployment_;
  record_.error = error;
  record_.reason = reason;
  record_.status = status;
  record_.validation = check_.header();
  record_.usage = loop_ ? loop_->usage() : TokenUsage{};
  if (record_.latency == Duration::zero()) {
    record_.latency = clock_.now() - start_;
  }
  parts_.observer.on_request(record_);
}

asio::awaitable<LoopCommand> RequestRun::answer_success(AttemptResult& attempt) {
  if (!request_.stream) {
    LoopCommand done = settle(attempt, end_of(attempt, Verdict::kSuccess, true));
    ResponseHead h = head(attempt.response.status);
    const std::string_view type = attempt.response.headers.value("content-type");
    h.add("content-type", type.empty() ? "application/json" : std::string(type));
    record_.latency = clock_.now() - start_;
    const int status = attempt.response.status;
    const bool sent = co_await sink_.send(std::move(h), std::move(attempt.response.body));
    finish(sent ? std::nullopt : std::optional(ErrorKind::kCancelled), GiveUpReason::kNone,
           sent ? status : 0);
    co_return done;
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
  settle_stream(attempt, relay, started, false);
  co_return LoopCommand{};
}

void RequestRun::settle_stream(AttemptResult& attempt, const RelayResult& relay, bool started,
                               bool invalid) {
  record_.upstream += relay.upstream;
  record_.client_write += relay.client_write;
  attempt.usage = relay.usage;
  Verdict verdict = invalid ? Verdict::kInvalid : Verdict::kSuccess;
  if (relay.failure) {
    verdict = Verdict::kFailure;
    attempt.outcome = AttemptOutcome::failure(*relay.failure);
  } else if (relay.client_gone) {
    verdict = Verdict::kNeutral;
  }
  // The stats take the time to the first event, the attempt record the whole stream.
  const AttemptEnd end = end_of(attempt, verdict, true);
  attempt.latency += relay.upstream;
  if (!relay.detail.empty()) {
    attempt.detail = relay.detail;
  } else if (invalid) {
    attempt.detail = check_.log_detail();
  }
  settle(attempt, end);
  std::optional<ErrorKind> error;
  if (relay.failure) {
    error = relay.failure;
  } else if (relay.client_gone) {
    error = ErrorKind::kCancelled;
  } else if (invalid) {
    error = ErrorKind::kInvalidToolCall;
  }
  record_.latency = clock_.now() - start_;
  finish(error, GiveUpReason::kNone, started ? 200 : 0);
}

ResponseHead RequestRun::stream_head() const {
  ResponseHead h = head(200);
  h.add("content-type", "text/event-stream");
  h.add("cache-control", "no-cache");
  return h;
}

asio::awaitable<void> RequestRun::give_up(const LoopCommand& command) {
  const TimePoint now = clock_.now();
  GiveUpContext context;
  context.model = request_.model;
  context.attempts = record_.attempts;
  context.reason = command.reason;
  context.retry_after = command.retry_after;
  context.total_timeout = total_timeout_;
  ErrorAnswer answer = map_give_up(last_ ? &*last_ : nullptr, context);
  ResponseHead h = head(answer.status);
  h.add("content-type", "application/json");
  if (answer.retry_after) {
    h.add("retry-after", retry_after_seconds(*answer.retry_after));
    h.add("retry-after-ms",
          std::to_string(std::chrono::ceil<milliseconds>(*answer.retry_after).count()));
  }
  record_.latency = now - start_;
  const int status = answer.status;
  const bool sent = co_await sink_.send(std::move(h), std::move(answer.body));
  finish(command.error, command.reason, sent ? status : 0);
}

void RequestRun::on_retry(ErrorKind cause) { parts_.observer.on_retry(model_label_, cause); }

void RequestRun::on_key_used(const LoopAlias& alias, size_t target, size_t key) {
  deployment_of(alias, target).keys->count_use(key);
}

void RequestRun::on_key_rested(const LoopAlias& alias, size_t target, size_t key) {
  deployment_of(alias, target).keys->count_rest(key);
}

void RequestRun::on_keys_short(const LoopAlias& alias, size_t target, bool waited, bool never) {
  const Deployment& deployment = deployment_of(alias, target);
  ProviderKeys& keys = *deployment.keys;
  keys.count_wait(waited);
  if (waited) {
    return;
  }
  deployment_ = deployment.name;
  std::string detail =
      !never ? "every API key of provider '" + keys.provider() + "' is at its limit"
             : "the request's estimated " +
                   std::to_string(estimate_request_tokens(request_.operation, request_.body)) +
                   " tokens exceed the tokens-per-minute limit of every API key of provider '" +
                   keys.provider() + "'";
  last_ = AttemptFailure{ErrorKind::kRateLimited,      deployment.name,  deployment.provider, false,
                         upstream::UpstreamResponse{}, std::move(detail)};
}

void RequestRun::on_settled(const OpenAttempt& open, const Settlement& settlement,
                            Duration backoff) {
  const AttemptResult& attempt = *settling_;
  const Deployment& deployment = deployment_of(*open.alias, open.target);
  AttemptRecord r;
  r.request_id = request_.request_id;
  r.alias = open.alias->name;
  r.deployment = deployment.name;
  r.attempt = record_.attempts;
  r.error = settlement.error;
  r.status = attempt.response.ok() ? attempt.response.status : 0;
  r.latency = attempt.latency;
  r.backoff = backoff;
  r.stream = request_.stream;
  r.detail = attempt.detail;
  r.usage = attempt.usage;
  if (open.key && deployment.keys != nullptr) {
    r.key_id = deployment.keys->pool().fingerprint(*open.key);
  }
  parts_.observer.on_attempt(r);
}

}  // namespace sheepdog::gateway
