#include "resilience/retry_policy.h"

#include <algorithm>
#include <climits>
#include <string>

namespace sheepdog {
namespace {

std::string describe(Duration d) {
  const auto ns = d.count();
  if (ns % 1000000 == 0) {
    return std::to_string(ns / 1000000) + "ms";
  }
  return std::to_string(ns) + "ns";
}

// start + span without signed overflow: a huge total_timeout means "no deadline".
TimePoint saturating_add(TimePoint start, Duration span) {
  if (span > TimePoint::max() - start) {
    return TimePoint::max();
  }
  return start + span;
}

}  // namespace

Disposition RetryPolicy::disposition_for(ErrorKind kind) const {
  return dispositions[static_cast<size_t>(kind)].value_or(default_disposition(kind));
}

Status RetryPolicy::validate() const {
  if (max_attempts < 1) {
    return Status::error("max_attempts must be >= 1 (got " + std::to_string(max_attempts) + ")");
  }
  if (attempt_timeout <= Duration::zero()) {
    return Status::error("attempt_timeout must be > 0 (got " + describe(attempt_timeout) + ")");
  }
  if (total_timeout <= Duration::zero()) {
    return Status::error("total_timeout must be > 0 (got " + describe(total_timeout) + ")");
  }
  if (attempt_timeout > total_timeout) {
    return Status::error("attempt_timeout must be <= total_timeout (got " +
                         describe(attempt_timeout) + " > " + describe(total_timeout) + ")");
  }
  if (max_pushback < Duration::zero()) {
    return Status::error("max_pushback must be >= 0 (got " + describe(max_pushback) + ")");
  }
  if (Status backoff_status = backoff.validate(); !backoff_status.is_ok()) {
    return Status::error("backoff." + backoff_status.message());
  }
  return Status::ok();
}

std::string_view to_string(GiveUpReason reason) {
  switch (reason) {
    case GiveUpReason::kNone:
      return "none";
    case GiveUpReason::kNotRetryable:
      return "not_retryable";
    case GiveUpReason::kMaxAttempts:
      return "max_attempts";
    case GiveUpReason::kDeadline:
      return "deadline";
    case GiveUpReason::kPushbackTooLong:
      return "pushback_too_long";
    case GiveUpReason::kNoAlternative:
      return "no_alternative";
    case GiveUpReason::kBudgetExhausted:
      return "budget_exhausted";
    case GiveUpReason::kAllCircuitsOpen:
      return "all_circuits_open";
    case GiveUpReason::kKeysExhausted:
      return "keys_exhausted";
  }
  return "none";
}

RetryState::RetryState(const RetryPolicy& policy, RandomSource& random, TimePoint start)
    : policy_(policy),
      backoff_(policy.backoff, random),
      deadline_(saturating_add(start, policy.total_timeout)) {}

Duration RetryState::attempt_timeout(TimePoint now) const {
  if (now >= deadline_) {
    return Duration::zero();
  }
  return std::min(policy_.attempt_timeout, deadline_ - now);
}

RetryDecision RetryState::give_up(GiveUpReason reason, std::optional<Duration> retry_after) {
  RetryDecision decision;
  decision.action = RetryDecision::Action::kGiveUp;
  decision.reason = reason;
  decision.retry_after = retry_after;
  return decision;
}

RetryDecision RetryState::on_attempt(const AttemptOutcome& outcome,
                                     std::optional<Duration> pushback, TimePoint now,
                                     bool has_alternative) {
  if (attempts_ < INT_MAX) {
    ++attempts_;
  }
  if (outcome.succeeded()) {
    return RetryDecision{};
  }
  if (pushback && *pushback < Duration::zero()) {
    pushback = Duration::zero();
  }

  Disposition disposition = policy_.disposition_for(*outcome.error);
  if (policy_.honor_should_retry_header && outcome.should_retry.has_value()) {
    disposition = *outcome.should_retry ? Disposition::kRetry : Disposition::kFail;
  }
  if (disposition == Disposition::kFail) {
    return give_up(GiveUpReason::kNotRetryable);
  }
  if (attempts_ >= policy_.max_attempts) {
    return give_up(GiveUpReason::kMaxAttempts, pushback);
  }
  if (now >= deadline_) {
    return give_up(GiveUpReason::kDeadline, pushback);
  }
  // From here on now < deadline_, so time_left > 0 and comparing against it cannot overflow the
  // way now + delay could.
  const Duration time_left = deadline_ - now;

  RetryDecision decision;
  if (disposition == Disposition::kFallBack) {
    if (!has_alternative) {
      return give_up(GiveUpReason::kNoAlternative, pushback);
    }
    decision.action = RetryDecision::Action::kRetryNext;
    decision.delay = Duration::zero();
    return decision;
  }

  Duration delay = backoff_.next_delay();
  const bool next = policy_.prefer_other_deployment && has_alternative;
  decision.action = next ? RetryDecision::Action::kRetryNext : RetryDecision::Action::kRetrySame;
  // Pushback only concerns the deployment that sent it; a retry elsewhere does not wait for it.
  if (!next && policy_.honor_pushback && pushback) {
    if (*pushback > policy_.max_pushback || *pushback >= time_left) {
      if (!has_alternative) {
        return give_up(GiveUpReason::kPushbackTooLong, pushback);
      }
      decision.action = RetryDecision::Action::kRetryNext;
    } else {
      delay = std::max(delay, *pushback);
    }
  }
  if (delay >= time_left) {
    return give_up(GiveUpReason::kDeadline, pushback);
  }
  decision.delay = delay;
  total_backoff_ += delay;
  return decision;
}

}  // namespace sheepdog
