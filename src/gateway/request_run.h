// One request's run: the interpreter of the pure attempt loop (routing/attempt_loop.h), which
// decides every step (which deployment and key, wait how long, fall back where, give up why)
// and settles every attempt in its ledger (routing/attempt_ledger.h). What is left here is the
// I/O the loop's commands ask for:
//
//   kAttempt   run_attempt (encode, pooled upstream call, classify, decode, pushback) on the
//              deployment and key named; a 2xx answer goes through validation and to the client
//              (non-streamed: sent whole; streamed: relayed event by event); then the attempt's
//              end (verdict, outcome, pushback, usage) goes back to the loop
//   kWait      the thread's WaitTimer (ended early if the client leaves)
//   kGiveUp    the mapped error answer (error_mapping.h) with retry-after
//   kDone      nothing: the answer went out with the attempt that ended the request
// plus what the loop reports along the way (LoopObserver): one log line and metric per attempt
// and per request, key metrics, the failure to describe in a give-up answer.
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
#include <optional>
#include <string>

#include "core/random.h"
#include "gateway/answer_check.h"
#include "gateway/attempt.h"
#include "gateway/client_sink.h"
#include "gateway/error_mapping.h"
#include "gateway/observer.h"
#include "gateway/runtime.h"
#include "gateway/stream_relay.h"
#include "routing/attempt_loop.h"
#include "gateway/wait_timer.h"
#include "upstream/transport.h"

namespace sheepdog::gateway {

// What a request run needs from its io thread.
struct ThreadParts {
  Runtime& runtime;
  upstream::Transport& transport;  // the pooled client, or a test's scripted upstream
  WaitTimer& timer;                // backoff and key waits
  RandomSource& random;
  Observer& observer;
};

class RequestRun final : private LoopObserver {
 public:
  // `request` and `sink` must outlive the run.
  RequestRun(ThreadParts parts, const GatewayRequest& request, ClientSink& sink);
  ~RequestRun() override;
  RequestRun(const RequestRun&) = delete;
  RequestRun& operator=(const RequestRun&) = delete;

  // Runs the loop and answers the client. REQUIRES: called once, with the request's alias
  // resolved (the caller answers unknown models itself).
  boost::asio::awaitable<void> run(const Alias& alias);

 private:
  // Runs the attempt `command` names; returns the loop's next command.
  boost::asio::awaitable<LoopCommand> attempt(const LoopCommand& command,
                                              providers::EncodeInput& input);
  // Hands the attempt's end to the loop (which settles it and logs it through on_settled).
  LoopCommand settle(AttemptResult& attempt, const AttemptEnd& end);
  LoopCommand settle_failure(AttemptResult& attempt, const Deployment& deployment);

  // A 2xx answer (non-streamed, or a stream whose first event arrived): validated when the
  // policy says so (answer_check.h), then sent. Returns the loop's next command: kDone once
  // answered, an attempt to resend an invalid answer, or, for a held-back stream that broke
  // before the client saw any of it, whatever follows that failure.
  boost::asio::awaitable<LoopCommand> on_answer(AttemptResult& attempt, Deployment& deployment,
                                                providers::EncodeInput& input);
  boost::asio::awaitable<LoopCommand> answer_gated_stream(AttemptResult& attempt,
                                                          Deployment& deployment,
                                                          providers::EncodeInput& input);
  // The answer failed validation: settled as kInvalid (the deployment did its job), then the
  // 502 (kFail) or the resend (kRetry).
  boost::asio::awaitable<LoopCommand> after_invalid(AnswerCheck::Verdict verdict,
                                                    AttemptResult& attempt,
                                                    Deployment& deployment);
  // A stream's upstream and client time, into the attempt and the request record.
  void absorb_relay(AttemptResult& attempt, const RelayResult& relay);
  boost::asio::awaitable<void> answer_invalid(const Deployment& deployment);
  boost::asio::awaitable<LoopCommand> answer_success(AttemptResult& attempt);
  // Ends a stream that reached the client (or was meant to) in the loop, and the request.
  // `invalid`: it ended as an invalid answer (the deployment itself did fine).
  void settle_stream(AttemptResult& attempt, const RelayResult& relay, bool started,
                     bool invalid);
  ResponseHead stream_head() const;

  boost::asio::awaitable<bool> wait(Duration delay);
  boost::asio::awaitable<void> give_up(const LoopCommand& command);
  void finish(std::optional<ErrorKind> error, GiveUpReason reason, int status);
  ResponseHead head(int status) const;
  Deployment& deployment_of(const LoopAlias& alias, size_t target) const;

  // LoopObserver
  void on_retry(ErrorKind cause) override;
  void on_key_used(const LoopAlias& alias, size_t target, size_t key) override;
  void on_key_rested(const LoopAlias& alias, size_t target, size_t key) override;
  void on_keys_short(const LoopAlias& alias, size_t target, bool waited, bool never) override;
  void on_settled(const OpenAttempt& attempt, const Settlement& settlement,
                  Duration backoff) override;

  ThreadParts parts_;
  const GatewayRequest& request_;
  ClientSink& sink_;
  const Clock& clock_;
  TimePoint start_;
  Duration total_timeout_{};
  std::optional<AttemptFailure> last_;
  std::string deployment_;                // answered or tried last
  const AttemptResult* settling_ = nullptr;  // the attempt being settled (for on_settled)
  const std::string model_label_;  // request_.model as metrics label it (model_labels.h)
  AnswerCheck check_;
  bool started_ = false;
  bool finished_ = false;
  RequestRecord record_;
  std::optional<AttemptLoop> loop_;  // last: it refers to parts_.random and outlives nothing
};

}  // namespace sheepdog::gateway
