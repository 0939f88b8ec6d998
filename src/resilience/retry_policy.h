// Retries, in the shape of Envoy's router retry state: an immutable RetryPolicy validated at
// config load, and a per-request RetryState that answers, after each failed attempt, "retry after
// D, on the same or the next deployment" or "give up, because ...".
//
// The decision is pure: it does not wait, count metrics, or consult the shared retry budget or
// breakers. The caller (gateway executor or simulator) does those, so both behave identically:
//   decision = state.on_attempt(outcome, pushback, now, has_alternative);
//   if (decision.is_retry() && !budget.try_acquire_retry()) -> give up (kBudgetExhausted)
//   else wait decision.delay, then attempt again.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "core/clock.h"
#include "core/error_kind.h"
#include "core/random.h"
#include "core/status.h"
#include "resilience/backoff.h"
#include "resilience/outcome.h"

namespace sheepdog {

struct RetryPolicy {
  int max_attempts = 3;                    // attempts in total, the first included; >= 1
  Duration attempt_timeout = seconds(30);  // each attempt, capped by the time left
  Duration total_timeout = seconds(60);    // the request's deadline, from its start
  BackoffPolicy backoff;
  // Wait as long as the upstream asks (Retry-After & co.) when retrying the same deployment.
  bool honor_pushback = true;
  // Pushback longer than this is not waited out here: another deployment is tried, or the
  // request gives up carrying the pushback as the client's retry-after.
  Duration max_pushback = seconds(30);
  // Let the upstream's x-should-retry header override the kind's disposition (as the SDKs do).
  bool honor_should_retry_header = true;
  // After a retryable failure, go to the next deployment when one is available, rather than
  // hammering the same one (Envoy's "previous hosts" predicate).
  bool prefer_other_deployment = true;
  // Per-kind overrides of default_disposition(); nullopt keeps the default.
  std::array<std::optional<Disposition>, kErrorKindCount> dispositions{};

  Disposition disposition_for(ErrorKind kind) const;
  // Ok iff max_attempts >= 1, timeouts > 0, attempt_timeout <= total_timeout, max_pushback >= 0
  // and the backoff policy is valid. The message names the offending field.
  Status validate() const;
};

enum class GiveUpReason : unsigned char {
  kNone,
  kNotRetryable,     // the kind's disposition (or x-should-retry: false) says fail
  kMaxAttempts,      // max_attempts used up
  kDeadline,         // no time left, or the wait would end past the deadline
  kPushbackTooLong,  // the upstream asked for a wait beyond max_pushback or the deadline
  kNoAlternative,    // the kind says fall back, but there is nowhere left to go
  kBudgetExhausted,  // the shared retry budget refused (set by the caller)
  kAllCircuitsOpen,  // every candidate's breaker is open (set by the caller)
  kKeysExhausted,    // every API key of the candidates is at its limit past the deadline (caller)
};
std::string_view to_string(GiveUpReason reason);

struct RetryDecision {
  enum class Action : unsigned char { kDone, kRetrySame, kRetryNext, kGiveUp };
  Action action = Action::kDone;
  Duration delay{};  // retry actions: how long to wait before the next attempt
  GiveUpReason reason = GiveUpReason::kNone;  // kGiveUp only
  // kGiveUp with pushback: when the client may usefully come back (sent as retry-after).
  std::optional<Duration> retry_after;

  bool is_retry() const { return action == Action::kRetrySame || action == Action::kRetryNext; }
};

// Per-request retry state. Not thread-safe; one per request.
class RetryState {
 public:
  // `policy` and `random` must outlive this object. `start` is when the request arrived; the
  // deadline is start + total_timeout (saturating). REQUIRES: policy.validate() is ok.
  RetryState(const RetryPolicy& policy, RandomSource& random, TimePoint start);

  // Call after every attempt, success included. `pushback` is the upstream's parsed wait, if
  // any; `has_alternative` says whether another deployment could take the next attempt.
  // Rules, in order:
  //   1. success: kDone.
  //   2. disposition: x-should-retry (if honored and present) true -> retry, false -> fail;
  //      else policy.disposition_for(kind).
  //   3. fail: give up kNotRetryable.
  //   4. attempts() >= max_attempts: give up kMaxAttempts.
  //   5. now >= deadline: give up kDeadline.
  //   6. fall back: kRetryNext after 0 if has_alternative, else give up kNoAlternative.
  //   7. retry: delay = next backoff. Next deployment if prefer_other_deployment and
  //      has_alternative (the pushback, about the old deployment, is then ignored), else the
  //      same one, where an honored pushback beyond max_pushback or the deadline turns the retry
  //      to the next deployment (keeping the backoff delay) if there is one, else gives up
  //      kPushbackTooLong; a shorter pushback raises the delay to at least the pushback.
  //   8. a delay that ends at or past the deadline: give up kDeadline. Else the retry, its delay
  //      added to total_backoff().
  // Every give-up except kNotRetryable carries `pushback` as retry_after when there is one (the
  // upstream's word on when the client may come back); kNotRetryable carries none, since the
  // upstream or the kind said retrying cannot help. A negative pushback counts as zero.
  RetryDecision on_attempt(const AttemptOutcome& outcome, std::optional<Duration> pushback,
                           TimePoint now, bool has_alternative);

  // The timeout for an attempt starting at `now`: min(attempt_timeout, time left), >= 0.
  Duration attempt_timeout(TimePoint now) const;
  TimePoint deadline() const { return deadline_; }
  int attempts() const { return attempts_; }                 // attempts reported so far
  Duration total_backoff() const { return total_backoff_; }  // sum of retry delays decided

 private:
  RetryDecision give_up(GiveUpReason reason, std::optional<Duration> retry_after = std::nullopt);

  const RetryPolicy& policy_;
  Backoff backoff_;
  TimePoint deadline_;
  int attempts_ = 0;
  Duration total_backoff_{};
};

}  // namespace sheepdog
