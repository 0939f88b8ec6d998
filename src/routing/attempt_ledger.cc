#include "routing/attempt_ledger.h"

namespace sheepdog {

Settlement AttemptLedger::settle(const OpenAttempt& open, const AttemptEnd& end, TimePoint now) {
  const LoopTarget& target = open.alias->targets[open.target];
  RetryBudget* budget = open.alias->budget;
  Settlement s;
  usage_ += end.usage;
  if (open.key && target.keys != nullptr && end.usage.reported) {
    target.keys->record_usage(*open.key, open.charged_tokens, end.usage.total(), now);
  }
  switch (end.verdict) {
    case Verdict::kSuccess:
    case Verdict::kInvalid:
      target.breaker->record(AttemptOutcome::success(), now);
      if (target.stats != nullptr) {
        target.stats->on_success(end.latency);
      }
      if (budget != nullptr) {
        budget->record_success();
      }
      if (end.verdict == Verdict::kInvalid) {
        s.error = ErrorKind::kInvalidToolCall;
      }
      break;
    case Verdict::kFailure: {
      const ErrorKind kind = end.outcome.error.value_or(ErrorKind::kServerError);
      s.error = kind;
      s.key_refused = open.key && target.keys != nullptr && KeyRotationPolicy::rests_key(kind);
      if (s.key_refused) {
        target.breaker->release(now);
        target.keys->cool_down(*open.key, rotation_.rest_for(kind, end.pushback), now);
        s.key_free_now = target.keys->next_available(open.charged_tokens, now) == now;
      } else {
        target.breaker->record(end.outcome, now);
        if (budget != nullptr) {
          budget->record_failure();
        }
      }
      if (target.stats != nullptr) {
        target.stats->on_failure();
      }
      break;
    }
    case Verdict::kNeutral:
      s.error = ErrorKind::kCancelled;
      target.breaker->release(now);
      if (target.stats != nullptr) {
        target.stats->on_abandon();
      }
      break;
  }
  if (open.retry_slot != nullptr) {
    open.retry_slot->retry_finished();
  }
  return s;
}

void AttemptLedger::release_unmade(const LoopTarget& target, TimePoint now) {
  target.breaker->release(now);
}

}  // namespace sheepdog
