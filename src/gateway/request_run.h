// The attempt loop of one request, on the resilience core:
//
//   pick a deployment of the current alias (CandidatePicker: router order, breakers admit)
//   -> run_attempt (encode, pooled upstream call, classify, decode, pushback)
//   -> breaker.record, stats, retry budget record, one log line and metric per attempt
//   -> context_length_exceeded with a context_window_fallback: go to that alias
//   -> decision = RetryState::on_attempt(outcome, pushback, now, has_alternative)
//      give up: walk the alias's fallback aliases in order (for max attempts, no alternative,
//               pushback too long), else answer with the mapped error (error_mapping.h)
//      retry:   RetryBudget::try_acquire_retry (else give up), wait the delay on an asio timer,
//               then the same or the next deployment
//   success: the answer (or, for a stream, the relay of its events) goes to the client
//
// Every alias visited gets its own RetryState (its own max_attempts and backoff) but all share
// the request's deadline, set by the requested alias's total timeout. A fallback alias's first
// attempt is a retry of the request and takes a slot of that alias's retry budget. If no
// deployment's breaker admits a call and no fallback is left: 503 with retry-after until the
// first breaker half-opens.
//
// Provider API keys (deployment.keys): each attempt takes a key with room for the request's
// estimated tokens (gateway/token_estimate.h). A 429 rests that key (provider_keys.h) and, when
// another key has room now, the next attempt goes at once to the same deployment with it: the
// deployment is fine, only that key was refused. When no key of a deployment has room, another
// deployment of the alias is tried; for the last one the request waits for a key if one frees
// up before the deadline, else walks to a fallback alias, else gets 429 with retry-after.
//
// Answer validation (policy tool_validation, gateway/answer_check.h): a 2xx answer to a request
// with tools or a JSON response_format is checked before it goes out; an invalid one is sent
// again as is (resample) or with the errors appended (repair, llm/repair_prompt.h) on the same
// deployment, within the policy's own allowance (not max_attempts: the deployment is healthy,
// the answer is wrong), then answered 502 invalid_tool_call / invalid_structured_output; or,
// under pass, returned flagged. Every validated answer carries x-sheepdog-validation: valid,
// repaired, or failed. Streams (policy tool_validation.streams) go through a StreamGate
// (stream_gate.h): the tool-call part, or the whole of structured output, is held back until
// the stream is over and valid, so such an answer is retried unseen like a non-streamed one.
// Text that went out before a tool call cannot be taken back: if the tool call after it is
// invalid the stream ends with an invalid_tool_call error event (or, under pass, the call and a
// ": x-sheepdog-validation: failed" comment).
//
// The loop never retries after the client has received a response head.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "core/random.h"
#include "gateway/answer_check.h"
#include "gateway/attempt.h"
#include "gateway/candidate_picker.h"
#include "gateway/client_sink.h"
#include "gateway/error_mapping.h"
#include "gateway/observer.h"
#include "gateway/runtime.h"
#include "gateway/stream_relay.h"
#include "resilience/retry_policy.h"
#include "upstream/upstream_client.h"

namespace sheepdog::gateway {

// What a request run needs from its io thread.
struct ThreadParts {
  Runtime& runtime;
  boost::asio::any_io_executor io;
  upstream::UpstreamClient& client;
  RandomSource& random;
  Observer& observer;
};

class RequestRun {
 public:
  // `request` and `sink` must outlive the run.
  RequestRun(ThreadParts parts, const GatewayRequest& request, ClientSink& sink);
  ~RequestRun();
  RequestRun(const RequestRun&) = delete;
  RequestRun& operator=(const RequestRun&) = delete;

  // Runs the loop and answers the client. REQUIRES: called once, with the request's alias
  // resolved (the caller answers unknown models itself).
  boost::asio::awaitable<void> run(const Alias& alias);

 private:
  struct Segment;

  void enter(const Alias& alias);
  // Moves to the next pending fallback alias not visited yet; false if none is left.
  bool next_fallback();
  // A fallback alias's first attempt is a retry of the request: it needs a budget slot.
  bool acquire_retry_slot(const Alias& alias);
  // After a failure of kind `cause`: moves to the next fallback alias, taking a retry slot and
  // counting the retry (kMoved); kNone if no fallback is left; kNoBudget if the budget refuses.
  enum class FallbackMove : unsigned char { kMoved, kNone, kNoBudget };
  FallbackMove retry_on_fallback(ErrorKind cause);
  void release_retry_slot();

  // No key of `deployment` (the picked candidate `index`) has room: try another candidate,
  // else wait for a key within the deadline, else a fallback alias, else answer 429.
  enum class KeyStep : unsigned char { kContinue, kDone };
  boost::asio::awaitable<KeyStep> on_no_key(Deployment& deployment, size_t index,
                                            CandidatePicker::Want& want);
  int64_t estimated_tokens();

  // A 2xx answer (non-streamed, or a stream whose first event arrived): validated when the
  // policy says so (answer_check.h), then sent. kResend: `input` holds the request to send
  // next, to the same deployment. kFailed: a held-back stream broke before the client saw any
  // of it; `attempt` now describes an ordinary failed attempt.
  enum class AnswerStep : unsigned char { kDone, kResend, kFailed };
  boost::asio::awaitable<AnswerStep> on_answer(AttemptResult& attempt, Deployment& deployment,
                                               providers::EncodeInput& input);
  boost::asio::awaitable<AnswerStep> answer_gated_stream(AttemptResult& attempt,
                                                         Deployment& deployment,
                                                         providers::EncodeInput& input);
  // An answer failed validation: the deployment is healthy (breaker, budget, stats count a
  // success), the attempt is logged with the reasons.
  void note_invalid(AttemptResult& attempt, Deployment& deployment);
  // The invalid answer's bookkeeping, then the 502 (kFail) or the resend (kRetry).
  boost::asio::awaitable<AnswerStep> after_invalid(AnswerCheck::Verdict verdict,
                                                   AttemptResult& attempt, Deployment& deployment);
  // A stream's upstream and client time, into the attempt and the request record.
  void absorb_relay(AttemptResult& attempt, const RelayResult& relay);
  boost::asio::awaitable<void> answer_invalid(const Deployment& deployment);

  boost::asio::awaitable<bool> wait(Duration delay);
  boost::asio::awaitable<void> answer_success(AttemptResult& attempt, Deployment& deployment);
  // The books for a stream that reached the client (or was meant to): breaker, budget, usage,
  // logs. `invalid`: it ended as an invalid answer (the deployment itself did fine).
  void settle_stream(AttemptResult& attempt, Deployment& deployment, const RelayResult& relay,
                     bool started, bool invalid);
  ResponseHead stream_head() const;
  boost::asio::awaitable<void> give_up(GiveUpReason reason);
  void finish(std::optional<ErrorKind> error, GiveUpReason reason, int status);
  // The answer reported `usage`: the key's up-front TPM charge becomes the actual count.
  void correct_key_charge(Deployment& deployment, const providers::TokenUsage& usage);
  void record_attempt(const AttemptResult& attempt, const Deployment& deployment,
                      std::optional<ErrorKind> error);
  ResponseHead head(int status) const;

  ThreadParts parts_;
  const GatewayRequest& request_;
  ClientSink& sink_;
  const Clock& clock_;
  TimePoint start_;
  Duration total_timeout_{};
  std::unique_ptr<Segment> segment_;
  std::vector<const Alias*> visited_;
  std::deque<const Alias*> pending_;
  RetryBudget* retry_slot_ = nullptr;  // held while a retry attempt is pending or running
  std::optional<AttemptFailure> last_;
  std::string deployment_;  // answered or tried last
  std::optional<Duration> retry_after_;
  std::optional<TimePoint> earliest_reopen_;
  Duration pending_backoff_{};               // the wait before the next attempt (for its log line)
  std::optional<int64_t> estimated_tokens_;  // computed on first use (key pools only)
  std::optional<size_t> key_;                // the pool key of the running attempt
  const std::string model_label_;            // request_.model as metrics label it (model_labels.h)
  AnswerCheck check_;
  bool started_ = false;
  bool finished_ = false;
  RequestRecord record_;
};

}  // namespace sheepdog::gateway
