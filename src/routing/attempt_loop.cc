#include "routing/attempt_loop.h"

#include <algorithm>
#include <cassert>

namespace sheepdog {
namespace {

// Give-ups after which the request walks on to the alias's fallbacks.
bool walks_on(GiveUpReason reason) {
  return reason == GiveUpReason::kMaxAttempts || reason == GiveUpReason::kNoAlternative ||
         reason == GiveUpReason::kPushbackTooLong;
}

}  // namespace

// One alias's share of the request: its retry state and its walk over the deployments.
struct AttemptLoop::Segment {
  Segment(const LoopAlias& a, RetryPolicy p, RandomSource& random, TimePoint start,
          std::vector<size_t> order)
      : alias(a), policy(std::move(p)), retry(policy, random, start), walk(a, std::move(order)) {
    if (alias.budget != nullptr) {
      alias.budget->request_started();
    }
  }
  ~Segment() {
    if (alias.budget != nullptr) {
      alias.budget->request_finished();
    }
  }

  const LoopAlias& alias;
  const RetryPolicy policy;  // before `retry`, which refers to it
  RetryState retry;
  CandidateWalk walk;
};

AttemptLoop::AttemptLoop(const LoopAlias& alias, LoopRequest request, RandomSource& random,
                         TimePoint start)
    : request_(std::move(request)),
      random_(random),
      start_(start),
      total_timeout_(alias.retry.total_timeout),
      ledger_(request_.rotation) {
  pending_.assign(alias.fallbacks.begin(), alias.fallbacks.end());
  enter(alias);
}

AttemptLoop::~AttemptLoop() {
  // A driver that stopped without cancel() (a coroutine destroyed mid-way) still balances the
  // shared counts. Time is unknown here; the start is a safe "now" for a release.
  cancel(start_);
}

const LoopAlias& AttemptLoop::alias() const { return segment_->alias; }
TimePoint AttemptLoop::deadline() const { return segment_->retry.deadline(); }

void AttemptLoop::enter(const LoopAlias& alias) {
  visited_.push_back(&alias);
  RetryPolicy policy = alias.retry;
  policy.total_timeout = total_timeout_;
  policy.attempt_timeout = std::min(policy.attempt_timeout, total_timeout_);
  RouteRequest route;
  if (alias.sticky_by == StickyBy::kUser) {
    route.sticky_key = request_.user;
  } else if (alias.sticky_by == StickyBy::kHeader && request_.header != nullptr &&
             *request_.header) {
    route.sticky_key = (*request_.header)(alias.sticky_header);
  }
  std::vector<DeploymentSnapshot> stats;
  if (alias.router->policy().strategy == RoutingStrategy::kLeastLatency) {
    for (const LoopTarget& t : alias.targets) {
      stats.push_back(t.stats != nullptr ? t.stats->snapshot() : DeploymentSnapshot{});
    }
    route.stats = stats;
  }
  std::vector<size_t> order = alias.router->plan(route, random_);
  segment_.reset();
  segment_ = std::make_unique<Segment>(alias, std::move(policy), random_, start_, std::move(order));
}

bool AttemptLoop::next_fallback() {
  while (!pending_.empty()) {
    const LoopAlias* alias = pending_.front();
    pending_.pop_front();
    if (std::find(visited_.begin(), visited_.end(), alias) == visited_.end()) {
      enter(*alias);
      return true;
    }
  }
  return false;
}

bool AttemptLoop::acquire_retry_slot(const LoopAlias& alias) {
  release_retry_slot();
  if (alias.budget == nullptr) {
    return true;
  }
  if (!alias.budget->try_acquire_retry()) {
    return false;
  }
  retry_slot_ = alias.budget;
  return true;
}

void AttemptLoop::release_retry_slot() {
  if (retry_slot_ != nullptr) {
    retry_slot_->retry_finished();
    retry_slot_ = nullptr;
  }
}

AttemptLoop::Move AttemptLoop::retry_on_fallback(ErrorKind cause) {
  if (!next_fallback()) {
    return Move::kNone;
  }
  if (!acquire_retry_slot(segment_->alias)) {
    return Move::kNoBudget;
  }
  if (request_.observer != nullptr) {
    request_.observer->on_retry(cause);
  }
  return Move::kMoved;
}

int64_t AttemptLoop::estimate() {
  if (!estimate_) {
    estimate_ = request_.estimate_tokens ? request_.estimate_tokens() : 0;
  }
  return *estimate_;
}

LoopCommand AttemptLoop::start(TimePoint now) { return pick(Want::kFirst, now); }

LoopCommand AttemptLoop::give_up(GiveUpReason reason, ErrorKind error, TimePoint now) {
  release_retry_slot();
  over_ = true;
  LoopCommand c;
  c.kind = LoopCommand::Kind::kGiveUp;
  c.reason = reason;
  c.retry_after = retry_after_;
  c.error = error;
  if (reason == GiveUpReason::kAllCircuitsOpen && earliest_reopen_) {
    c.retry_after = std::max(Duration::zero(), *earliest_reopen_ - now);
  }
  if (reason == GiveUpReason::kDeadline) {
    c.error = ErrorKind::kDeadlineExceeded;
  } else if (reason == GiveUpReason::kAllCircuitsOpen) {
    c.error = ErrorKind::kCircuitOpen;
  }
  return c;
}

LoopCommand AttemptLoop::wait(Duration delay, Want then) {
  after_wait_ = then;
  pending_backoff_ += delay;
  LoopCommand c;
  c.kind = LoopCommand::Kind::kWait;
  c.delay = delay;
  return c;
}

LoopCommand AttemptLoop::on_wait_finished(TimePoint now) { return pick(after_wait_, now); }

LoopCommand AttemptLoop::pick(Want want, TimePoint now) {
  for (;;) {
    const ErrorKind last = last_error_.value_or(ErrorKind::kCircuitOpen);
    if (now >= segment_->retry.deadline()) {
      return give_up(GiveUpReason::kDeadline, last, now);
    }
    const std::optional<size_t> picked =
        segment_->walk.acquire(want, now);
    if (!picked) {
      release_retry_slot();
      if (const std::optional<TimePoint> reopen = segment_->walk.earliest_reopen(now)) {
        earliest_reopen_ = earliest_reopen_ ? std::min(*earliest_reopen_, *reopen) : *reopen;
      }
      if (next_fallback()) {
        if (!acquire_retry_slot(segment_->alias)) {
          return give_up(GiveUpReason::kBudgetExhausted, last, now);
        }
        want = Want::kFirst;
        continue;
      }
      return give_up(GiveUpReason::kAllCircuitsOpen, last, now);
    }
    const LoopAlias& alias = segment_->alias;
    const LoopTarget& target = alias.targets[*picked];
    std::optional<size_t> key;
    if (target.keys != nullptr) {
      key = target.keys->acquire(estimate(), now);
      if (!key) {
        // Admitted by the breaker but never called: released, which frees a probe slot.
        AttemptLedger::release_unmade(target, now);
        if (segment_->walk.has_alternative(now)) {
          segment_->walk.exclude(*picked);
          want = Want::kNext;
          continue;
        }
        const std::optional<TimePoint> free_at = target.keys->next_available(estimate(), now);
        if (free_at && *free_at < segment_->retry.deadline()) {
          if (request_.observer != nullptr) {
            request_.observer->on_keys_short(alias, *picked, true, false);
          }
          return wait(std::max(Duration::zero(), *free_at - now), Want::kSame);
        }
        if (request_.observer != nullptr) {
          request_.observer->on_keys_short(alias, *picked, false, !free_at);
        }
        retry_after_ = free_at ? std::optional(*free_at - now) : std::nullopt;
        last_error_ = ErrorKind::kRateLimited;
        const Move move = retry_on_fallback(ErrorKind::kRateLimited);
        if (move == Move::kMoved) {
          want = Want::kFirst;
          continue;
        }
        return give_up(move == Move::kNoBudget ? GiveUpReason::kBudgetExhausted
                                               : GiveUpReason::kKeysExhausted,
                       ErrorKind::kRateLimited, now);
      }
      if (request_.observer != nullptr) {
        request_.observer->on_key_used(alias, *picked, *key);
      }
    }
    if (target.stats != nullptr) {
      target.stats->on_start();
    }
    ++attempts_;
    open_ = OpenAttempt{&alias, *picked, key, key ? estimate() : 0, retry_slot_};
    retry_slot_ = nullptr;  // the attempt holds it now; the ledger returns it
    LoopCommand c;
    c.kind = LoopCommand::Kind::kAttempt;
    c.alias = &alias;
    c.target = *picked;
    c.key = key;
    c.attempt_timeout = segment_->retry.attempt_timeout(now);
    c.deadline = segment_->retry.deadline();
    c.backoff = pending_backoff_;
    return c;
  }
}

LoopCommand AttemptLoop::on_attempt_ended(const AttemptEnd& end, TimePoint now) {
  assert(open_);
  const OpenAttempt open = *open_;
  open_.reset();
  const Settlement settled = ledger_.settle(open, end, now);
  if (settled.key_refused && request_.observer != nullptr) {
    request_.observer->on_key_rested(*open.alias, open.target, *open.key);
  }
  if (request_.observer != nullptr) {
    request_.observer->on_settled(open, settled, pending_backoff_);
  }
  pending_backoff_ = Duration::zero();
  if (end.verdict == Verdict::kFailure) {
    last_error_ = settled.error;
  }
  if (end.final || end.verdict == Verdict::kSuccess || end.verdict == Verdict::kNeutral) {
    over_ = true;
    LoopCommand c;
    c.kind = LoopCommand::Kind::kDone;
    return c;
  }
  if (end.verdict == Verdict::kInvalid) {
    if (!end.resend) {
      over_ = true;
      return LoopCommand{};
    }
    if (request_.observer != nullptr) {
      request_.observer->on_retry(ErrorKind::kInvalidToolCall);
    }
    LoopCommand c = pick(Want::kSame, now);
    c.resend = c.kind == LoopCommand::Kind::kAttempt;
    return c;
  }
  return after_failure(end, settled, now);
}

LoopCommand AttemptLoop::after_failure(const AttemptEnd& end, const Settlement& settled,
                                       TimePoint now) {
  const ErrorKind kind = *settled.error;
  const bool rotate = settled.key_free_now && request_.rotation.rotate;

  // Too long for this model: only a larger one helps, so go there directly.
  if (kind == ErrorKind::kContextLengthExceeded &&
      segment_->alias.context_window_fallback != nullptr) {
    const LoopAlias* larger = segment_->alias.context_window_fallback;
    pending_.assign(larger->fallbacks.begin(), larger->fallbacks.end());
    pending_.push_front(larger);
    const Move move = retry_on_fallback(kind);
    if (move == Move::kNoBudget) {
      return give_up(GiveUpReason::kBudgetExhausted, kind, now);
    }
    if (move == Move::kMoved) {
      return pick(Want::kFirst, now);
    }
  }

  const bool alternative = segment_->walk.has_alternative(now);
  RetryDecision decision = segment_->retry.on_attempt(
      end.outcome, rotate ? std::nullopt : end.pushback, now, alternative || rotate);
  if (rotate && decision.reason != GiveUpReason::kMaxAttempts &&
      decision.reason != GiveUpReason::kDeadline) {
    decision.action = RetryDecision::Action::kRetrySame;
    decision.delay = Duration::zero();
    decision.reason = GiveUpReason::kNone;
  }
  if (decision.action == RetryDecision::Action::kGiveUp) {
    retry_after_ = decision.retry_after;
    const Move move = walks_on(decision.reason) ? retry_on_fallback(kind) : Move::kNone;
    if (move == Move::kNoBudget) {
      return give_up(GiveUpReason::kBudgetExhausted, kind, now);
    }
    if (move == Move::kMoved) {
      return pick(Want::kFirst, now);
    }
    return give_up(decision.reason, kind, now);
  }
  if (!rotate && segment_->policy.disposition_for(kind) == Disposition::kFallBack) {
    if (const std::optional<size_t> current = segment_->walk.current()) {
      segment_->walk.exclude(*current);
    }
  }
  if (!acquire_retry_slot(segment_->alias)) {
    retry_after_ = end.pushback;
    return give_up(GiveUpReason::kBudgetExhausted, kind, now);
  }
  if (request_.observer != nullptr) {
    request_.observer->on_retry(kind);
  }
  const Want next =
      decision.action == RetryDecision::Action::kRetrySame ? Want::kSame : Want::kNext;
  if (decision.delay > Duration::zero()) {
    return wait(decision.delay, next);
  }
  return pick(next, now);
}

void AttemptLoop::cancel(TimePoint now) {
  if (open_) {
    const OpenAttempt open = *open_;
    open_.reset();
    AttemptEnd end;
    end.verdict = Verdict::kNeutral;
    ledger_.settle(open, end, now);
  }
  release_retry_slot();
  over_ = true;
}

}  // namespace sheepdog
