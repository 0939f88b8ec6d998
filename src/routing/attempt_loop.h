// The attempt loop of one request, pure: events in, commands out. The gateway's interpreter
// (gateway/request_run.h) and the simulator (sim/simulator.cc) drive this very class, so what
// `sheepdog simulate` reports is what production does. No I/O, no clock, no asio: time comes
// with every event, randomness through the RandomSource given at construction.
//
//   start(now)                 -> the first command
//   attempt ended(end, now)    -> the next command   (end: verdict, outcome, pushback, usage)
//   wait finished(now)         -> the next command
//   cancel(now)                   the client went away: whatever is open is released
//
// Commands: kAttempt (deployment `target` of `alias`, with pool key `key`, within
// `attempt_timeout`), kWait (`delay`, then wait_finished), kDone (the answer stands; the request
// is over), kGiveUp (`reason`, `retry_after`, and the failure kind to report).
//
// What the loop owns, in the order it applies them:
//   candidates   the router's order per alias, walked by CandidateWalk (breakers admit;
//                "next" prefers untried deployments; a failure whose kind falls back excludes
//                that deployment for the request)
//   keys         a key with room for the request's estimated tokens from the deployment's pool;
//                none: another deployment if one could take the call, else wait for the first
//                key to free up if that is before the deadline, else a fallback alias, else
//                give up kKeysExhausted with retry-after. A refused key rests (key_rotation.h)
//                and, with rotation, the same deployment is retried at once with another key
//   retries      RetryState::on_attempt per alias (each fallback alias has its own attempts
//                and backoff; all share the requested alias's deadline); every retry, and a
//                fallback alias's first attempt, takes a slot of that alias's retry budget
//   fallbacks    the alias's fallbacks in order, walked when it gives up for max attempts,
//                no alternative or a pushback too long, or when no breaker admits; a
//                context_length_exceeded goes straight to the context_window_fallback alias
//                (then its own fallbacks)
//   settlement   every attempt ends in the AttemptLedger (attempt_ledger.h)
//   invalid      an answer that failed validation (kInvalid) is resent to the same deployment
//                when the caller's tool-call state says so, outside max_attempts
//
// Not thread-safe; one per request. REQUIRES: every LoopAlias reachable from the first outlives
// the loop; the random source too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error_kind.h"
#include "core/random.h"
#include "resilience/key_rotation.h"
#include "resilience/retry_policy.h"
#include "routing/attempt_ledger.h"
#include "routing/candidate_walk.h"
#include "routing/loop_alias.h"

namespace sheepdog {

struct LoopCommand {
  enum class Kind : unsigned char { kAttempt, kWait, kDone, kGiveUp };
  Kind kind = Kind::kDone;

  // kAttempt
  const LoopAlias* alias = nullptr;
  size_t target = 0;
  std::optional<size_t> key;
  Duration attempt_timeout{};  // min(the alias's attempt timeout, the time left)
  TimePoint deadline{};        // the request's
  Duration backoff{};          // waited since the previous attempt (for its record)
  bool resend = false;         // a resend of an invalid answer (the caller reshapes the body)

  // kWait
  Duration delay{};

  // kGiveUp
  GiveUpReason reason = GiveUpReason::kNone;
  std::optional<Duration> retry_after;
  // The kind the request failed with: the last attempt's, rate_limited when keys ran out,
  // circuit_open when no breaker admitted, deadline_exceeded at the deadline.
  ErrorKind error = ErrorKind::kCircuitOpen;
};

// What the loop tells its driver along the way (metrics, logs, error details). Defaults do
// nothing.
class LoopObserver {
 public:
  virtual ~LoopObserver() = default;
  // A retry (or a fallback alias's first attempt, or a resend) was decided after `cause`.
  virtual void on_retry(ErrorKind /*cause*/) {}
  // Key `key` of target `target` of `alias` was taken for an attempt / rested after a refusal.
  virtual void on_key_used(const LoopAlias& /*alias*/, size_t /*target*/, size_t /*key*/) {}
  virtual void on_key_rested(const LoopAlias& /*alias*/, size_t /*target*/, size_t /*key*/) {}
  // No key of the target had room: the request `waited` for one, or could not (then `never`
  // says the estimate exceeds every key's tokens-per-minute limit).
  virtual void on_keys_short(const LoopAlias& /*alias*/, size_t /*target*/, bool /*waited*/,
                             bool /*never*/) {}
  // An attempt was settled (after the ledger, before the next command).
  virtual void on_settled(const OpenAttempt& /*attempt*/, const Settlement& /*settlement*/,
                          Duration /*backoff*/) {}
};

struct LoopRequest {
  // The request's estimated tokens, asked for (once) when a key pool needs it.
  std::function<int64_t()> estimate_tokens;
  std::string_view user;  // for aliases sticky by user
  // For aliases sticky by a header: looks up the request's value of a header ("" if absent);
  // null: no headers. Must outlive the loop.
  const std::function<std::string_view(std::string_view)>* header = nullptr;
  KeyRotationPolicy rotation;
  LoopObserver* observer = nullptr;  // may be null
};

class AttemptLoop {
 public:
  // `alias` is the requested alias: its total timeout is the request's deadline from `start`.
  AttemptLoop(const LoopAlias& alias, LoopRequest request, RandomSource& random,
              TimePoint start);
  ~AttemptLoop();
  AttemptLoop(const AttemptLoop&) = delete;
  AttemptLoop& operator=(const AttemptLoop&) = delete;

  LoopCommand start(TimePoint now);
  // REQUIRES: the last command was kAttempt.
  LoopCommand on_attempt_ended(const AttemptEnd& end, TimePoint now);
  // REQUIRES: the last command was kWait.
  LoopCommand on_wait_finished(TimePoint now);
  // The request ends without another command (the client left, or the driver stops): an open
  // attempt is settled neutral, a held retry slot returned. Idempotent.
  void cancel(TimePoint now);

  int attempts() const { return attempts_; }            // attempts commanded so far
  const TokenUsage& usage() const { return ledger_.usage(); }
  const OpenAttempt* open() const { return open_ ? &*open_ : nullptr; }
  const LoopAlias& alias() const;                        // the alias being walked
  TimePoint deadline() const;

 private:
  struct Segment;
  using Want = CandidateWalk::Want;
  enum class Move : unsigned char { kMoved, kNone, kNoBudget };

  void enter(const LoopAlias& alias);
  bool next_fallback();
  bool acquire_retry_slot(const LoopAlias& alias);
  void release_retry_slot();
  Move retry_on_fallback(ErrorKind cause);
  LoopCommand pick(Want want, TimePoint now);
  LoopCommand after_failure(const AttemptEnd& end, const Settlement& settled, TimePoint now);
  LoopCommand give_up(GiveUpReason reason, ErrorKind error, TimePoint now);
  LoopCommand wait(Duration delay, Want then);
  int64_t estimate();

  LoopRequest request_;
  RandomSource& random_;
  const TimePoint start_;
  const Duration total_timeout_;
  AttemptLedger ledger_;
  std::unique_ptr<Segment> segment_;
  std::vector<const LoopAlias*> visited_;
  std::deque<const LoopAlias*> pending_;
  RetryBudget* retry_slot_ = nullptr;  // held while a retry is pending or running
  std::optional<OpenAttempt> open_;
  std::optional<int64_t> estimate_;
  std::optional<ErrorKind> last_error_;
  std::optional<Duration> retry_after_;
  std::optional<TimePoint> earliest_reopen_;
  Duration pending_backoff_{};
  Want after_wait_ = Want::kSame;
  int attempts_ = 0;
  bool over_ = false;
};

}  // namespace sheepdog
