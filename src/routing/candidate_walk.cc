#include "routing/candidate_walk.h"

#include <algorithm>

namespace sheepdog {

CandidateWalk::CandidateWalk(const LoopAlias& alias, std::vector<size_t> order)
    : alias_(alias), order_(std::move(order)) {}

bool CandidateWalk::try_admit(size_t i, TimePoint now) {
  if (excluded_.test(i) || !alias_.targets[i].breaker->try_acquire(now)) {
    return false;
  }
  tried_.set(i);
  current_ = i;
  return true;
}

std::optional<size_t> CandidateWalk::acquire(Want want, TimePoint now) {
  if (want == Want::kSame && current_ && try_admit(*current_, now)) {
    return current_;
  }
  const std::optional<size_t> previous = current_;
  // Untried deployments, in preference order.
  for (size_t i : order_) {
    if (!tried_.test(i) && try_admit(i, now)) {
      return i;
    }
  }
  // Deployments tried before, cyclically after the current one, which comes last.
  size_t start = 0;
  if (previous) {
    const auto it = std::find(order_.begin(), order_.end(), *previous);
    start = it == order_.end() ? 0 : static_cast<size_t>(it - order_.begin()) + 1;
  }
  for (size_t k = 0; k < order_.size(); ++k) {
    const size_t i = order_[(start + k) % order_.size()];
    if (tried_.test(i) && try_admit(i, now)) {
      return i;
    }
  }
  return std::nullopt;
}

void CandidateWalk::exclude(size_t i) { excluded_.set(i); }

bool CandidateWalk::has_alternative(TimePoint now) const {
  for (size_t i : order_) {
    if (current_ && i == *current_) {
      continue;
    }
    if (!excluded_.test(i) && alias_.targets[i].breaker->state(now) != BreakerState::kOpen) {
      return true;
    }
  }
  return false;
}

std::optional<TimePoint> CandidateWalk::earliest_reopen(TimePoint now) const {
  std::optional<TimePoint> earliest;
  for (size_t i : order_) {
    const CircuitBreaker& breaker = *alias_.targets[i].breaker;
    if (breaker.state(now) == BreakerState::kOpen) {
      const TimePoint until = breaker.open_until();
      if (!earliest || until < *earliest) {
        earliest = until;
      }
    }
  }
  return earliest;
}

}  // namespace sheepdog
